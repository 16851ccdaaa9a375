package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.profile.HostFacts;
import dev.berth.profile.ProfileSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * A container's snapshots as operations: taken (frozen for the copy if it runs), listed, restored
 * (with an intent on disk, see {@link Snapshots}), deleted, and taken and expired on the profile's
 * schedule. The files themselves are {@link Snapshots}'.
 */
public final class Snapshotting {

    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    /** Half of the agent's 1 s snapshot tick ({@code Berthd}'s timer): how early a due snapshot may be taken. */
    private static final Duration TICK_SLACK = Duration.ofMillis(500);
    private static final java.time.format.DateTimeFormatter AUTO_NAME = java.time.format.DateTimeFormatter
            .ofPattern("'auto-'yyyyMMdd'T'HHmmss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

    private final ContainerRuntime runtime;
    private final ContainerRecords records;
    private final NameLocks locks;
    private final ContainerSpecs specs;
    private final HostFacts host;
    private final ContainerNetwork net;
    private final AgentLog log;
    private final Path lxcpath;

    public Snapshotting(ContainerRuntime runtime, ContainerRecords records, NameLocks locks, ContainerSpecs specs, HostFacts host,
                 ContainerNetwork net, AgentLog log) {
        this.runtime = runtime;
        this.records = records;
        this.locks = locks;
        this.specs = specs;
        this.host = host;
        this.net = net;
        this.log = log;
        this.lxcpath = runtime.lxcpath();
    }

    private <T> T exclusive(String name, Supplier<T> work) {
        runtime.checkName(name);
        return locks.exclusive(name, work);
    }

    /** Automatic snapshots that are due, taken, and those past their expiry, deleted; one line per action. */
    public List<String> scheduled() {
        List<String> done = new java.util.ArrayList<>();
        Instant now = Instant.now();
        for (String name : runtime.names()) {
            if (locks.isHeld(name)) {
                continue;
            }
            java.util.Optional<ProfileSpec.AutoSnapshots> schedule = specs.autoSnapshotsOf(name);
            if (schedule.isEmpty()) {
                continue;
            }
            try {
                List<SnapshotView> autos = list(name).stream().filter(v -> v.name().startsWith("auto-")).toList();
                Instant last = autos.stream().map(SnapshotView::created).max(Instant::compareTo).orElse(Instant.EPOCH);
                // due within half a tick counts as due: the last one was made a few ms after its tick, and waiting
                // for the next tick would make a 1 s schedule one snapshot every 2 s
                if (!last.plus(schedule.get().schedule().duration()).minus(TICK_SLACK).isAfter(now)) {
                    done.add("took " + take(name, AUTO_NAME.format(now)).name() + " of " + name);
                }
                if (schedule.get().expiry() != null) {
                    for (SnapshotView old : autos) {
                        if (old.created().plus(schedule.get().expiry().duration()).isBefore(now)) {
                            delete(name, old.name());
                            done.add("expired " + old.name() + " of " + name);
                        }
                    }
                }
            } catch (AgentException.Busy | AgentException.Conflict | AgentException.NotFound e) {
                // busy or gone meanwhile: next round
            } catch (RuntimeException e) {
                log.warn("automatic snapshot of " + name + " failed: " + e.getMessage());
            }
        }
        return done;
    }

    /** Runs {@code work} with container {@code name} frozen if it runs, so that its layer holds still. */
    <T> T whileFrozen(String name, java.util.function.Supplier<T> work) {
        try (RuntimeContainer container = runtime.open(name)) {
            boolean freeze = container.state() == dev.berth.agent.runtime.State.RUNNING;
            if (freeze) {
                container.freeze();
            }
            try {
                return work.get();
            } finally {
                if (freeze) {
                    container.unfreeze();
                }
            }
        }
    }

    /** A snapshot as the API shows it. */
    public record SnapshotView(String name, Instant created, long bytes) {
    }

    /**
     * Snapshots container {@code name} (frozen for the copy if it runs) as {@code snapshot}, or as
     * snap0, snap1, ... when null.
     */
    public SnapshotView take(String name, String snapshot) {
        return exclusive(name, () -> {
            Path dir = lxcpath.resolve(name);
            String snap = snapshot;
            if (snap == null) {
                int n = 0;
                while (Files.exists(dir.resolve(Snapshots.DIR).resolve("snap" + n))) {
                    n++;
                }
                snap = "snap" + n;
            }
            String taken = snap;
            Snapshots.Info info = whileFrozen(name, () -> Snapshots.take(dir, taken));
            log.info("Snapshot " + snap + " of " + name + " taken (" + info.bytes() + " bytes in its layer)");
            return new SnapshotView(info.name(), info.created(), info.bytes());
        });
    }

    /** @throws AgentException.Invalid unless {@code snapshot} is a snapshot name */
    public static void checkName(String snapshot) {
        Snapshots.checkName(snapshot);
    }

    public List<SnapshotView> list(String name) {
        if (!Files.isRegularFile(lxcpath.resolve(name).resolve("config"))) {
            throw new AgentException.NotFound("no container \"" + name + "\"");
        }
        return Snapshots.list(lxcpath.resolve(name)).stream().map(i -> new SnapshotView(i.name(), i.created(), i.bytes())).toList();
    }

    /**
     * Restores snapshot {@code snapshot} over container {@code name}: a running container is stopped,
     * restored and started again. If the restore fails, the container keeps its content and is
     * started again if it was running.
     */
    public void restore(String name, String snapshot) {
        exclusive(name, () -> {
            if (!Files.isDirectory(Snapshots.dir(lxcpath.resolve(name), snapshot))) {
                throw new AgentException.NotFound("no snapshot " + snapshot + " of " + name);
            }
            Path dir = lxcpath.resolve(name);
            try (RuntimeContainer container = runtime.open(name)) {
                boolean wasRunning = container.isRunning();
                Snapshots.beginRestore(dir, snapshot, wasRunning);
                try {
                    Halt.stop(container, false, STOP_GRACE);
                    Snapshots.restore(dir, snapshot);
                } finally {
                    runtime.forget(name);
                    if (wasRunning) {
                        try (RuntimeContainer fresh = runtime.open(name)) {
                            HostMounts.start(fresh, host);
                        }
                    }
                    Snapshots.endRestore(dir);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot finish the restore of " + name + ": " + e.getMessage(), e);
            }
            net.refreshHosts();
            log.info("Restored " + name + " to snapshot " + snapshot);
            return null;
        });
    }

    public void delete(String name, String snapshot) {
        exclusive(name, () -> {
            Snapshots.delete(lxcpath.resolve(name), snapshot);
            return null;
        });
    }
}
