package dev.berth.agent.instance;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Berth's own record of a container, written atomically beside liblxc's config as {@code berth.json}:
 * what it was made from, so that it can be re-composed, upgraded and re-adopted.
 */
public record ContainerRecord(String name, String imageFingerprint, List<String> profiles, Map<String, String> overrides,
                              Instant created) {
}
