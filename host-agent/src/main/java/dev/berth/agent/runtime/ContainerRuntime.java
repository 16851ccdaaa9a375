package dev.berth.agent.runtime;

import dev.berth.agent.error.AgentException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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

    /**
     * Where container {@code name}'s ids start on the host: the host id its idmap gives uid 0, or 0
     * for a privileged container (no idmap). Read from the config the runtime saved.
     *
     * @throws AgentException.NotFound when {@code name} has no config
     * @throws UncheckedIOException when the config cannot be read: guessing "privileged" would write
     *         files owned by host root into an unprivileged container
     */
    default int idShift(String name) {
        Path config = lxcpath().resolve(name).resolve("config");
        try {
            for (String line : Files.readAllLines(config)) {
                String l = line.strip();
                if (l.startsWith("lxc.idmap") && l.contains("u 0 ")) {
                    return Integer.parseInt(l.substring(l.indexOf("u 0 ") + 4).trim().split("\\s+")[0]);
                }
            }
            return 0;
        } catch (NoSuchFileException e) {
            throw new AgentException.NotFound("no container \"" + name + "\"");
        } catch (IOException | RuntimeException e) {
            throw new UncheckedIOException("cannot read the id map of " + name + " from " + config + ": " + e.getMessage(),
                    e instanceof IOException io ? io : new IOException(e));
        }
    }

    /**
     * Whether this host can mount {@code lower} (an image's rootfs, or the image store) id-mapped, as an
     * unprivileged container's start does.
     *
     * @throws AgentException.Invalid naming the reason and the choices when it cannot
     */
    default void checkIdmappedMounts(Path lower) {
    }

    /** Mounts an agent killed mid-start left on the host, detached; one line each (for the log). */
    default List<String> releaseStrayMounts() {
        return List.of();
    }

    @Override
    void close();
}
