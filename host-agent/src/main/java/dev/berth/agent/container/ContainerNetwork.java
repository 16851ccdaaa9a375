package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.net.Network;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.profile.ProfileSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The containers' side of the managed network: addresses given back, forwards reopened after a
 * restart, and every running container's hosts block kept current.
 */
public final class ContainerNetwork {

    /** Null for an agent without a managed network. */
    private final Network network;
    private final ContainerRuntime runtime;
    private final ContainerRecords records;
    private final Path lxcpath;

    public ContainerNetwork(Network network, ContainerRuntime runtime, ContainerRecords records) {
        this.network = network;
        this.runtime = runtime;
        this.records = records;
        this.lxcpath = runtime.lxcpath();
    }

    /** A profile's network is one this agent can give (managed bridge, or a static address for forwards elsewhere). */
    void check(ProfileSpec.Network spec) {
        if (spec == null) {
            return;
        }
        if (network == null && spec.bridge() == null) {
            throw new AgentException.Invalid("the profile puts the container on the managed bridge, but this agent has none;"
                    + " set network.bridge in the agent's config, or name a bridge in the profile (network.bridge)");
        }
        if ((network == null || !network.manages(spec)) && !Network.forwards(spec).isEmpty()
                && (spec.ipv4() == null || spec.ipv4().auto())) {
            throw new AgentException.Invalid("port forwards need the container's address: on bridge " + spec.bridge()
                    + " give it a static network.ipv4");
        }
    }

    /** The managed network, or a clear error for a profile that needs one on an agent without it. */
    Network require() {
        if (network == null) {
            throw new AgentException.Invalid("this agent has no managed network; set network.bridge in its config");
        }
        return network;
    }

    /** Whether the managed network has an address for container {@code name}. */
    boolean hasAddress(String name) {
        return network != null && network.addressOf(name) != null;
    }

    void release(String name) {
        if (network == null) {
            return;
        }
        network.closeForwards(name);
        if (network.addressOf(name) != null) {
            network.release(name);
            refreshHosts();
        }
    }

    /** Rewrites the hosts block in every running container on the managed bridge. */
    void refreshHosts() {
        if (network == null) {
            return;
        }
        network.refreshHosts(n -> {
            ContainerRuntime.Probe p = runtime.probe(n);
            return p == null || p.pid() == null ? -1 : p.pid();
        }, runtime::idShift);
    }

    /**
     * After an agent start: gives back the addresses of containers deleted while it was down, opens
     * the forwards of the containers there are, and brings every hosts block up to date.
     *
     * @return one line per change, for the log
     */
    List<String> adopt(List<String> names) {
        List<String> actions = new java.util.ArrayList<>();
        if (network == null) {
            return actions;
        }
        java.util.Set<String> existing = new java.util.HashSet<>(names);
        for (String gone : network.releaseAllBut(existing)) {
            actions.add("released the address of " + gone + ", deleted while the agent was down");
        }
        for (String name : existing) {
            try {
                ContainerRecord record = records.get(name);
                if (!record.forwards().isEmpty()) {
                    network.openForwards(name, record.address(), record.forwards());
                }
            } catch (AgentException.NotFound e) {
                // not Berth's
            } catch (RuntimeException e) {
                actions.add("cannot reopen the port forwards of " + name + ": " + e.getMessage());
            }
        }
        refreshHosts();
        return actions;
    }
}
