package dev.berth.profile;

import dev.berth.profile.ProfileSpec.Limits;
import dev.berth.profile.ProfileSpec.Mount;
import dev.berth.profile.ProfileSpec.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a composed profile to the LXC config items of its system container: limits for the host's
 * cgroup layout, idmap, nesting, network, mounts, environment, autostart. A pure function; the agent
 * adds what only it knows (rootfs, hostname, log file).
 */
public final class LxcConfig {

    private static final long CFS_PERIOD_US = 100_000;

    private LxcConfig() {
    }

    /**
     * @param assignedIpv4 the address the agent assigned on its managed bridge (a.b.c.d/prefix), or
     *                     null for none (then a static ipv4 of the profile is used as written)
     * @throws ProfileException naming the file and line of a host path outside the host's allow-list
     */
    public static List<LxcConfigItem> render(ComposedProfile profile, HostFacts host, String assignedIpv4) {
        ProfileSpec spec = profile.spec();
        checkHostPaths(profile, host);
        List<LxcConfigItem> items = new ArrayList<>();
        limits(spec.limits(), host, items);
        if (spec.autostart() != null) {
            items.add(new LxcConfigItem("lxc.start.auto", spec.autostart() ? "1" : "0"));
        }
        boolean privileged = spec.security() != null && Boolean.TRUE.equals(spec.security().privileged());
        if (!privileged) {
            String map = " 0 " + host.idmapStart() + " " + host.idmapSize();
            items.add(new LxcConfigItem("lxc.idmap", "u" + map));
            items.add(new LxcConfigItem("lxc.idmap", "g" + map));
        }
        // Least privilege: nesting (writable /proc and /sys) only when the profile asks for it.
        boolean nesting = spec.security() != null && Boolean.TRUE.equals(spec.security().nesting());
        if (nesting) {
            // What /usr/share/lxc/config/nesting.conf does, plus a writable cgroup tree for crun inside.
            items.add(new LxcConfigItem("lxc.mount.auto", "proc:rw sys:rw cgroup:rw:force"));
            items.add(LxcConfigItem.mountEntry("proc", "dev/.lxc/proc", "proc", "create=dir,optional"));
            items.add(LxcConfigItem.mountEntry("sys", "dev/.lxc/sys", "sysfs", "create=dir,optional"));
        }
        network(spec.network(), host, assignedIpv4, items);
        if (spec.mounts() != null) {
            for (Mount mount : spec.mounts()) {
                String source = mount.volume() != null ? host.volumesDir().resolve(mount.volume()).toString() : mount.hostPath();
                String options = "bind,create=dir" + (Boolean.TRUE.equals(mount.readOnly()) ? ",ro" : "");
                items.add(LxcConfigItem.mountEntry(source, mount.path().substring(1), "none", options));
            }
        }
        if (spec.environment() != null) {
            for (Map.Entry<String, String> env : spec.environment().entrySet()) {
                items.add(new LxcConfigItem("lxc.environment", env.getKey() + "=" + env.getValue()));
            }
        }
        return List.copyOf(items);
    }

    private static void checkHostPaths(ComposedProfile profile, HostFacts host) {
        List<Mount> mounts = profile.spec().mounts();
        if (mounts == null) {
            return;
        }
        List<Problem> problems = new ArrayList<>();
        for (int i = 0; i < mounts.size(); i++) {
            String hostPath = mounts.get(i).hostPath();
            if (hostPath != null && !host.allowsHostPath(hostPath)) {
                Node item = ((Node.ListNode) profile.tree().get("mounts")).items().get(i);
                Location at = ((Node.MapNode) item).get("host-path").location();
                problems.add(new Problem(at, "mounts[" + i + "].host-path", "host path " + hostPath
                        + " is not under the agent's allow-list (" + host.hostPathAllowList() + ")",
                        "use a named volume, or ask the host's operator to allow the directory"));
            }
        }
        if (!problems.isEmpty()) {
            throw new ProfileException(problems);
        }
    }

    private static void limits(Limits limits, HostFacts host, List<LxcConfigItem> items) {
        if (limits == null) {
            return;
        }
        boolean v1 = host.cgroups() == HostFacts.Cgroups.V1;
        String prefix = v1 ? "lxc.cgroup." : "lxc.cgroup2.";
        if (limits.cpu() != null) {
            if (limits.cpu().set() != null) {
                items.add(new LxcConfigItem(prefix + "cpuset.cpus", limits.cpu().set()));
            } else {
                long quota = Math.round(limits.cpu().count() * CFS_PERIOD_US);
                if (v1) {
                    items.add(new LxcConfigItem("lxc.cgroup.cpu.cfs_period_us", Long.toString(CFS_PERIOD_US)));
                    items.add(new LxcConfigItem("lxc.cgroup.cpu.cfs_quota_us", Long.toString(quota)));
                } else {
                    items.add(new LxcConfigItem("lxc.cgroup2.cpu.max", quota + " " + CFS_PERIOD_US));
                }
            }
        }
        if (limits.memory() != null) {
            items.add(new LxcConfigItem(prefix + (v1 ? "memory.limit_in_bytes" : "memory.max"),
                    Long.toString(limits.memory().resolve(host.memoryBytes()))));
        }
        if (limits.pids() != null) {
            items.add(new LxcConfigItem(prefix + "pids.max", Integer.toString(limits.pids())));
        }
    }

    private static void network(Network network, HostFacts host, String assignedIpv4, List<LxcConfigItem> items) {
        if (network == null) {
            items.add(new LxcConfigItem("lxc.net.0.type", "empty"));
            return;
        }
        items.add(new LxcConfigItem("lxc.net.0.type", "veth"));
        items.add(new LxcConfigItem("lxc.net.0.link", network.bridge() != null ? network.bridge() : host.defaultBridge()));
        items.add(new LxcConfigItem("lxc.net.0.flags", "up"));
        items.add(new LxcConfigItem("lxc.net.0.name", "eth0"));
        // The agent's assignment wins: on its managed bridge it also settles static addresses (and their prefix).
        String address = assignedIpv4;
        if (address == null && network.ipv4() != null && !network.ipv4().auto()) {
            address = network.ipv4().address() + "/" + (network.ipv4().prefix() == null ? 24 : network.ipv4().prefix());
        }
        if (address != null) {
            items.add(new LxcConfigItem("lxc.net.0.ipv4.address", address.toLowerCase(Locale.ROOT)));
        }
    }
}
