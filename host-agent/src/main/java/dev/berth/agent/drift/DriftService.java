package dev.berth.agent.drift;

import dev.berth.agent.error.AgentException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.container.ContainerFiles;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.container.Reconfigure;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.ops.Operations;
import dev.berth.agent.store.AtomicFiles;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.agent.runtime.State;
import dev.berth.profile.ProfileSpec.DriftPolicy;
import dev.berth.profile.PuppetSpec;
import dev.berth.puppet.DriftReport;
import dev.berth.puppet.PuppetBridge;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Drift detection and reconciliation, per container: Puppet's part through the bridge (a noop run of
 * the profile's manifest inside; under {@code enforce} a real run after one that found drift) and the
 * envelope's (the container's LXC config and live limits against its profile). Each check's
 * {@link DriftReport} is kept ({@code drift.json} beside the container's config), published as a
 * {@code drift} event and served by the API.
 *
 * <p>{@link #tick()} schedules the checks: each container with a {@code puppet:} section at its
 * profile's interval with ±10% jitter (so that containers launched together do not check together),
 * never more than {@code concurrency} Puppet runs at once on the host; checks wait for a slot.
 */
public final class DriftService {

    static final String FILE = "drift.json";
    private static final ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;

    private final ContainerRuntime runtime;
    private final ContainerSpecs specs;
    private final ContainerFiles files;
    private final Reconfigure reconfigure;
    private final Events events;
    private final AgentLog log;
    private final Semaphore slots;
    private final int concurrency;
    private final Map<String, DriftReport> last = new ConcurrentHashMap<>();
    private final Map<String, Instant> due = new ConcurrentHashMap<>();
    private final Set<String> checking = ConcurrentHashMap.newKeySet();

    public DriftService(ContainerRuntime runtime, ContainerSpecs specs, ContainerFiles files, Reconfigure reconfigure, Events events,
                        AgentLog log, int concurrency) {
        this.runtime = runtime;
        this.specs = specs;
        this.files = files;
        this.reconfigure = reconfigure;
        this.events = events;
        this.log = log;
        this.concurrency = concurrency;
        this.slots = new Semaphore(concurrency, true);
    }

    /** The last check of container {@code name}, or null when none has run. */
    public DriftReport last(String name) {
        DriftReport known = last.get(name);
        if (known != null) {
            return known;
        }
        Path file = runtime.lxcpath().resolve(name).resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            DriftReport read = JSON.readValue(file.toFile(), DriftReport.class);
            last.put(name, read);
            return read;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Checks container {@code name} now (waiting for a slot) and keeps the report.
     *
     * @param enforce true to reconcile whatever the policy, null for the profile's policy
     */
    public DriftReport check(String name, Boolean enforce) {
        PuppetSpec spec = specs.puppetSpecOf(name);
        boolean reconcile = enforce != null ? enforce : spec != null && spec.policy() == DriftPolicy.ENFORCE;
        String policy = enforce != null && enforce ? "enforce" : spec == null ? "report" : spec.policy().name().toLowerCase(java.util.Locale.ROOT);
        if (!checking.add(name)) {
            throw new AgentException.Invalid("a drift check of " + name + " is running; wait for it");
        }
        try {
            ContainerRuntime.Probe probe = runtime.probe(name);
            if (probe == null) {
                throw new AgentException.NotFound("no container \"" + name + "\"");
            }
            if (probe.state() != State.RUNNING || probe.pid() == null) {
                throw new AgentException.Conflict("container \"" + name + "\" is not running: drift is checked inside it; start it first");
            }
            stage("waiting", slots.availablePermits() > 0 ? "starting" : "waiting for one of " + concurrency + " drift slots");
            slots.acquireUninterruptibly();
            long start = System.nanoTime();
            try {
                List<DriftReport.Drift> drift = new ArrayList<>();
                List<String> failures = new ArrayList<>();
                String version = null;
                if (spec != null) {
                    stage("puppet", spec.binary() + " apply --noop" + (reconcile ? ", then a real run if anything drifted" : ""));
                    try (RuntimeContainer container = runtime.open(name);
                         ContainerRoot root = files.runningRoot(name, probe.pid())) {
                        PuppetBridge.Outcome outcome = new PuppetBridge(spec.binary())
                                .check(new AgentAccess(container, root), spec, reconcile, spec.timeout());
                        drift.addAll(outcome.drift());
                        failures.addAll(outcome.failures());
                        version = outcome.puppetVersion();
                    } catch (RuntimeException e) {
                        failures.add("the Puppet run could not be made: " + e.getMessage());
                    }
                }
                stage("envelope", "comparing the LXC config and live limits with the profile");
                try {
                    drift.addAll(reconfigure.envelopeDrift(name, reconcile));
                } catch (RuntimeException e) {
                    failures.add("the envelope could not be compared: " + e.getMessage());
                }
                String status = !failures.isEmpty() ? DriftReport.FAILED : drift.isEmpty() ? DriftReport.IN_SYNC
                        : reconcile && drift.stream().allMatch(DriftReport.Drift::corrected) ? DriftReport.CORRECTED : DriftReport.DRIFTED;
                DriftReport report = new DriftReport(name, Instant.now(), policy, status, drift, failures,
                        (System.nanoTime() - start) / 1_000_000, version);
                keep(report);
                return report;
            } finally {
                slots.release();
            }
        } finally {
            checking.remove(name);
        }
    }

    /**
     * After a launch: the profile's manifest applied once (a real run). Its failures are kept as a
     * failed drift report and logged; the launch itself stands.
     */
    public DriftReport applyOnce(String name) {
        PuppetSpec spec = specs.puppetSpecOf(name);
        if (spec == null) {
            return null;
        }
        ContainerRuntime.Probe probe = runtime.probe(name);
        if (probe == null || probe.pid() == null) {
            return null; // stopped already (an ephemeral container that ended): the scheduled checks will apply it
        }
        stage("puppet", "applying the profile's Puppet manifest once (" + spec.binary() + " apply)");
        slots.acquireUninterruptibly();
        long start = System.nanoTime();
        try (RuntimeContainer container = runtime.open(name);
             ContainerRoot root = files.runningRoot(name, probe.pid())) {
            PuppetBridge.Outcome outcome = new PuppetBridge(spec.binary()).apply(new AgentAccess(container, root), spec, false, spec.timeout());
            DriftReport report = new DriftReport(name, Instant.now(), "apply", outcome.failed() ? DriftReport.FAILED : DriftReport.IN_SYNC,
                    List.of(), outcome.failures(), (System.nanoTime() - start) / 1_000_000, outcome.puppetVersion());
            if (outcome.failed()) {
                log.warn("The first Puppet run in " + name + " failed: " + String.join("; ", outcome.failures()));
            }
            keep(report);
            due.put(name, nextDue(spec.interval()));
            return report;
        } finally {
            slots.release();
        }
    }

    private void keep(DriftReport report) {
        last.put(report.container(), report);
        Path file = runtime.lxcpath().resolve(report.container()).resolve(FILE);
        try {
            if (Files.isDirectory(file.getParent())) {
                AtomicFiles.write(file, dev.berth.agent.store.Json.PRETTY.writeValueAsBytes(report));
            }
        } catch (IOException e) {
            log.warn("Cannot keep the drift report of " + report.container() + ": " + e.getMessage());
        }
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("container", report.container());
        event.put("status", report.status());
        event.put("policy", report.policy());
        event.put("resources", report.resources().size());
        event.put("corrected", report.resources().stream().filter(DriftReport.Drift::corrected).count());
        event.put("failures", report.failures());
        events.publish("drift", event);
        if (report.status().equals(DriftReport.DRIFTED) || report.status().equals(DriftReport.CORRECTED)) {
            log.info("Drift in " + report.container() + " (" + report.status() + "): " + report.resources().stream()
                    .map(d -> d.resource() + (d.property() == null ? "" : "." + d.property())).toList());
        }
    }

    /** Starts the checks that are due (each on a virtual thread, waiting for a slot). Called by the agent's timer. */
    public void tick() {
        Instant now = Instant.now();
        Set<String> names = Set.copyOf(runtime.names());
        due.keySet().removeIf(n -> !names.contains(n));
        last.keySet().removeIf(n -> !names.contains(n));
        for (String name : names) {
            if (checking.contains(name)) {
                continue;
            }
            PuppetSpec spec = scheduledSpec(name, now);
            if (spec == null) {
                continue;
            }
            Instant when = due.computeIfAbsent(name, n -> nextDue(spec.interval()));
            if (now.isBefore(when)) {
                continue;
            }
            ContainerRuntime.Probe probe = runtime.probe(name);
            due.put(name, nextDue(spec.interval()));
            if (probe == null || probe.state() != State.RUNNING) {
                continue;
            }
            Thread.ofVirtual().name("berth-drift-" + name).start(() -> {
                try {
                    check(name, null);
                } catch (RuntimeException e) {
                    log.debug("Scheduled drift check of " + name + " did not run: " + e.getMessage());
                }
            });
        }
    }

    /** A container's Puppet spec for the scheduler (from the specs' cache); null without one or when its profiles no longer compose. */
    private PuppetSpec scheduledSpec(String name, Instant now) {
        try {
            return specs.puppetSpecOf(name);
        } catch (RuntimeException e) {
            return null; // not Berth's, or its profiles no longer compose
        }
    }

    /** Now plus {@code interval} ± 10%. */
    private static Instant nextDue(Duration interval) {
        long ms = interval.toMillis();
        long jitter = ms / 10;
        return Instant.now().plusMillis(ms + (jitter == 0 ? 0 : ThreadLocalRandom.current().nextLong(-jitter, jitter + 1)));
    }

    /** How many checks may run at once. */
    public int concurrency() {
        return concurrency;
    }

    private static void stage(String stage, String text) {
        Operations.current().ifPresent(op -> op.progress(Map.of("stage", stage, "text", text)));
    }
}
