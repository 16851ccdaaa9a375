package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.runtime.ContainerRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The host ids unprivileged containers run as: root's subordinate range ({@code /etc/subuid} and
 * {@code /etc/subgid}, e.g. {@code root:1000000:1000000000}, as LXD sets up) cut into slots of
 * 65,536, one per container, so that no two containers' roots are the same host user. A slot is
 * taken while a container's record names it (its snapshots live in its directory and go with it),
 * and free again once the container is deleted; a launch holds its slot from allocation to its record.
 * The first slot is the shared one ({@code security.idmap: shared}): every shared container runs as it.
 */
public final class IdPool {

    /** Ids per container: uids and gids 0..65535 inside. */
    public static final long SIZE = 65536;

    private final ContainerRecords records;
    private final ContainerRuntime runtime;
    private final long base;
    private final long slots;
    private final Set<Long> claimed = new HashSet<>();

    /** @param base the first id of the pool; {@code slots} ranges of {@link #SIZE} follow it (0: no pool) */
    public IdPool(ContainerRecords records, ContainerRuntime runtime, long base, long slots) {
        this.records = records;
        this.runtime = runtime;
        this.base = base;
        this.slots = slots;
    }

    /**
     * The pool root's subordinate ids give: the largest range for {@code root} that both files grant,
     * above the first 65,536 (kept for the shared range older containers use). No such range: an empty
     * pool, and unprivileged launches are refused saying what to add.
     */
    public static IdPool fromSubordinateIds(ContainerRecords records, ContainerRuntime runtime, Path subuid, Path subgid) {
        long[] uids = largestRootRange(subuid);
        long[] gids = largestRootRange(subgid);
        long start = Math.max(uids[0], gids[0]);
        long end = Math.min(uids[0] + uids[1], gids[0] + gids[1]);
        long slots = end > start ? (end - start) / SIZE : 0;
        return new IdPool(records, runtime, start, slots);
    }

    private static long[] largestRootRange(Path file) {
        long[] best = {0, 0};
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.strip().split(":");
                if (f.length == 3 && (f[0].equals("root") || f[0].equals("0"))) {
                    long start = Long.parseLong(f[1]);
                    long count = Long.parseLong(f[2]);
                    if (count > best[1]) {
                        best = new long[] {start, count};
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            return best; // no file, or one that does not parse: no pool
        }
        return best;
    }

    /** How many containers the pool has room for. */
    public long slots() {
        return slots;
    }

    /**
     * The range every {@code security.idmap: shared} container runs as (the pool's first).
     *
     * @throws AgentException.Unavailable when root has no subordinate range big enough
     */
    public long shared() {
        requirePool();
        return base;
    }

    private void requirePool() {
        if (slots < 2) {
            throw new AgentException.Unavailable("unprivileged containers need a range of subordinate ids for root:"
                    + " add root:1000000:1000000000 to /etc/subuid and /etc/subgid (scripts/setup.sh does), or set"
                    + " security.privileged: true in the profile");
        }
    }

    /**
     * Takes the lowest free slot for a new container, held until {@link #release} (once its record names it).
     *
     * @throws AgentException.Unavailable when root has no subordinate range big enough, or every slot is taken
     */
    public synchronized long allocate() {
        requirePool();
        Set<Long> used = new HashSet<>(claimed);
        for (String name : runtime.names()) {
            used.add(startOf(name));
        }
        for (long slot = 1; slot < slots; slot++) { // slot 0 is the shared range
            long start = base + slot * SIZE;
            if (!used.contains(start)) {
                claimed.add(start);
                return start;
            }
        }
        throw new AgentException.Unavailable("all " + slots + " id ranges of the pool are taken (one per unprivileged"
                + " container); delete containers, or give root a larger range in /etc/subuid and /etc/subgid");
    }

    /** The launch that took {@code start} has recorded it, or failed: the record (or nothing) holds it now. */
    public synchronized void release(long start) {
        claimed.remove(start);
    }

    private long startOf(String name) {
        try {
            Long start = records.get(name).idmapStart();
            if (start != null) {
                return start;
            }
        } catch (AgentException.NotFound e) {
            // not Berth's: its config says
        }
        try {
            return runtime.idShift(name);
        } catch (RuntimeException e) {
            return -1; // gone, or unreadable: it holds nothing we can tell
        }
    }
}
