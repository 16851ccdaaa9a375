package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One guard per container name: a launch, delete, restore or other change holds its container's name
 * for as long as it runs, and a second change of the same container is refused (409) rather than
 * queued; scheduled work (automatic snapshots, the ephemeral reaper) skips a held name.
 */
public final class NameLocks {

    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final java.nio.file.Path lxcpath;

    /** @param lxcpath where the containers live (an exclusive operation needs its container's config there) */
    public NameLocks(java.nio.file.Path lxcpath) {
        this.lxcpath = lxcpath;
    }

    /** @throws AgentException.Busy saying {@code doing} when another operation holds {@code name} */
    void acquire(String name, String doing) {
        if (!held.add(name)) {
            throw new AgentException.Busy("container \"" + name + "\" is " + doing + " by another operation");
        }
    }

    void release(String name) {
        held.remove(name);
    }

    /**
     * Runs {@code work} holding {@code name}, once the container is known to exist.
     *
     * @throws AgentException.Busy when another operation holds it
     * @throws AgentException.NotFound when no container {@code name} is defined
     */
    public <T> T exclusive(String name, java.util.function.Supplier<T> work) {
        acquire(name, "being changed");
        try {
            if (!java.nio.file.Files.isRegularFile(lxcpath.resolve(name).resolve("config"))) {
                throw new AgentException.NotFound("no container \"" + name + "\"");
            }
            return work.get();
        } finally {
            release(name);
        }
    }

    boolean isHeld(String name) {
        return held.contains(name);
    }
}
