package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Wait;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.agent.runtime.State;
import dev.berth.profile.HostFacts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What happens to containers once they exist: their state (live figures, a cheap probe), state
 * changes (start, stop, restart, freeze), delete, the reaping of stopped ephemeral containers, and
 * what the agent does at its own start: recovery of the operations it was killed in, autostart,
 * the network's addresses adopted.
 */
public final class Lifecycle {

    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final ContainerRuntime runtime;
    private final Path lxcpath;
    private final HostFacts host;
    private final ContainerRecords records;
    private final NameLocks locks;
    private final ContainerSpecs specs;
    private final ContainerNetwork net;
    private final AppStart appStart;
    private final AgentLog log;

    public Lifecycle(ContainerRuntime runtime, HostFacts host, ContainerRecords records, NameLocks locks, ContainerSpecs specs,
                     ContainerNetwork net, AgentLog log) {
        this.runtime = runtime;
        this.lxcpath = runtime.lxcpath();
        this.host = host;
        this.records = records;
        this.locks = locks;
        this.specs = specs;
        this.net = net;
        this.appStart = new AppStart(runtime, specs, log);
        this.log = log;
    }

    /** @throws RuntimeException naming the rule when {@code name} cannot be a container's name */
    public void checkName(String name) {
        runtime.checkName(name);
    }

    /**
     * A 404 before any operation is made for a container that does not exist (one stat: the
     * operation itself still copes with a container deleted in between).
     *
     * @throws AgentException.NotFound when no container {@code name} is defined
     */
    public void requireDefined(String name) {
        runtime.checkName(name);
        if (!Files.isRegularFile(lxcpath.resolve(name).resolve("config"))) {
            throw new AgentException.NotFound("no container \"" + name + "\"");
        }
    }

    /** The containers defined under this agent's lxcpath, Berth's or not, sorted. */
    public List<String> names() {
        return runtime.names();
    }

    /** Where the containers live. */
    public Path lxcpath() {
        return lxcpath;
    }

    /** The runtime's version, for the agent's info. */
    public String runtimeVersion() {
        return runtime.version();
    }

    /** The addresses the managed network has for containers that are gone are released; one line each. */
    public List<String> adoptNetwork() {
        return net.adopt(runtime.names());
    }

    /** A container's live figures: its state, and while it runs its init, memory, processes and addresses. */
    public record LiveState(String state, Integer pid, Long memoryUsage, Long memoryLimit, Integer processes,
                            List<String> addresses) {
    }

    /** @throws AgentException.NotFound when no container {@code name} is defined */
    public LiveState liveState(String name) {
        runtime.checkName(name);
        try (RuntimeContainer c = runtime.open(name)) {
            if (!c.isDefined()) {
                throw new AgentException.NotFound("no container \"" + name + "\"");
            }
            if (!c.isRunning()) {
                return new LiveState(c.state().name(), null, null, null, null, List.of());
            }
            return new LiveState(c.state().name(), c.initPid().orElse(-1), c.memoryUsage(), c.memoryLimit(),
                    Integer.parseInt(c.cgroupItem("pids.current").strip()), c.addresses());
        }
    }

    /** A container's state (RUNNING, STOPPED, FROZEN...) and, while it runs, its init's host pid. */
    public record Status(String state, Integer pid) {
    }

    /** {@link #probe} as the API shows it; null if {@code name} is not defined. */
    public Status status(String name) {
        ContainerRuntime.Probe p = runtime.probe(name);
        return p == null ? null : new Status(p.state().name(), p.pid());
    }

    /**
     * Stops (cleanly, then by force after a grace period; with {@code force}, by force at once) and
     * destroys container {@code name}. The intent is recorded first, so that an agent killed
     * half-way completes the delete on restart.
     */
    public void delete(String name, boolean force) {
        runtime.checkName(name);
        locks.acquire(name, "being changed");
        try (RuntimeContainer container = runtime.open(name)) {
            if (!container.isDefined()) {
                throw new AgentException.NotFound("no container \"" + name + "\"");
            }
            try {
                records.write(records.get(name).with(ContainerRecord.Status.DELETING));
            } catch (AgentException.NotFound e) {
                // not made by Berth: deleted all the same, there is no record to mark
            }
            Failpoints.hit("delete-after-intent");
            Halt.stop(container, force, STOP_GRACE);
            runtime.forget(name);
            container.destroy();
            Snapshots.deleteTree(container.directory());
            records.forget(name);
            specs.forget(name);
            net.release(name);
        } catch (IOException e) {
            throw new AgentException.Failed("cannot delete " + name + ": " + e.getMessage(), e);
        } finally {
            locks.release(name);
        }
    }

    /** The actions of {@code PUT state}. */
    public enum Action { START, STOP, RESTART, FREEZE, UNFREEZE }

