package dev.berth.agent.container;

import static dev.berth.agent.container.LiveLimits.LIVE_LIMITS;
import static dev.berth.agent.container.LiveLimits.UNLIMITED;
import static dev.berth.agent.container.LiveLimits.sameLimit;
import static dev.berth.agent.container.LiveLimits.wanted;

import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.profile.ComposedProfile;
import dev.berth.profile.HostFacts;
import dev.berth.profile.LxcConfig;
import dev.berth.profile.LxcConfigItem;
import dev.berth.puppet.DriftReport.Drift;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A container's settings after it was made: its own overrides replaced, its profiles re-composed and
 * the limits that changed applied live, and its envelope (the limits its profile sets) checked
 * against its config and cgroup, and put back.
 */
public final class Reconfigure {

    private final ContainerRuntime runtime;
    private final ContainerRecords records;
    private final ContainerSpecs specs;
    private final HostFacts host;
    private final AgentLog log;
    private final Path lxcpath;
    private final Conversion conversion;

    public Reconfigure(ContainerRuntime runtime, ContainerRecords records, ContainerSpecs specs, HostFacts host, IdPool idPool,
                       dev.berth.agent.image.ImageStore images, AgentLog log) {
        this.runtime = runtime;
        this.records = records;
        this.specs = specs;
        this.host = host;
        this.log = log;
        this.lxcpath = runtime.lxcpath();
        this.conversion = new Conversion(runtime, records, idPool, images, host, log);
    }

    /** Conversions to unprivileged an agent was killed in, finished (at the agent's start); one line each. */
    public List<String> recoverConversions() {
        return conversion.recover();
    }

