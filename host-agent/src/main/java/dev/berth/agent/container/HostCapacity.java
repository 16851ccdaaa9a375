package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.profile.HostFacts;
import dev.berth.profile.ProfileSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;

/**
 * What the host can give, checked before a launch makes anything: limits above the host's memory or
 * CPUs, CPUs it does not have, a memory limit too small to start a container in, a bridge that does
 * not exist. liblxc would fail these only at the start, in its own words ("Failed to create veth pair").
 */
final class HostCapacity {

    /** Below this, liblxc's own start (veth, monitor, init) runs out of memory in the container's cgroup. */
    static final long MIN_MEMORY = 8L << 20;

    private HostCapacity() {
    }

    static void check(ProfileSpec spec, HostFacts host) {
        ProfileSpec.Limits limits = spec.limits();
        if (limits != null && limits.memory() != null) {
            long bytes = limits.memory().resolve(host.memoryBytes());
            if (bytes > host.memoryBytes()) {
                throw new AgentException.Invalid("limits.memory " + mib(bytes) + " is more than this host has (" + mib(host.memoryBytes())
                        + "); ask for less, or a percentage of the host (50%)");
            }
            if (bytes < MIN_MEMORY) {
                throw new AgentException.Invalid("limits.memory " + bytes + " bytes is too little to start a container in;"
                        + " give it at least " + mib(MIN_MEMORY));
            }
        }
        if (limits != null && limits.cpu() != null) {
            BitSet online = onlineCpus();
            if (limits.cpu().count() != null && limits.cpu().count() > online.cardinality()) {
                throw new AgentException.Invalid("limits.cpu " + format(limits.cpu().count()) + " is more than the host's "
                        + online.cardinality() + " CPUs (online: " + cpuList(online) + ")");
            }
            if (limits.cpu().set() != null) {
                for (String range : limits.cpu().set().split(",")) {
                    String[] ends = range.split("-");
                    int from = Integer.parseInt(ends[0]);
                    int to = ends.length == 2 ? Integer.parseInt(ends[1]) : from;
                    for (int cpu = from; cpu <= to; cpu++) {
                        if (!online.get(cpu)) {
                            throw new AgentException.Invalid("limits.cpu " + limits.cpu().set() + " names CPU " + cpu
                                    + ", which this host does not have online (online: " + cpuList(online) + ")");
                        }
                    }
                }
            }
        }
        ProfileSpec.Network network = spec.network();
        if (network != null && network.bridge() != null && !network.bridge().equals(host.defaultBridge())
                && !Files.isDirectory(Path.of("/sys/class/net", network.bridge(), "bridge"))) {
            throw new AgentException.Invalid("network.bridge " + network.bridge() + " is not a bridge on this host"
                    + " (ip -br link show type bridge lists them); create it, or leave network.bridge out for the agent's own");
        }
    }

    /** The online CPUs, from /sys (the JVM's count follows its own cgroup, not the host). */
    static BitSet onlineCpus() {
        BitSet cpus = new BitSet();
        try {
            for (String range : Files.readString(Path.of("/sys/devices/system/cpu/online")).strip().split(",")) {
                String[] ends = range.split("-");
                cpus.set(Integer.parseInt(ends[0]), (ends.length == 2 ? Integer.parseInt(ends[1]) : Integer.parseInt(ends[0])) + 1);
            }
        } catch (IOException | RuntimeException e) {
            cpus.set(0, Runtime.getRuntime().availableProcessors());
        }
        return cpus;
    }

    private static String cpuList(BitSet cpus) {
        StringBuilder out = new StringBuilder();
        for (int start = cpus.nextSetBit(0); start >= 0; ) {
            int end = cpus.nextClearBit(start) - 1;
            out.append(out.isEmpty() ? "" : ",").append(start).append(end > start ? "-" + end : "");
            start = cpus.nextSetBit(end + 1);
        }
        return out.toString();
    }

    private static String mib(long bytes) {
        return bytes >= 1L << 30 ? String.format("%.1f GiB", bytes / (double) (1L << 30)) : (bytes >> 20) + " MiB";
    }

    private static String format(double count) {
        return count == Math.rint(count) ? Long.toString((long) count) : Double.toString(count);
    }
}
