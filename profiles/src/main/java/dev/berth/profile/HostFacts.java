package dev.berth.profile;

import java.nio.file.Path;

/**
 * What rendering needs to know about the host, passed in so that rendering stays a pure function.
 *
 * @param cgroups       the cgroup interface containers get: v1 keys ({@code lxc.cgroup.*}) or v2 ({@code lxc.cgroup2.*})
 * @param memoryBytes   the host's memory, for percentage limits
 * @param volumesDir    where the agent keeps named volumes
 * @param defaultBridge the agent's managed bridge
 * @param idmapStart    first host id of the range unprivileged containers map root to
 * @param idmapSize     size of that range
 */
public record HostFacts(Cgroups cgroups, long memoryBytes, Path volumesDir, String defaultBridge, long idmapStart,
                        long idmapSize) {

    public enum Cgroups { V1, V2 }
}
