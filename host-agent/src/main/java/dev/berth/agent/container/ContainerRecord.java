package dev.berth.agent.container;

import dev.berth.agent.net.Forwarder;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Berth's own record of a container, written atomically beside liblxc's config as {@code berth.json}:
 * what it was made from, so that it can be re-composed, upgraded and re-adopted, and which
 * operation, if any, was under way on it ({@link Status}), so that an agent killed in the middle of
 * one finishes or undoes it when it comes back.
 */
public record ContainerRecord(String name, String imageFingerprint, List<String> profiles, Map<String, Object> overrides,
                              Instant created, Status status, String address, List<Forwarder.Forward> forwards, boolean ephemeral,
                              Long idmapStart) {

    public ContainerRecord {
        forwards = forwards == null ? List.of() : List.copyOf(forwards);
    }

    /**
     * A privileged container's record, or one made before containers had their own id ranges.
     *
     * @param idmapStart (the other constructor) the first host id of the container's own range of 65,536, or null
     *        when it has none (privileged, or an unprivileged container on the old shared range)
     */
    public ContainerRecord(String name, String imageFingerprint, List<String> profiles, Map<String, Object> overrides,
                           Instant created, Status status, String address, List<Forwarder.Forward> forwards, boolean ephemeral) {
        this(name, imageFingerprint, profiles, overrides, created, status, address, forwards, ephemeral, null);
    }

    /** {@code CREATING} and {@code DELETING} are intents: written before the work, replaced after it. */
    public enum Status { CREATING, READY, DELETING }

    ContainerRecord with(Status newStatus) {
        return new ContainerRecord(name, imageFingerprint, profiles, overrides, created, newStatus, address, forwards, ephemeral,
                idmapStart);
    }
}