    /**
     * Changes a container's run state. {@code stop} asks init to halt and waits {@code timeout}, then
     * kills; with {@code force} it kills at once.
     */
    public void changeState(String name, Action action, boolean force, Duration timeout) {
        try (RuntimeContainer container = runtime.open(name)) {
            if (!container.isDefined()) {
                throw new AgentException.NotFound("no container \"" + name + "\"");
            }
            switch (action) {
                case START -> {
                    HostMounts.start(container, host);
                }
                case STOP -> Halt.stop(container, force, timeout);
                case RESTART -> {
                    HostMounts.verify(container, host); // refused before the stop, not after it
                    Halt.stop(container, force, timeout);
                    HostMounts.start(container, host);
                }
                case FREEZE -> container.freeze();
                case UNFREEZE -> container.unfreeze();
            }
        }
        if (action == Action.STOP && isEphemeral(name)) {
            try {
                delete(name, true);
            } catch (AgentException.NotFound e) {
                return; // the reaper saw it stopped first and has deleted it
            } catch (AgentException.Busy e) {
                // the reaper saw it stopped first and is deleting it: the stop ends when the container is gone
                try {
                    Wait.upTo(Duration.ofSeconds(60), Duration.ofMillis(20))
                            .until(() -> !Files.exists(lxcpath.resolve(name).resolve("config")));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            log.info("Deleted ephemeral container " + name + " on its stop");
        } else if (action == Action.START || action == Action.RESTART) {
            appStart.afterStart(name);
            if (net.hasAddress(name)) {
                net.refreshHosts();
            }
        }
    }

    private boolean isEphemeral(String name) {
        try {
            return records.get(name).ephemeral();
        } catch (AgentException.NotFound e) {
            return false;
        }
    }

    /**
     * Deletes the ephemeral containers that have stopped (by themselves, or while the agent was down).
     *
     * @return the containers deleted
     */
    public List<String> reapEphemeral() {
        List<String> reaped = new ArrayList<>();
        for (String name : runtime.names()) {
            if (locks.isHeld(name) || !isEphemeral(name)) {
                continue;
            }
            ContainerRuntime.Probe p = runtime.probe(name);
            if (p != null && p.state() == State.STOPPED) {
                try {
                    delete(name, true);
                    reaped.add(name);
                } catch (AgentException.Busy | AgentException.Conflict | AgentException.NotFound e) {
                    // an operation has it (a start, a delete): leave it to that
                }
            }
        }
        return reaped;
    }

    /**
     * Finishes or undoes what an agent killed mid-operation left behind: a launch that had not
     * completed is rolled back (stopped, destroyed, directory removed), a delete that had begun is
     * completed. Containers that were ready are left exactly as they are, running or not.
     *
     * @return one line per container acted on, for the log and the events
     */
    public List<String> recover() {
        List<String> actions = new ArrayList<>();
        try (var dirs = Files.list(lxcpath)) {
            for (Path dir : dirs.filter(d -> records.exists(d.getFileName().toString())).sorted().toList()) {
                String name = dir.getFileName().toString();
                recoverRestore(dir, name, actions);
                ContainerRecord.Status status;
                try {
                    status = records.get(name).status();
                } catch (AgentException.NotFound e) {
                    // Empty or torn: only the first write of a launch, its intent, can be lost that way.
                    status = ContainerRecord.Status.CREATING;
                }
                if (status == ContainerRecord.Status.READY) {
                    continue;
                }
                try (RuntimeContainer container = runtime.open(name)) {
                    if (container.isDefined()) {
                        Halt.stop(container, true, Duration.ZERO);
                        container.destroy();
                    }
                }
                Snapshots.deleteTree(dir);
                records.forget(name);
                net.release(name);
                actions.add(status == ContainerRecord.Status.CREATING
                        ? "rolled back the interrupted launch of " + name
                        : "completed the interrupted delete of " + name);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + lxcpath, e);
        }
        return actions;
    }

    /** A snapshot restore the agent was killed in: finished or undone, and the container started again if it ran. */
    private void recoverRestore(Path dir, String name, List<String> actions) throws IOException {
        if (!Files.exists(dir.resolve(Snapshots.RESTORE_INTENT))) {
            return;
        }
        // Killed while asking init to halt: the halt went on without the agent, and may still be going.
        try (RuntimeContainer container = runtime.open(name)) {
            if (container.isDefined()) {
                Halt.stop(container, true, Duration.ZERO);
            }
        }
        Snapshots.RestoreIntent intent = Snapshots.recoverRestore(dir);
        String done = intent.phase() == Snapshots.RestoreIntent.Phase.COPYING
                ? "undid the interrupted restore of " + name + " to snapshot " + intent.snapshot() + " (its files are as before)"
                : "finished the interrupted restore of " + name + " to snapshot " + intent.snapshot();
        if (intent.wasRunning()) {
            try (RuntimeContainer container = runtime.open(name)) {
                if (!container.isRunning()) {
                    HostMounts.start(container, host);
                    appStart.afterStart(name);
                    done += "; started it again";
                }
            } catch (RuntimeException e) {
                done += "; could not start it again: " + e.getMessage();
            }
        }
        Snapshots.endRestore(dir);
        actions.add(done);
    }

    /**
     * Starts the stopped containers whose config says {@code lxc.start.auto = 1} (a profile with
     * {@code autostart: true}): what the host's boot should bring back.
     *
     * @return the containers started
     */
    public List<String> autostart() {
        List<String> started = new ArrayList<>();
        for (String name : runtime.names()) {
            try (RuntimeContainer container = runtime.open(name)) {
                if (!container.isRunning() && "1".equals(container.configItem("lxc.start.auto"))) {
                    try {
                        HostMounts.start(container, host);
                    } catch (AgentException.Invalid e) {
                        log.warn("not starting " + name + ": " + e.getMessage());
                        continue;
                    }
                    started.add(name);
                    appStart.afterStart(name);
                }
            }
        }
        return started;
    }
}
