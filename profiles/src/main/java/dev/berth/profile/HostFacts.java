package dev.berth.profile;

import java.nio.file.Path;
import java.util.List;

/**
 * What rendering needs to know about the host, passed in so that rendering stays a pure function.
 *
 * @param cgroups       the cgroup interface containers get: v1 keys ({@code lxc.cgroup.*}) or v2 ({@code lxc.cgroup2.*})
 * @param memoryBytes   the host's memory, for percentage limits
 * @param volumesDir    where the agent keeps named volumes
 * @param defaultBridge the agent's managed bridge
 * @param idmapStart    first host id of the range unprivileged containers map root to
 * @param idmapSize     size of that range
 * @param hostPathAllowList the host directories under which profiles may mount host paths
 */
public record HostFacts(Cgroups cgroups, long memoryBytes, Path volumesDir, String defaultBridge, long idmapStart,
                        long idmapSize, List<Path> hostPathAllowList) {

    public HostFacts {
        hostPathAllowList = List.copyOf(hostPathAllowList);
    }

    /** Whether {@code hostPath} lies under a directory of the allow-list. */
    public boolean allowsHostPath(String hostPath) {
        Path path = Path.of(hostPath).normalize();
        return hostPathAllowList.stream().anyMatch(path::startsWith);
    }

    public enum Cgroups { V1, V2 }
}
