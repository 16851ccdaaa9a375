package dev.berth.agent.net;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.ops.AgentLog;
import dev.berth.profile.ProfileSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The agent's managed network: its bridge (made when missing), the address book, the port
 * forwards, and the {@code /etc/hosts} blocks through which containers find each other by name.
 */
public final class Network implements AutoCloseable {

    private final String bridge;
    private final Ipam ipam;
    private final Forwarder forwarder;
    private final AgentLog log;
    private final boolean created;

    public Network(String bridge, Subnet subnet, Path stateDir, Forwarder forwarder, AgentLog log) {
        this.bridge = bridge;
        this.forwarder = forwarder;
        this.log = log;
        this.created = Bridge.ensure(bridge, subnet);
        if (created) {
            log.info("Created bridge " + bridge + " with " + subnet + " (no NAT: containers reach each other and this host)");
        } else if (!Bridge.addresses(bridge).contains(subnet.toString())) {
            log.warn("Bridge " + bridge + " exists without the configured address " + subnet + " (it has " + Bridge.addresses(bridge)
                    + "); containers get addresses on " + subnet + " all the same");
        }
        this.ipam = new Ipam(stateDir.resolve("network").resolve(bridge + ".json"), subnet);
    }

    public String bridge() {
        return bridge;
    }

    public Subnet subnet() {
        return ipam.subnet();
    }

    /** Whether a profile's network section puts the container on the managed bridge. */
    public boolean manages(ProfileSpec.Network spec) {
        return spec != null && (spec.bridge() == null || spec.bridge().equals(bridge));
    }

    /**
     * Gives container {@code name} its address on the managed bridge: the static one its profile
     * asks for (checked for conflicts), or the one it has, or a free one.
     *
     * @return a.b.c.d/prefix
     */
    public String assign(String name, ProfileSpec.Network spec) {
        String requested = spec.ipv4() != null && !spec.ipv4().auto() ? spec.ipv4().address() : null;
        return ipam.allocate(name, requested) + "/" + subnet().prefix();
    }

    public String gateway() {
        return Subnet.text(subnet().gateway());
    }

    public String addressOf(String name) {
        return ipam.addressOf(name);
    }

    public void release(String name) {
        ipam.release(name);
    }

    /** Releases the addresses of containers that are gone; returns their names. */
    public List<String> releaseAllBut(java.util.Set<String> existing) {
        return ipam.releaseAllBut(existing);
    }

    /** A profile's forwards, with their defaults filled in. */
    public static List<Forwarder.Forward> forwards(ProfileSpec.Network spec) {
        if (spec == null || spec.forwards() == null) {
            return List.of();
        }
        return spec.forwards().stream().map(f -> new Forwarder.Forward(
                f.protocol() == null ? "tcp" : f.protocol().name().toLowerCase(Locale.ROOT),
                f.listen() == null ? "127.0.0.1" : f.listen(), f.port(), f.targetPort() == null ? f.port() : f.targetPort())).toList();
    }

    public void openForwards(String name, String address, List<Forwarder.Forward> forwards) {
        if (!forwards.isEmpty() && address == null) {
            throw new AgentException.Invalid("container " + name + " has port forwards but no address to forward to;"
                    + " give it network.ipv4 (auto or static)");
        }
        forwarder.open(name, address, forwards);
    }

    public void closeForwards(String name) {
        forwarder.close(name);
    }

    /**
     * Rewrites the hosts block of every running container on the bridge. A container that cannot be
     * updated (stopping, no /etc) is logged and skipped.
     *
     * @param pidOf a container's init pid, or -1 when it is not running
     * @param idShiftOf the start of a container's idmap (0 when privileged)
     */
    public void refreshHosts(ToIntFunction<String> pidOf, ToIntFunction<String> idShiftOf) {
        Map<String, String> entries = ipam.leases();
        for (String name : entries.keySet()) {
            // Another container's state is asked here (it may be mid-delete): nothing about it fails the caller.
            try {
                int pid = pidOf.applyAsInt(name);
                if (pid <= 0) {
                    continue;
                }
                Hosts.update(name, pid, idShiftOf.applyAsInt(name), entries);
            } catch (RuntimeException e) {
                log.warn("cannot update /etc/hosts in " + name + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        forwarder.close();
    }
}
