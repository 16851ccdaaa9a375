package dev.berth.agent.app;

import dev.berth.agent.container.ContainerRecord;
import dev.berth.agent.container.Failpoints;
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

    /** An app as the agent last saw it: the image and digest are the running revision's. */
    public record View(String image, String digest, int revision, AppStatus state, Health health, int restarts, Integer exitCode,
                       Instant since, String healthOutput) {

        /** One word for a table: the health when it is checked and the app runs, else its state. */
        public String summary() {
            if (state == AppStatus.RUNNING && health != Health.NONE) {
                return health.word();
            }
            return state == AppStatus.EXITED || state == AppStatus.RESTARTING ? state.word() + "(" + exitCode + ")" : state.word();
        }
    }

    /** Previous revisions kept for a rollback when a profile does not say. */
    public static final int KEEP = 2;
    /** How often the supervisor's status is read. */
    private static final Duration READ_INTERVAL = Duration.ofMillis(500);
    /** The first check of a new run comes this soon; while it is starting, the gap doubles up to the check's interval. */
    private static final Duration FIRST_CHECK = Duration.ofMillis(25);

    private final ContainerRuntime runtime;
    private final ContainerSpecs specs;
    private final NameLocks locks;
    private final AppImageStore store;
    private final Events events;
    private final AgentLog log;
    private final Map<String, Tracker> trackers = new ConcurrentHashMap<>();
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

    public AppService(ContainerRuntime runtime, ContainerSpecs specs, NameLocks locks, AppImageStore store, Events events,
                      AgentLog log) {
        this.runtime = runtime;
        this.specs = specs;
        this.locks = locks;
        this.store = store;
        this.events = events;
        this.log = log;
    }

    /** What the agent tracks of one app between ticks. */
    private static final class Tracker {
        volatile AppSpec spec;
        volatile View view;
        /** The run the health refers to: the supervisor's "since" and restart count. */
        volatile Instant runSince;
        volatile int runRestarts = -1;
        volatile Instant runSeen = Instant.now();
        volatile Health health = Health.STARTING;
        volatile int failures;
        volatile Instant nextCheck = Instant.EPOCH;
        volatile Instant nextRead = Instant.EPOCH;
        volatile String healthOutput;
        volatile String digest;
        volatile String image;
        volatile int revision;
    }

    /** Whether container {@code name}'s profiles give it an app (from the cache: no file is read). */
    public boolean hasApp(String name) {
        try {
            return tracker(name) != null;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Container {@code name}'s app as last seen, or null when it has none. */
    public View view(String name) {
        Tracker t = tracker(name);
        if (t == null) {
            return null;
        }
        refresh(name, t, false); // a probe and a file read: what is asked for is never a tick old
        return t.view;
    }

    private Tracker tracker(String name) {
        Tracker t = trackers.computeIfAbsent(name, n -> new Tracker());
        t.spec = specs.appSpecOf(name); // the specs' cache: a change of the profiles is seen at once, nothing composed twice
        return t.spec == null ? null : t;
    }

    /** Checks every app once: state, due health checks, events. Called by the agent's timer. */
    public void tick() {
        nextTick = System.nanoTime() + READ_INTERVAL.toNanos(); // new containers are found within this; lowered below
        Set<String> names = Set.copyOf(runtime.names());
        trackers.keySet().removeIf(n -> !names.contains(n));
        Instant now = Instant.now();
        for (String name : names) {
            if (inFlight.contains(name)) {
                continue;
            }
            Tracker t;
            try {
                t = tracker(name);
            } catch (RuntimeException e) {
                continue;
            }
            if (t == null) {
                continue;
            }
            Instant due = dueOf(t);
            if (now.isBefore(due)) {
                wakeAt(due);
                continue;
            }
            inFlight.add(name);
            t.nextRead = now.plus(READ_INTERVAL);
            Thread.ofVirtual().name("berth-app-" + name).start(() -> {
                try {
                    refresh(name, t, true);
                } catch (RuntimeException e) {
                    log.debug("App check of " + name + " failed: " + e);
                } finally {
                    inFlight.remove(name);
                    wakeAt(dueOf(t));
                }
            });
        }
    }

    /** When a tracked app next needs looking at: its status read, or its health check if sooner. */
    private static Instant dueOf(Tracker t) {
        return t.spec.health() == null || t.nextRead.isBefore(t.nextCheck) ? t.nextRead : t.nextCheck;
    }

    /** When the next {@link #tick()} has work: the earliest status read or health check due (a monotonic time). */
    private volatile long nextTick;

    /** Whether a tick is due now; the agent's timer asks this often and cheaply, and ticks only then. */
    public boolean due() {
        return System.nanoTime() - nextTick >= 0;
    }

    /** Brings the next tick forward to {@code when} if it is sooner. */
    private synchronized void wakeAt(Instant when) {
        long at = System.nanoTime() + Math.max(0, Duration.between(Instant.now(), when).toNanos());
        if (at - nextTick < 0) {
            nextTick = at;
        }
    }

    /** Container {@code name} was just started or launched: look at its app now rather than at the next read. */
    public void wake(String name) {
        Tracker t = trackers.get(name);
        if (t != null) {
            t.nextRead = Instant.EPOCH;
            t.runRestarts = -1;
        }
        nextTick = System.nanoTime();
    }

    /** Reads the supervisor's status (and, with {@code check}, runs a due health check); publishes a change. */
    private void refresh(String name, Tracker t, boolean check) {
        t.nextRead = Instant.now().plus(READ_INTERVAL);
        ContainerRuntime.Probe probe = runtime.probe(name);
        View before = t.view;
        AppSpec spec = t.spec;
        if (probe == null || probe.state() != State.RUNNING || probe.pid() == null) {
            t.runRestarts = -1;
            t.view = new View(t.image != null ? t.image : spec.image(), t.digest, t.revision, AppStatus.STOPPED, Health.NONE, 0, null, null, null);
        } else {
            AppRuntime.Status status;
            try (ContainerRoot root = ContainerRoot.ofProcess(name, probe.pid(), runtime.idShift(name))) {
                status = AppRuntime.status(root);
                int revision = AppRuntime.currentRevision(root);
                if (revision != t.revision || t.digest == null) {
                    AppRuntime.Revision current = AppRuntime.revisions(root).stream().filter(r -> r.number() == revision)
                            .findFirst().orElse(null);
                    t.revision = revision;
                    t.digest = current == null ? null : current.digest();
                    t.image = current == null ? null : current.image();
                }
            } catch (RuntimeException e) {
                return; // the container stopped under us: the next tick sees it
            }
            boolean running = status.state() == AppStatus.RUNNING;
            if (running && (!status.since().equals(t.runSince) || status.restarts() != t.runRestarts)) {
                newRun(t, status);
            }
            if (spec.health() == null) {
                t.health = Health.NONE;
            } else if (!running) {
                t.health = Health.STARTING;
            } else if (check && !Instant.now().isBefore(t.nextCheck)) {
                healthCheck(name, t, spec.health());
            }
            // the running revision's image: after an upgrade, not the one the profile names
            String image = t.image != null ? t.image : spec.image();
            t.view = new View(image, t.digest, t.revision, status.state(), spec.health() == null ? Health.NONE : t.health,
                    status.restarts(), status.exitCode(), status.since(), t.healthOutput);
        }
        View now = t.view;
        if (before != null && (before.state() != now.state() || before.health() != now.health()
                || before.restarts() != now.restarts() || before.revision() != now.revision())) {
            Map<String, Object> event = new LinkedHashMap<>();
            event.put("container", name);
            event.put("state", now.state().word());
            event.put("health", now.health().word());
            event.put("restarts", now.restarts());
            event.put("revision", now.revision());
            if (now.exitCode() != null) {
                event.put("exit_code", now.exitCode());
            }
            events.publish("app", event);
            if (before.health() != now.health() && now.health() == Health.UNHEALTHY) {
                log.warn("App in " + name + " is unhealthy: " + now.healthOutput());
            }
        }
    }

    private static void newRun(Tracker t, AppRuntime.Status status) {
        t.runSince = status.since();
        t.runRestarts = status.restarts();
        t.runSeen = Instant.now();
        t.health = Health.STARTING;
        t.failures = 0;
        t.nextCheck = Instant.EPOCH;
    }

    /**
     * One check. While the app is starting it is checked soon and then ever less often (25 ms, doubling
     * up to the interval), and turns unhealthy only once it has failed for {@code interval × retries}
     * since it started; after that, {@code retries}
     * failures in a row make it unhealthy and one success makes it healthy.
     */
    private void healthCheck(String name, Tracker t, AppSpec.HealthCheck health) {
        String failure = probeHealth(name, health);
        Instant now = Instant.now();
        if (failure == null) {
            t.health = Health.HEALTHY;
            t.failures = 0;
            t.healthOutput = "ok";
        } else {
            t.failures++;
            t.healthOutput = failure;
            boolean startingOver = Duration.between(t.runSeen, now).compareTo(health.interval().multipliedBy(health.retries())) >= 0;
            if (t.health == Health.STARTING ? startingOver : t.failures >= health.retries()) {
                t.health = Health.UNHEALTHY;
            }
        }
        t.nextCheck = now.plus(t.health == Health.STARTING
                ? min(FIRST_CHECK.multipliedBy(1L << Math.min(t.failures, 8)), health.interval()) : health.interval());
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** Null when healthy, else what failed. */
    private String probeHealth(String name, AppSpec.HealthCheck health) {
        int timeoutMs = (int) Math.max(100, health.timeout().toMillis());
        if (health.type() == HealthType.COMMAND) {
            List<String> command = new ArrayList<>(List.of("timeout", "-s", "KILL", Long.toString(Math.max(1, health.timeout().toSeconds()))));
            command.addAll(AppRuntime.execInApp(health.command(), false));
            try (RuntimeContainer container = runtime.open(name)) {
                ExecResult result = container.run(new Command(command, Map.of(), "/", 0, 0, null));
                return result.exitCode() == 0 ? null : "command exited " + result.exitCode() + ": "
                        + (result.stdoutText() + result.stderrText()).strip().lines().reduce((a, b) -> b).orElse("");
            }
        }
        String address = specs.addressOf(name);
        if (address == null) {
            return "the container has no address to check (give its profile a network)";
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, health.port()), timeoutMs);
            if (health.type() == HealthType.TCP) {
                return null;
            }
            socket.setSoTimeout(timeoutMs);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + health.path() + " HTTP/1.0\r\nHost: " + address + ":" + health.port()
                    + "\r\nUser-Agent: berth-health\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != -1 && c != '\n' && line.length() < 200; ) {
                line.append((char) c);
            }
            String[] parts = line.toString().strip().split(" ");
            if (parts.length >= 2 && parts[1].matches("[23][0-9][0-9]")) {
                return null;
            }
            return "GET " + health.path() + " answered " + (line.isEmpty() ? "nothing" : "'" + line.toString().strip() + "'");
        } catch (IOException e) {
            return (health.type() == HealthType.TCP ? "tcp " : "http ") + address + ":" + health.port() + ": " + e.getMessage();
        }
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
            View v = action.equals("stop") ? refreshed(name) : awaitUp(name, timeout);
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
                View v = refreshed(name);
                return new Outcome(name, next, ref, image.digest(), v.summary(), "upgraded from revision " + previous);
            }
            stage("rollback", "revision " + next + " " + failure + "; switching back to revision " + previous);
            String back = switchAndWait(name, container, root, init, spec, previous, timeout);
            deleteRevision(root, next);
            UpgradeIntent.clear(dir);
            refreshed(name);
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
             ContainerRoot root = ContainerRoot.ofProcess(name, probe.pid(), runtime.idShift(name))) {
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
            View v = refreshed(name);
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
        View v = awaitUp(name, timeout);
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
        wake(name); // the next status read starts a new run
        AppRuntime.start(container, root, init);
    }

    /**
     * Waits until the app has started and its health is known (healthy or unhealthy), or it keeps
     * failing, or {@code timeout}. An app without a health check is up once it has run for a second
     * without restarting.
     */
    private View awaitUp(String name, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Instant began = Instant.now();
        View v = refreshed(name);
        while (System.nanoTime() < deadline) {
            Tracker t = trackers.get(name);
            if (t != null && !inFlight.contains(name)) {
                inFlight.add(name);
                try {
                    refresh(name, t, true);
                } finally {
                    inFlight.remove(name);
                }
            }
            v = t == null ? null : t.view;
            if (v != null) {
                boolean running = v.state() == AppStatus.RUNNING;
                if (running && v.health().judged()) {
                    return v;
                }
                if (running && v.health() == Health.NONE && Duration.between(began, Instant.now()).toMillis() >= 1000) {
                    return v;
                }
                if (v.state() == AppStatus.EXITED || (v.state() == AppStatus.RESTARTING && v.restarts() >= 2)) {
                    return v;
                }
            }
            Thread.sleep(5);
        }
        return v;
    }

    private View refreshed(String name) {
        Tracker t = tracker(name);
        if (t == null) {
            throw new AgentException.Invalid("container \"" + name + "\" has no app (its profiles have no app section)");
        }
        refresh(name, t, false);
        return t.view;
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
             ContainerRoot root = ContainerRoot.ofProcess(name, probe.pid(), runtime.idShift(name))) {
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
