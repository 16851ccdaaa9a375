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
 * The app containers of the agent's system containers as the agent watches them: their state as
 * the supervisor inside reports it and their health ({@link HealthCheck}), kept for {@code GET state}
 * and {@code berth list}, with an {@code app} event on every change.
 *
 * <p>{@link #tick()} runs when something is due ({@link #due()}, asked every 25 ms by the agent's
 * timer; an idle agent ticks twice a second): it reads each running app's status file every half
 * second (a file read, no process started) and runs the health checks that are due on virtual threads.
 */
public final class AppMonitor {

    private final ContainerRuntime runtime;
    private final ContainerSpecs specs;
    private final ContainerFiles files;
    private final HealthCheck healthChecks;
    private final Events events;
    private final AgentLog log;

    public AppMonitor(ContainerRuntime runtime, ContainerSpecs specs, ContainerFiles files, Events events, AgentLog log) {
        this.runtime = runtime;
        this.specs = specs;
        this.files = files;
        this.healthChecks = new HealthCheck(runtime, specs);
        this.events = events;
        this.log = log;
    }

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

    /** How often the supervisor's status is read. */
    private static final Duration READ_INTERVAL = Duration.ofMillis(500);
    /** The first check of a new run comes this soon; while it is starting, the gap doubles up to the check's interval. */
    private static final Duration FIRST_CHECK = Duration.ofMillis(25);

    private final Map<String, Tracker> trackers = new ConcurrentHashMap<>();
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

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
            try (ContainerRoot root = files.runningRoot(name, probe.pid())) {
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
        String failure = healthChecks.run(name, health);
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

    /**
     * Waits until the app has started and its health is known (healthy or unhealthy), or it keeps
     * failing, or {@code timeout}. An app without a health check is up once it has run for a second
     * without restarting.
     */
    View awaitUp(String name, Duration timeout) throws InterruptedException {
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

    View refreshed(String name) {
        Tracker t = tracker(name);
        if (t == null) {
            throw new AgentException.Invalid("container \"" + name + "\" has no app (its profiles have no app section)");
        }
        refresh(name, t, false);
        return t.view;
    }
}
