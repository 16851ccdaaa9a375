package dev.berth.agent.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * User namespaces that carry a container's id map, as file descriptors for {@code mount_setattr}'s
 * id-mapped mounts. The JVM cannot unshare itself (it has threads), so a child does: {@code unshare
 * --user} runs {@code cat}, blocked on its input, while the agent writes the child's uid and gid
 * maps as root and opens its namespace; then the child goes. One namespace per map, the last {@link #KEPT}
 * kept open (the descriptor keeps it alive), so that a start costs no process once its map is known.
 */
final class UserNamespaces implements AutoCloseable {

    private static final long READY_TIMEOUT_MS = 5_000;

    /** Namespaces kept: the most recently used maps (a host with more containers makes the others again when they start). */
    static final int KEPT = 64;

    /** By shift, in the order of use; each value is an open descriptor, closed when it falls out. */
    private final Map<Long, Integer> byShift = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Integer> eldest) {
            if (size() > KEPT) {
                Mounts.close(eldest.getValue());
                return true;
            }
            return false;
        }
    };

    /**
     * A user namespace whose uids and gids 0..size-1 are the host's shift..shift+size-1, as an fd owned by this
     * cache: valid until {@link #KEPT} other maps have been used since (callers use it at once, under no other lock).
     */
    synchronized int of(long shift, long size) throws IOException {
        Integer known = byShift.get(shift);
        if (known != null) {
            return known;
        }
        int fd = create(shift, size);
        byShift.put(shift, fd);
        return fd;
    }

    private static int create(long shift, long size) throws IOException {
        Process child = new ProcessBuilder("unshare", "--user", "--", "cat")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.PIPE).start();
        try {
            Path proc = Path.of("/proc", Long.toString(child.pid()));
            String own = Files.readSymbolicLink(Path.of("/proc/self/ns/user")).toString();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
            // unshare execs cat once it is in its namespace: until then the child's is still ours
            while (own.equals(Files.readSymbolicLink(proc.resolve("ns/user")).toString())) {
                if (!child.isAlive() || System.nanoTime() > deadline) {
                    String why = child.isAlive() ? "it did not unshare within " + READY_TIMEOUT_MS + " ms"
                            : new String(child.getErrorStream().readAllBytes()).strip();
                    throw new IOException("cannot make a user namespace for an id map (unshare --user: " + why
                            + "); does this kernel allow user namespaces (sysctl user.max_user_namespaces)?");
                }
                Thread.onSpinWait();
            }
            String map = "0 " + shift + " " + size + "\n";
            Files.writeString(proc.resolve("uid_map"), map);
            Files.writeString(proc.resolve("gid_map"), map);
            return Mounts.openReadOnly(proc.resolve("ns/user").toString());
        } finally {
            child.destroyForcibly();
            try {
                child.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public synchronized void close() {
        byShift.values().forEach(Mounts::close);
        byShift.clear();
    }
}
