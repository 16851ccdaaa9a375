package dev.berth.agent.image;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A base system image in the store.
 *
 * @param fingerprint sha256 of the canonical rootfs ({@link Fingerprint})
 * @param aliases     names it is known by, such as {@code busybox}
 * @param size        bytes of its files
 * @param created     when it was built or imported
 * @param recipe      how it was made (kind and parameters), enough to make it again
 * @param lxcConfig   LXC config items containers of this image need (their init's halt signal, ...)
 * @param rootfs      its root filesystem, shared read-only by the containers made from it
 */
public record Image(String fingerprint, List<String> aliases, long size, Instant created, Map<String, String> recipe,
                    Map<String, String> lxcConfig, Path rootfs) {
}
