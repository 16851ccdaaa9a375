package dev.berth.agent.container;

import dev.berth.agent.image.ImageStore;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.agent.store.AtomicFiles;
import dev.berth.profile.HostFacts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A privileged container made unprivileged in place ({@code security.privileged: false} set on it):
 * stopped, given a range of its own, its layer's owners shifted into it once (hard links once, setuid
 * and setgid bits kept), its config pointed at the id-mapped rootfs, and started again if it ran. An
 * intent ({@code convert.json}, with the range) is on disk before the layer is touched, so that an
 * agent killed half-way finishes the conversion at its next start (shifting is idempotent: an owner
 * already in the range is left alone).
 */
final class Conversion {

    static final String INTENT = "convert.json";
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final ContainerRuntime runtime;
    private final ContainerRecords records;
    private final IdPool idPool;
    private final ImageStore images;
    private final HostFacts host;
    private final AgentLog log;

    Conversion(ContainerRuntime runtime, ContainerRecords records, IdPool idPool, ImageStore images, HostFacts host, AgentLog log) {
        this.runtime = runtime;
        this.records = records;
        this.idPool = idPool;
        this.images = images;
        this.host = host;
        this.log = log;
    }

    /** Converts container {@code name}; returns what was done, for the operation's result. */
    String toUnprivileged(String name) throws IOException {
        ContainerRecord record = records.get(name);
        Path dir = runtime.lxcpath().resolve(name);
        long shift = idPool.allocate();
        try {
            boolean wasRunning;
            try (RuntimeContainer c = runtime.open(name)) {
                wasRunning = c.isRunning();
                if (wasRunning) {
                    Halt.stop(c, false, STOP_GRACE);
                }
            }
            AtomicFiles.write(dir.resolve(INTENT), ("{\"shift\":" + shift + ",\"wasRunning\":" + wasRunning + "}")
                    .getBytes(StandardCharsets.UTF_8));
            Failpoints.hit("convert-after-intent");
            finish(name, record, shift, wasRunning);
            return "converted to unprivileged: root inside is host uid " + shift + (wasRunning ? "; started again" : "");
        } finally {
            idPool.release(shift); // the record names it now, or the conversion failed before it did
        }
    }

    /** Shifts the layer, rewrites the config and the record, and starts it again: the same whether or not it was begun before. */
    private void finish(String name, ContainerRecord record, long shift, boolean wasRunning) throws IOException {
        Path dir = runtime.lxcpath().resolve(name);
        Path delta = Snapshots.delta(dir);
        log.info("Converting " + name + " to unprivileged: shifting its layer's owners to " + shift + "+");
        IdShift.reshift(delta, 0, shift, IdPool.SIZE);
        Snapshots.deleteTree(dir.resolve("overlay/work")); // liblxc's, root's: the new one is the container root's
        Path lower = images.get(record.imageFingerprint()).rootfs();
        try (RuntimeContainer c = runtime.open(name)) {
            c.clearConfigItem("lxc.idmap");
            c.setConfigItems(List.of(java.util.Map.entry("lxc.idmap", "u 0 " + shift + " " + IdPool.SIZE),
                    java.util.Map.entry("lxc.idmap", "g 0 " + shift + " " + IdPool.SIZE)));
            // its binds (volumes, host paths) are staged from now on, as a new unprivileged container's are
            java.util.Map<String, Path> binds = new java.util.LinkedHashMap<>(c.stagedBindSources());
            if (binds.isEmpty()) {
                List<dev.berth.profile.LxcConfigItem> entries = c.configItem("lxc.mount.entry").lines()
                        .map(v -> new dev.berth.profile.LxcConfigItem("lxc.mount.entry", v)).toList();
                List<dev.berth.profile.LxcConfigItem> staged = Launcher.staged(c, entries, binds);
                c.clearConfigItem("lxc.mount.entry");
                c.setConfigItems(staged.stream().map(i -> java.util.Map.entry(i.key(), i.value())).toList());
            }
            c.convertToIdmappedOverlay(lower, shift, binds);
        }
        records.write(new ContainerRecord(record.name(), record.imageFingerprint(), record.profiles(), record.overrides(),
                record.created(), record.status(), record.address(), record.forwards(), record.ephemeral(), shift));
        Launcher.closeToOthers(dir, shift);
        runtime.forget(name);
        if (wasRunning) {
            try (RuntimeContainer c = runtime.open(name)) {
                HostMounts.start(c, host);
            }
        }
        Files.deleteIfExists(dir.resolve(INTENT));
    }

    /** Conversions an agent was killed in, finished; one line each. */
    List<String> recover() {
        List<String> done = new ArrayList<>();
        for (String name : runtime.names()) {
            Path intent = runtime.lxcpath().resolve(name).resolve(INTENT);
            if (!Files.exists(intent)) {
                continue;
            }
            try {
                String text = Files.readString(intent, StandardCharsets.UTF_8);
                long shift = Long.parseLong(text.replaceAll(".*\"shift\":(\\d+).*", "$1").strip());
                boolean wasRunning = text.contains("\"wasRunning\":true");
                finish(name, records.get(name), shift, wasRunning);
                done.add("finished the interrupted conversion of " + name + " to unprivileged (host uid " + shift + ")");
            } catch (IOException | RuntimeException e) {
                done.add("could not finish the interrupted conversion of " + name + ": " + e.getMessage());
            }
        }
        return done;
    }
}
