package dev.berth.agent.runtime;

import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcContainer;
import dev.berth.lxc.LxcState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cheap answers to "what state is container X in, and what is its init's pid", for listings.
 *
 * <p>Opening a liblxc handle parses the container's whole config (about 0.15 ms here) and each
 * question is a round trip to the container's monitor (about 0.12 ms); a listing of 100 containers
 * paid both several times over. This keeps one read-only handle per container for state queries
 * (the monitor answers by name, so a handle's in-memory config going stale does not matter) and
 * remembers each running container's init pid with the process's start time and its freezer's
 * state file. While that same process lives the container is running, and the freezer says
 * whether it is frozen: two small reads in /proc and /sys instead of two round trips. When the
 * process is gone (a stop, a restart, a pid recycled by another process) liblxc is asked again.
 * Handles are closed when their container is deleted.
 */
final class StateProbe implements AutoCloseable {

    /** What liblxc (or the cached pid) says, in liblxc's words; {@link LxcRuntime} turns it into the port's. */
    record Probe(LxcState state, Integer pid) {
    }

    /** An init process as first seen, and the file its freezer state is read from (null if not found). */
    private record KnownPid(int pid, long startTime, Path freezer) {
    }

    private final Path lxcpath;
    private final Map<String, LxcContainer> handles = new ConcurrentHashMap<>();
    private final Map<String, KnownPid> pids = new ConcurrentHashMap<>();

    public StateProbe(Path lxcpath) {
        this.lxcpath = lxcpath;
    }

    /**
     * The names of the containers defined under the lxcpath: the directories holding a
     * {@code config}, as liblxc decides it, without opening each one as liblxc's own listing does.
     */
    public List<String> names() {
        try (var dirs = Files.list(lxcpath)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("config")))
                    .map(d -> d.getFileName().toString()).sorted().toList();
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + lxcpath, e);
        }
    }

    /**
     * Container {@code name}'s state and pid, or null when it is not (or no longer) defined.
     */
    public Probe probe(String name) {
        if (!Files.isRegularFile(lxcpath.resolve(name).resolve("config"))) {
            forget(name);
            return null;
        }
        KnownPid known = pids.get(name);
        if (known != null && startTime(known.pid()) == known.startTime()) {
            // The same init is alive, so the container runs; only the freezer can say it is frozen.
            LxcState frozen = freezerState(known.freezer());
            if (frozen != null) {
                return new Probe(frozen, known.pid());
            }
        }
        // A delete may close the shared handle or remove the container while this asks: the answer is then
        // "not defined" if it went, else one more try on a fresh handle. An operation on another container
        // never fails because of it.
        for (int attempt = 0; ; attempt++) {
            LxcContainer handle = null;
            try {
                handle = handles.computeIfAbsent(name, n -> Lxc.open(n, lxcpath));
                return ask(name, handle);
            } catch (RuntimeException e) {
                if (!Files.isRegularFile(lxcpath.resolve(name).resolve("config"))) {
                    forget(name);
                    return null;
                }
                if (attempt > 0) {
                    throw e;
                }
                if (handle != null) {
                    handles.remove(name, handle);
                }
            }
        }
    }

    private Probe ask(String name, LxcContainer handle) {
        LxcState state;
        int pid;
        synchronized (handle) { // forget() closes under the same monitor, never in the middle of a question
            state = handle.state();
            pid = state == LxcState.STOPPED ? -1 : handle.initPid().orElse(-1);
        }
        if (pid <= 0) {
            pids.remove(name);
            return new Probe(state, null);
        }
        long startTime = startTime(pid);
        if (state == LxcState.RUNNING || state == LxcState.FROZEN || state == LxcState.THAWED) {
            pids.put(name, new KnownPid(pid, startTime, freezerOf(pid)));
        } else {
            pids.remove(name); // starting or stopping: ask again next time
        }
        return new Probe(state, pid);
    }

    /** Drops what is kept for {@code name}: called when it is deleted. */
    public void forget(String name) {
        pids.remove(name);
        LxcContainer handle = handles.remove(name);
        if (handle != null) {
            synchronized (handle) {
                handle.close();
            }
        }
    }

    @Override
    public void close() {
        handles.keySet().forEach(this::forget);
    }

    /**
     * The freezer state file of process {@code pid}'s cgroup: cgroup v1's {@code freezer.state}, or
     * v2's {@code cgroup.events}; null if there is none to read.
     */
    static Path freezerOf(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
                String[] parts = line.split(":", 3);
                if (parts.length == 3 && java.util.Arrays.asList(parts[1].split(",")).contains("freezer")) {
                    Path file = Path.of("/sys/fs/cgroup/freezer" + parts[2], "freezer.state");
                    return Files.isReadable(file) ? file : null;
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
                if (line.startsWith("0::")) {
                    Path file = Path.of("/sys/fs/cgroup" + line.substring(3), "cgroup.events");
                    return Files.isReadable(file) ? file : null;
                }
            }
        } catch (IOException e) {
            // the process is gone: nothing to remember
        }
        return null;
    }

    /** RUNNING, FREEZING or FROZEN as the freezer says; null if it cannot be read. */
    static LxcState freezerState(Path freezer) {
        if (freezer == null) {
            return null;
        }
        try {
            String text = Files.readString(freezer);
            if (freezer.getFileName().toString().equals("freezer.state")) {
                return switch (text.strip()) {
                    case "THAWED" -> LxcState.RUNNING;
                    case "FREEZING" -> LxcState.FREEZING;
                    case "FROZEN" -> LxcState.FROZEN;
                    default -> null;
                };
            }
            return text.contains("frozen 1") ? LxcState.FROZEN : LxcState.RUNNING;
        } catch (IOException e) {
            return null;
        }
    }

    /** Field 22 of {@code /proc/<pid>/stat}, the start time in clock ticks since boot; -1 if the process is gone. */
    static long startTime(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            // the command name (field 2) is in parentheses and may hold spaces: count from its end
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
