package dev.berth.agent.app;

import dev.berth.agent.container.ContainerRecord;
import dev.berth.agent.container.Failpoints;
import dev.berth.agent.container.ContainerFiles;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.container.NameLocks;
import dev.berth.agent.error.AgentException;
import dev.berth.agent.oci.AppImageStore;
import dev.berth.agent.oci.AppRuntime;
import dev.berth.agent.oci.AppStatus;
import dev.berth.agent.oci.Health;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.image.InitSystem;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.exec.ExecResult;
import dev.berth.agent.exec.Command;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.agent.runtime.State;
import dev.berth.profile.AppSpec;
import dev.berth.profile.ProfileSpec.HealthType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The app containers of the agent's system containers: their state as the supervisor inside reports
 * it, their health (checked by the agent: a command inside the app, or TCP/HTTP from the host to the
 * container's address), and the operations on them (stop, start, restart, upgrade, rollback).
 *
 * <p>{@link #tick()} runs when something is due ({@link #due()}, asked every 25 ms by the agent's
 * timer; an idle agent ticks twice a second): it reads each running app's status file every half
 * second (a file read, no process started), runs the health checks that are due on virtual threads, keeps the result for
 * {@code GET state} and {@code berth list}, and publishes an {@code app} event on every change.
 */
public final class AppService {

    /** Previous revisions kept for a rollback when a profile does not say. */
    public static final int KEEP = 2;
    private final ContainerRuntime runtime;
    private final ContainerSpecs specs;
    private final ContainerFiles files;
    private final NameLocks locks;
    private final AppImageStore store;
    private final AppMonitor monitor;
    private final Events events;
    private final AgentLog log;
    public AppService(ContainerRuntime runtime, ContainerSpecs specs, ContainerFiles files, NameLocks locks, AppImageStore store,
                      AppMonitor monitor, Events events, AgentLog log) {
        this.runtime = runtime;
        this.specs = specs;
        this.files = files;
        this.locks = locks;
        this.store = store;
        this.monitor = monitor;
        this.events = events;
        this.log = log;
    }

    /** Container {@code name}'s app as last seen ({@link AppMonitor#view}), or null when it has none. */
    public AppMonitor.View view(String name) {
        return monitor.view(name);
    }

    /** Whether container {@code name}'s profiles give it an app. */
    public boolean hasApp(String name) {
        return monitor.hasApp(name);
    }

    /** Container {@code name} was just started or launched: its app is looked at now. */
    public void wake(String name) {
        monitor.wake(name);
    }

    /** What an app operation did, for the operation's metadata. */
    public record Outcome(String container, int revision, String image, String digest, String health, String note) {
    }

    /** Stops, starts or restarts container {@code name}'s app (the container keeps running). */
    public Outcome change(String name, String action, Duration timeout) {
        return locks.exclusive(name, () -> onRunning(name, (container, root, init, spec) -> {
            switch (action) {
                case "stop" -> AppRuntime.stop(container, root, spec.stopSignal(), spec.stopGrace());
                case "start" -> start(name, container, root, init);
                case "restart" -> {
                    AppRuntime.stop(container, root, spec.stopSignal(), spec.stopGrace());
                    start(name, container, root, init);
                }
                default -> throw new AgentException.Invalid("an app action is start, stop or restart; not " + action);
            }
            AppMonitor.View v = action.equals("stop") ? monitor.refreshed(name) : monitor.awaitUp(name, timeout);
            log.info("App in " + name + ": " + action + " -> " + v.summary());
            return new Outcome(name, v.revision(), v.image(), v.digest(), v.summary(), null);
        }));
    }

    /**
     * Upgrades container {@code name}'s app to image {@code ref}: unpacks it as a new revision beside
     * the running one, stops the old, starts the new and waits until it is healthy (running, for an
     * app without a health check); if it is not within {@code timeout}, switches back to the
     * previous revision and fails saying so. Keeps the profile's {@code keep} previous revisions.
     */
    public Outcome upgrade(String name, String ref, Duration timeout) {
        AppImageStore.AppImage image = store.get(ref);
        return locks.exclusive(name, () -> onRunning(name, (container, root, init, spec) -> {
            int previous = AppRuntime.currentRevision(root);
            int next = AppRuntime.revisions(root).stream().mapToInt(AppRuntime.Revision::number).max().orElse(0) + 1;
            AppSpec upgraded = spec.withImage(ref);
            Path dir = runtime.lxcpath().resolve(name);
            UpgradeIntent intent = new UpgradeIntent(previous, next, ref, false);
            intent.write(dir);
            String failure;
            try {
                stage("unpack", "unpacking " + ref + " (" + image.digest().substring(0, 19) + ") as revision " + next);
                AppRuntime.install(store, image, upgraded, root, name, specs.appBindsOf(name), next);
                Failpoints.hit("upgrade-after-unpack");
                stage("switch", "stopping revision " + previous + ", starting revision " + next);
                failure = switchAndWait(name, container, root, init, spec, next, timeout);
            } catch (RuntimeException | InterruptedException e) {
                if (AppRuntime.currentRevision(root) == previous) { // nothing switched: the old revision still runs
                    deleteRevision(root, next);
                    UpgradeIntent.clear(dir);
                }
                throw e;
            }
            if (failure == null) {
                intent.asVerified().write(dir);
                List<Integer> pruned = AppRuntime.prune(root, keepOf(name));
                UpgradeIntent.clear(dir);
                log.info("Upgraded the app in " + name + " to " + ref + " (revision " + next + ")"
                        + (pruned.isEmpty() ? "" : "; deleted old revisions " + pruned));
                AppMonitor.View v = monitor.refreshed(name);
                return new Outcome(name, next, ref, image.digest(), v.summary(), "upgraded from revision " + previous);
            }
            stage("rollback", "revision " + next + " " + failure + "; switching back to revision " + previous);
            String back = switchAndWait(name, container, root, init, spec, previous, timeout);
            deleteRevision(root, next);
            UpgradeIntent.clear(dir);
            monitor.refreshed(name);
            String message = "the upgrade of " + name + "'s app to " + ref + " failed: revision " + next + " " + failure
                    + "; rolled back to revision " + previous + (back == null ? ", which runs again" : ", which " + back + " as well")
                    + " (see berth app logs " + name + ")";
            log.warn(message);
            events.publish("app", Map.of("container", name, "action", "rollback", "revision", previous, "reason", failure));
            throw new AgentException.Invalid(message);
        }));
    }

    private static void deleteRevision(ContainerRoot root, int revision) {
        try {
            root.delete(AppRuntime.REVISIONS + "/" + revision);
        } catch (AgentException.NotFound e) {
            // never unpacked
        }
    }

    /**
     * App upgrades an agent was killed in (their intent is on disk): one whose new revision had passed
     * its check is finished; any other is rolled back to the revision that ran before, which is started
     * (health is then followed as usual). A container that is not running keeps its intent for the next start.
     *
     * @return what was done, for the log
     */
    public List<String> recoverUpgrades() {
        List<String> actions = new ArrayList<>();
        for (String name : runtime.names()) {
            Path dir = runtime.lxcpath().resolve(name);
            UpgradeIntent intent;
            try {
                intent = UpgradeIntent.read(dir).orElse(null);
            } catch (RuntimeException e) {
                actions.add("cannot read the interrupted app upgrade of " + name + ": " + e.getMessage());
                continue;
            }
            if (intent == null) {
                continue;
            }
            ContainerRuntime.Probe probe = runtime.probe(name);
            if (probe == null || probe.pid() == null) {
                actions.add("the app upgrade of " + name + " to " + intent.image() + " was interrupted; it is finished or rolled back"
                        + " when the agent next starts with the container running");
                continue;
            }
            try {
                actions.add(locks.exclusive(name, () -> onRunning(name, (container, root, init, spec) -> {
                    if (intent.verified()) {
                        AppRuntime.prune(root, keepOf(name));
                        UpgradeIntent.clear(dir);
                        return new Outcome(name, intent.next(), intent.image(), null, null,
                                "finished the interrupted app upgrade of " + name + " to revision " + intent.next());
                    }
                    if (AppRuntime.currentRevision(root) != intent.previous()) {
                        AppRuntime.stop(container, root, spec.stopSignal(), spec.stopGrace());
                        AppRuntime.switchTo(root, intent.previous());
                    }
                    if (intent.next() != intent.previous()) {
                        deleteRevision(root, intent.next());
                    }
                    start(name, container, root, init);
                    UpgradeIntent.clear(dir);
                    events.publish("app", Map.of("container", name, "action", "rollback", "revision", intent.previous(),
                            "reason", "the agent stopped during the upgrade"));
                    return new Outcome(name, intent.previous(), null, null, null, "rolled back the interrupted app upgrade of " + name
                            + " to " + intent.image() + ": revision " + intent.previous() + " runs again");
                })).note());
            } catch (RuntimeException e) {
                actions.add("cannot recover the interrupted app upgrade of " + name + ": " + e.getMessage());
            }
        }
        return actions;
    }

    /** What the app's runtime says beside its view: crun's pid for it (null: none) and the revisions unpacked. */
    public record Detail(Integer pid, int current, List<AppRuntime.Revision> revisions) {
    }

    /** The app's detail in running container {@code name}; null when the container does not run. */
    public Detail detail(String name) {
        ContainerRuntime.Probe probe = runtime.probe(name);
        if (probe == null || probe.pid() == null) {
            return null;
        }
        try (RuntimeContainer container = runtime.open(name);
             ContainerRoot root = files.runningRoot(name, probe.pid())) {
            var crun = AppRuntime.crunState(container);
            Integer pid = crun != null && crun.has("pid") ? crun.get("pid").asInt() : null;
            return new Detail(pid, AppRuntime.currentRevision(root), AppRuntime.revisions(root));
        }
    }

    /** Switches container {@code name}'s app back to revision {@code to}, or to the newest one before the current. */
    public Outcome rollback(String name, Integer to, Duration timeout) {
        return locks.exclusive(name, () -> onRunning(name, (container, root, init, spec) -> {
            int current = AppRuntime.currentRevision(root);
            List<AppRuntime.Revision> revisions = AppRuntime.revisions(root);
            AppRuntime.Revision target = revisions.stream()
                    .filter(r -> to != null ? r.number() == to : r.number() < current)
                    .reduce((a, b) -> b).orElseThrow(() -> new AgentException.Invalid(to != null
                            ? "no revision " + to + " of the app in " + name + "; there are " + revisions.stream().map(r -> r.number()).toList()
                            : "no revision of the app in " + name + " before revision " + current + " to roll back to"));
            if (target.number() == current) {
                throw new AgentException.Invalid("revision " + current + " is the one running in " + name);
            }
            stage("switch", "stopping revision " + current + ", starting revision " + target.number());
            String failure = switchAndWait(name, container, root, init, spec, target.number(), timeout);
            AppMonitor.View v = monitor.refreshed(name);
            log.info("Rolled the app in " + name + " back to revision " + target.number() + " (" + target.image() + ")");
            return new Outcome(name, target.number(), target.image(), target.digest(), v.summary(),
                    failure == null ? "rolled back from revision " + current : "rolled back from revision " + current + ", but it " + failure);
        }));
    }

    /** Stops the app, points {@code current} at {@code revision}, starts it, waits: null when it is up, else why not. */
    private String switchAndWait(String name, RuntimeContainer container, ContainerRoot root, InitSystem init, AppSpec spec, int revision,
                                 Duration timeout) throws InterruptedException {
        AppRuntime.stop(container, root, spec.stopSignal(), spec.stopGrace());
        AppRuntime.switchTo(root, revision);
        start(name, container, root, init);
        Failpoints.hit("app-switch-started");
        AppMonitor.View v = monitor.awaitUp(name, timeout);
        if (v.state() == AppStatus.RUNNING && (v.health() == Health.HEALTHY || v.health() == Health.NONE)) {
            return null;
        }
        if (v.state() != AppStatus.RUNNING) {
            return "did not stay up (" + v.summary() + ")";
        }
        return v.health() == Health.UNHEALTHY ? "was unhealthy (" + v.healthOutput() + ")"
                : "did not get healthy within " + timeout.toSeconds() + " s (" + v.healthOutput() + ")";
    }

    private void start(String name, RuntimeContainer container, ContainerRoot root, InitSystem init) {
        monitor.wake(name); // the next status read starts a new run
        AppRuntime.start(container, root, init);
    }

    private int keepOf(String name) {
        Integer keep = specs.appKeepOf(name);
        return keep == null ? KEEP : keep;
    }

    @FunctionalInterface
    private interface AppWork {
        Outcome run(RuntimeContainer container, ContainerRoot root, InitSystem init, AppSpec spec) throws InterruptedException, IOException;
    }

    private Outcome onRunning(String name, AppWork work) {
        AppSpec spec = specs.appSpecOf(name);
        if (spec == null) {
            throw new AgentException.Invalid("container \"" + name + "\" has no app (its profiles have no app section)");
        }
        ContainerRuntime.Probe probe = runtime.probe(name);
        if (probe == null || probe.state() != State.RUNNING || probe.pid() == null) {
            throw new AgentException.Conflict("container \"" + name + "\" is not running; start it first (berth start " + name + ")");
        }
        try (RuntimeContainer container = runtime.open(name);
             ContainerRoot root = files.runningRoot(name, probe.pid())) {
            return work.run(container, root, specs.initOf(name), spec);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("app operation on " + name + " interrupted");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void stage(String stage, String text) {
        dev.berth.agent.ops.Operations.current().ifPresent(op -> op.progress(Map.of("stage", stage, "text", text)));
    }
}
