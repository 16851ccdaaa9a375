package dev.berth.agent.runtime;

import java.nio.file.Path;
import java.util.List;

/**
 * The agent's port to the system-container runtime: the containers of one lxcpath, their states,
 * and handles to work on one. {@link LxcRuntime} is liblxc's; tests of logic use one in memory.
 */
public interface ContainerRuntime extends AutoCloseable {

    /** A container's state and, while it runs, its init's host pid. */
    record Probe(State state, Integer pid) {
    }

    /** Where the containers live. */
    Path lxcpath();

    /** The runtime's version, for the agent's info. */
    String version();

    /** The names of the defined containers, sorted. */
    List<String> names();

    /** A container's state and pid, cheaply and without a handle of the caller's; null when it is not defined. */
    Probe probe(String name);

    /** Drops what is cached for {@code name} (it was deleted, restored or replaced). */
    void forget(String name);

    /** A handle on container {@code name} (defined or not yet). */
    RuntimeContainer open(String name);

    /** @throws RuntimeException naming the rule when {@code name} cannot be a container's name at all */
    void checkName(String name);

    @Override
    void close();
}