    /**
     * Replaces the container's own overrides ({@code PATCH}), then re-applies its composed profiles
     * like {@link #reapply}. The new composition is checked before anything is written.
     */
    public Reapplied update(String name, Map<String, Object> overrides) {
        ContainerRecord record = records.get(name);
        Map<String, Object> own = Overrides.expand(overrides);
        boolean wasPrivileged = record.idmapStart() == null && Launcher.privileged(specs.composed(name).spec());
        ComposedProfile next = specs.compose(record, own);
        try {
            records.write(new ContainerRecord(record.name(), record.imageFingerprint(), record.profiles(), own, record.created(),
                    record.status(), record.address(), record.forwards(), record.ephemeral(), record.idmapStart()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the record of " + name, e);
        }
        Reapplied reapplied = reapply(name);
        if (wasPrivileged && !Launcher.privileged(next.spec())) {
            try {
                String done = conversion.toUnprivileged(name);
                List<String> live = new java.util.ArrayList<>(reapplied.appliedLive());
                live.add("security.privileged=false (" + done + ")");
                return new Reapplied(name, live, reapplied.pending());
            } catch (IOException e) {
                throw new dev.berth.agent.error.AgentException.Failed("cannot convert " + name + " to unprivileged: " + e.getMessage(), e);
            }
        }
        return reapplied;
    }

    /** What a re-composition changed: limits applied live, and keys that wait for a re-create. */
    public record Reapplied(String name, List<String> appliedLive, List<String> pending) {
    }

    /**
     * Re-composes container {@code name} from its profiles as they are now and applies the limits
     * (CPU, memory, pids) that changed: written to its config and, if it runs, to its cgroup at
     * once. Other changed keys are reported as pending: they apply to a container launched anew.
     */
    public Reapplied reapply(String name) {
        ContainerRecord record = records.get(name);
        ComposedProfile profile = specs.compose(record, record.overrides());
        List<LxcConfigItem> items = LxcConfig.render(profile, host, null);
        String prefix = host.cgroups() == HostFacts.Cgroups.V1 ? "lxc.cgroup." : "lxc.cgroup2.";
        List<String> live = new java.util.ArrayList<>();
        List<String> pending = new java.util.ArrayList<>();
        try (RuntimeContainer container = runtime.open(name)) {
            boolean running = container.isRunning();
            for (String limit : LIVE_LIMITS) {
                String key = prefix + limit;
                String wanted = wanted(items, key);
                String current = container.configItem(key);
                if (java.util.Objects.equals(wanted, current.isEmpty() ? null : current)) {
                    continue;
                }
                container.clearConfigItem(key);
                if (wanted != null) {
                    container.setConfigItem(key, wanted);
                }
                String value = wanted != null ? wanted : UNLIMITED.get(limit);
                if (running && value != null) {
                    container.setCgroupItem(limit, value);
                }
                live.add(key + "=" + (wanted == null ? "(unset)" : wanted));
            }
            for (LxcConfigItem item : items) {
                if (!item.key().startsWith(prefix) && !item.key().startsWith("lxc.idmap") && !item.key().startsWith("lxc.mount.entry")
                        && !item.key().startsWith("lxc.environment") && !container.configItem(item.key()).contains(item.value())) {
                    pending.add(item.key());
                }
            }
            container.saveConfig();
        }
        if (!live.isEmpty()) {
            log.info("Applied to " + name + " live: " + String.join(", ", live));
        }
        return new Reapplied(name, live, pending);
    }

    /**
     * The container's envelope against its composed profile: each limit the profile sets, as the
     * container's LXC config holds it (edited by hand?) and as its cgroup enforces it now (changed
     * live?). With {@code reconcile}, puts back what differs (config rewritten, live value set) and
     * marks those entries corrected once they read back right.
     */
    public List<Drift> envelopeDrift(String name, boolean reconcile) {
        List<LxcConfigItem> items = LxcConfig.render(specs.composed(name), host, null);
        String prefix = host.cgroups() == HostFacts.Cgroups.V1 ? "lxc.cgroup." : "lxc.cgroup2.";
        try (RuntimeContainer container = runtime.open(name)) {
            List<Drift> found = envelope(name, container, items, prefix);
            if (!reconcile || found.isEmpty()) {
                return found;
            }
            boolean running = container.isRunning();
            for (String limit : LIVE_LIMITS) {
                String wanted = wanted(items, prefix + limit);
                if (wanted != null) {
                    container.clearConfigItem(prefix + limit);
                    container.setConfigItem(prefix + limit, wanted);
                    if (running) {
                        container.setCgroupItem(limit, wanted);
                    }
                }
            }
            container.saveConfig();
            List<Drift> still = envelope(name, container, items, prefix);
            List<Drift> drift = found.stream().map(d -> d.corrected(still.stream().noneMatch(s -> s.resource().equals(d.resource()))))
                    .toList();
            log.info("Reconciled the envelope of " + name + ": " + drift.stream().filter(Drift::corrected)
                    .map(d -> d.resource() + " " + d.is() + " -> " + d.should()).toList());
            return drift;
        }
    }

    /** Each limit the profile sets that the container's config or (running) cgroup holds otherwise. */
    private List<Drift> envelope(String name, RuntimeContainer container, List<LxcConfigItem> items, String prefix) {
        boolean running = container.isRunning();
        List<Drift> found = new java.util.ArrayList<>();
        for (String limit : LIVE_LIMITS) {
            String key = prefix + limit;
            String wanted = wanted(items, key);
            if (wanted == null) {
                continue;
            }
            String configured = container.configItem(key).strip();
            if (!sameLimit(limit, configured, wanted)) {
                found.add(new Drift("envelope", "config " + key, "value", configured.isEmpty() ? "(unset)" : configured, wanted, false,
                        lxcpath.resolve(name).resolve("config").toString(), null));
            }
            if (running) {
                String live = container.cgroupItem(limit).strip();
                if (!sameLimit(limit, live, wanted)) {
                    found.add(new Drift("envelope", "cgroup " + limit, "value", live, wanted, false, null, null));
                }
            }
        }
        return found;
    }
}
