package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.image.Image;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.image.InitSystem;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.net.Forwarder;
import dev.berth.agent.net.Network;
import dev.berth.agent.store.AtomicFiles;
import dev.berth.agent.runtime.Command;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.ExecResult;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.profile.ComposedProfile;
import dev.berth.profile.Composer;
import dev.berth.profile.HostFacts;
import dev.berth.profile.LxcConfig;
import dev.berth.profile.LxcConfigItem;
import dev.berth.profile.Node;
import dev.berth.profile.ProfileSpec;
import dev.berth.puppet.DriftReport.Drift;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The container lifecycle: launch from profiles and an image, and delete, each all-or-nothing. A
 * launch that fails at any step undoes the steps before it, so no half-made container is left and
 * the name is free again. Names are reserved for the length of an operation, so that of concurrent
 * launches of one name exactly one proceeds.
 */
public final class Instances implements AutoCloseable {

    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration INIT_TIMEOUT = Duration.ofSeconds(30);

    private final Path lxcpath;
    private final ImageStore images;
    private final java.util.function.Supplier<Composer> profiles;
    private final HostFacts host;
    private final NameLocks locks = new NameLocks();
    private final ContainerRecords records;
    private final ContainerSpecs specs;
    private final Reconfigure reconfigure;
    private final ContainerNetwork net;
    private final Snapshotting snapshotting;
    private final ContainerRuntime runtime;
    private final AgentLog log;
    /** Each container's automatic-snapshot settings, from its composed profiles (empty: none); dropped on a change. */

    /** The managed network, or null for an agent without one (containers then have only what their profiles name). */
    private final Network network;

    /** @param profiles the profiles as they are at each launch (they change through the API) */
    /** On liblxc, without a managed network or app images (tests of the container lifecycle). */
    public Instances(Path lxcpath, ImageStore images, java.util.function.Supplier<Composer> profiles, HostFacts host,
                     AgentLog log) {
        this(new dev.berth.agent.runtime.LxcRuntime(lxcpath), images, null, profiles, host, log, null);
    }

    /** @param appStore the app images (null: profiles with an app are refused) */
    public Instances(ContainerRuntime runtime, ImageStore images, dev.berth.agent.oci.AppImageStore appStore,
                     java.util.function.Supplier<Composer> profiles, HostFacts host, AgentLog log, Network network) {
        this.appStore = appStore;
        this.network = network;
        this.runtime = runtime;
        this.lxcpath = runtime.lxcpath();
        this.images = images;
        this.profiles = profiles;
        this.host = host;
        this.log = log;
        this.records = new ContainerRecords(runtime.lxcpath(), log);
        this.specs = new ContainerSpecs(records, profiles);
        this.reconfigure = new Reconfigure(runtime, records, specs, host, log);
        this.net = new ContainerNetwork(network, runtime, records);
        this.snapshotting = new Snapshotting(runtime, records, locks, specs, host, net, log);
    }

    /** Stops the record flusher (after flushing what is queued). */
    @Override
    public void close() {
        records.close();
    }

    /** The runtime the containers run on. */
    public ContainerRuntime runtime() {
        return runtime;
    }

    /** @throws RuntimeException naming the rule when {@code name} cannot be a container's name */
    public void checkName(String name) {
        runtime.checkName(name);
    }

    /** The containers defined under this agent's lxcpath, Berth's or not, sorted. */
    public List<String> names() {
        return runtime.names();
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

    /** The runtime's version, for the agent's info. */
    public String runtimeVersion() {
        return runtime.version();
    }

    /** Container {@code name}'s state and init pid, cheaply; null if it is not defined. */
    public ContainerRuntime.Probe probe(String name) {
        return runtime.probe(name);
    }

    /**
     * Creates container {@code name} from {@code profileNames} (then {@code overrides}) on its image,
     * and starts it.
     *
     * @param imageOverride an image alias or fingerprint that replaces the profiles' {@code image}, or null
     */
    public ContainerRecord launch(String name, List<String> profileNames, Map<String, Object> overrides, String imageOverride) {
        return launch(reserve(name), profileNames, overrides, imageOverride, false);
    }

    /**
     * Claims {@code name} for a launch, so that the API can answer 409 at once to every other launch
     * of it; the reservation ends when the launch it is passed to ends.
     *
     * @throws AgentException.Conflict if the name is taken or being taken
     */
    /** A new container's name becomes its hostname, its directory and a name in listings: what a hostname label may be. */
    private static final java.util.regex.Pattern HOSTNAME = java.util.regex.Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

    public Reservation reserve(String name) {
        runtime.checkName(name);
        if (!HOSTNAME.matcher(name).matches()) {
            throw new AgentException.Invalid("\"" + name.replaceAll("\\p{C}", "?") + "\" is not a container name: it becomes the"
                    + " container's hostname, so it is 1-63 ASCII letters, digits and '-', not starting or ending with '-' (for example web-1)");
        }
        locks.acquire(name, "being created or changed");
        if (Files.exists(lxcpath.resolve(name).resolve("config")) || records.exists(name)) {
            locks.release(name);
            throw new AgentException.Conflict("container \"" + name + "\" already exists");
        }
        return new Reservation(name);
    }

    private final dev.berth.agent.oci.AppImageStore appStore;


    /** The image a profile's app section names (its pin checked), or a clear failure; null without an app. */
    private dev.berth.agent.oci.AppImageStore.AppImage appImage(ProfileSpec.App app) {
        if (app == null) {
            return null;
        }
        if (appStore == null) {
            throw new AgentException.Invalid("this agent has no app image store: the profile's app section cannot be run");
        }
        return appStore.get(app.image()); // a missing image or a broken pin fails here
    }

    /**
     * Checks a launch request without touching anything: the profiles compose, the image exists
     * (busybox is made on first use), the config renders for this host. The API runs this before
     * answering 202, so that bad input is a 4xx, not a failed operation.
     */
    public void check(List<String> profileNames, Map<String, Object> overrides, String imageOverride) {
        ComposedProfile profile = profiles.get().compose(profileNames, Overrides.toNode("request config", Overrides.expand(overrides)));
        String imageRef = imageOverride != null ? imageOverride : profile.spec().image();
        if (!ImageStore.BUSYBOX.equals(imageRef)) {
            images.get(imageRef);
        }
        LxcConfig.render(profile, host, null);
        HostCapacity.check(profile.spec(), host);
        net.check(profile.spec().network());
        appImage(profile.spec().app()); // a missing app image or a broken pin is a 4xx now
        appSpec(profile.spec()); // app limits above the container's are a 4xx now
        dev.berth.profile.PuppetSpec.from(profile); // an unreadable puppet.manifest-file is a 4xx now, naming the file
        ProfileSpec.App app = profile.spec().app();
        if (app != null && app.health() != null && app.health().type() != ProfileSpec.HealthType.COMMAND
                && profile.spec().network() == null) {
            throw new AgentException.Invalid("the app's " + app.health().type().name().toLowerCase(java.util.Locale.ROOT)
                    + " health check goes from the host to the container's address, but the profile gives it no network;"
                    + " add network: {ipv4: auto}, or use a command check (app.health.type: command)");
        }
    }

    /** A name claimed for one launch. */
    public final class Reservation {
        private final String name;

        private Reservation(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }
    }

    /**
     * Launches on a name already reserved with {@link #reserve}; the reservation ends with it.
     *
     * @param ephemeral delete the container (releasing its address, keeping its volumes) when it stops
     */
    public ContainerRecord launch(Reservation reservation, List<String> profileNames, Map<String, Object> overrides,
                                  String imageOverride, boolean ephemeral) {
        return launch(reservation, profileNames, overrides, imageOverride, ephemeral, null);
    }

    /** @param seed a container layer to start from (moved into place), or null for the image as it is */
    private ContainerRecord launch(Reservation reservation, List<String> profileNames, Map<String, Object> overrides,
                                   String imageOverride, boolean ephemeral, Path seed) {
        String name = reservation.name();
        try {
            Map<String, Object> own = Overrides.expand(overrides);
            ComposedProfile profile = profiles.get().compose(profileNames, Overrides.toNode("config of " + name, own));
            String imageRef = imageOverride != null ? imageOverride : profile.spec().image();
            stage("image", "resolving image " + imageRef);
            Image image = images.resolve(imageRef);
            dev.berth.profile.AppSpec app = appSpec(profile.spec());
            dev.berth.agent.oci.AppImageStore.AppImage appImage = appImage(profile.spec().app());
            if (appImage != null) {
                stage("app", "app image " + app.image() + " is " + appImage.digest());
            }
            ProfileSpec.Network netSpec = profile.spec().network();
            HostCapacity.check(profile.spec(), host);
            net.check(netSpec);
            InitSystem init;
            try {
                init = InitSystem.detect(image.rootfs());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read image " + image.fingerprint() + ": " + e.getMessage(), e);
            }
            // The revert closes before the handle, so its undos still have a live handle to work with.
            try (RuntimeContainer container = runtime.open(name); Revert revert = new Revert()) {
                try {
                    String assigned = null;
                    boolean managed = network != null && network.manages(netSpec);
                    if (managed) {
                        stage("network", "assigning an address on " + network.bridge());
                        assigned = network.assign(name, netSpec);
                        revert.add(() -> network.release(name));
                    }
                    List<LxcConfigItem> items = new java.util.ArrayList<>(LxcConfig.render(profile, host, assigned));
                    if (managed) {
                        items.add(new LxcConfigItem("lxc.net.0.ipv4.gateway", network.gateway()));
                    }
                    String address = assigned != null ? assigned.substring(0, assigned.indexOf('/'))
                            : netSpec != null && netSpec.ipv4() != null && !netSpec.ipv4().auto() ? netSpec.ipv4().address() : null;
                    List<Forwarder.Forward> forwards = Network.forwards(netSpec);
                    if (!forwards.isEmpty()) {
                        // Before anything is made: a host port in use fails the launch here, with nothing to undo on disk.
                        stage("network", "opening port forwards " + forwards);
                        net.require().openForwards(name, address, forwards);
                        revert.add(() -> network.closeForwards(name));
                    }
                    // The intent goes to disk first: an agent killed from here on finds it and undoes the launch.
                    ContainerRecord record = new ContainerRecord(name, image.fingerprint(), List.copyOf(profileNames),
                            own, Instant.now(), ContainerRecord.Status.CREATING, address, forwards, ephemeral);
                    records.write(record);
                    revert.add(() -> {
                        runtime.forget(name);
                        records.forget(name);
                        deleteDirectory(container.directory());
                    });
                    // Every item is an LxcConfigItem, which refuses what liblxc would read as another item.
                    List<LxcConfigItem> config = new java.util.ArrayList<>();
                    image.lxcConfig().forEach((k, v) -> config.add(new LxcConfigItem(k, v)));
                    // The profile's own items come after these: its nesting mounts win over the app's.
                    if (appImage != null) {
                        config.addAll(dev.berth.agent.oci.AppRuntime.lxcConfig());
                    } else if (items.stream().noneMatch(i -> i.key().equals("lxc.mount.auto"))) {
                        config.add(new LxcConfigItem("lxc.mount.auto", "proc:mixed sys:ro cgroup:mixed"));
                    }
                    config.add(new LxcConfigItem("lxc.uts.name", name));
                    config.addAll(items);
                    container.setConfigItems(config.stream().map(i -> Map.entry(i.key(), i.value())).toList());
                    stage("define", "defining " + name + " on image " + image.fingerprint().substring(0, 12));
                    container.createOnOverlay(image.rootfs());
                    revert.add(container::destroy);
                    closeToOthers(container.directory());
                    if (seed != null) {
                        Path delta = Snapshots.delta(container.directory());
                        Snapshots.deleteTree(delta);
                        Files.move(seed, delta);
                    }
                    ensureVolumes(profile, items);
                    if (appImage != null) {
                        stage("app", "unpacking app image " + app.image());
                        try (dev.berth.agent.files.ContainerRoot layer = dev.berth.agent.files.ContainerRoot.of(name,
                                Snapshots.delta(container.directory()), idShift(name))) {
                            dev.berth.agent.oci.AppRuntime.prepare(appStore, appImage, app, layer, name, init, image.rootfs(),
                                    appBinds(profile.spec()));
                        }
                    }
                    log.debug("Defined " + name + " on image " + image.fingerprint().substring(0, 12) + " " + image.aliases()
                            + " (overlay), profiles " + profileNames);
                    Failpoints.hit("launch-after-define");
                    stage("start", "starting " + name);
                    HostMounts.start(container, host);
                    revert.add(container::stop);
                    stage("init", "waiting for " + name + "'s init");
                    int pid = container.initPid().orElse(-1);
                    if (!new InitReady(init, INIT_TIMEOUT).await(pid)) {
                        log.warn(name + ": init did not get ready within " + INIT_TIMEOUT.toSeconds() + " s; it is running, see its console");
                    }
                    log.debug("Started " + name + ", init pid " + pid);
                    if (appImage != null) {
                        stage("app", "starting app " + app.image());
                        awaitSupervisor(name, container, pid, init);
                        log.debug("Started app " + app.image() + " in " + name);
                    }
                    ContainerRecord ready = record.with(ContainerRecord.Status.READY);
                    records.write(ready);
                    revert.success();
                    if (managed) {
                        refreshHosts();
                    }
                    return ready;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw revert.failed(new java.util.concurrent.CancellationException("launch of " + name + " interrupted"));
                } catch (IOException e) {
                    throw revert.failed(new UncheckedIOException("cannot launch " + name + ": " + e.getMessage(), e));
                } catch (RuntimeException e) {
                    throw revert.failed(e);
                }
            }
        } finally {
            locks.release(name);
        }
    }

    /**
     * A container's directory (config, layer, snapshots) is root's alone: its layer can hold setuid-root
     * files that no other host user may reach.
     */
    public static void closeToOthers(Path containerDir) throws IOException {
        Files.setPosixFilePermissions(containerDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }

    private static final Duration APP_START_TIMEOUT = Duration.ofSeconds(30);

    /**
     * After container {@code name} (which has an app) started: its init starts the app's supervisor
     * (the agent does for an init it cannot hook); waits until the supervisor has reported, so that a
     * runtime that cannot run at all fails the launch.
     */
    private void awaitSupervisor(String name, RuntimeContainer container, int pid, InitSystem init) throws InterruptedException {
        try (dev.berth.agent.files.ContainerRoot root = dev.berth.agent.files.ContainerRoot.ofProcess(name, pid, idShift(name))) {
            if (dev.berth.agent.oci.AppRuntime.agentStarts(init)) {
                dev.berth.agent.oci.AppRuntime.start(container, root, init);
            }
            if (!dev.berth.agent.ops.Wait.upTo(APP_START_TIMEOUT, Duration.ofMillis(20))
                    .until(() -> dev.berth.agent.oci.AppRuntime.status(root).state() != dev.berth.agent.oci.AppStatus.ABSENT)) {
                ExecResult crun = container.run(Command.of("sh", "-c", dev.berth.agent.oci.AppRuntime.CRUN
                        + " --version 2>&1 | head -1; tail -n 5 " + dev.berth.agent.oci.AppRuntime.LOG + " 2>&1"));
                throw new AgentException.Invalid("the app's supervisor did not report within " + APP_START_TIMEOUT.toSeconds()
                        + " s in " + name + " (crun: " + crun.stdoutText().strip().replace('\n', ' ')
                        + "); is crun installed on the host (scripts/setup.sh installs it)?");
            }
        }
    }

    /** Starts the app's supervisor after a start the agent made, for a container whose init does not. */
    private void startAppAfterStart(String name) {
        if (appSpecOf(name) == null) {
            return;
        }
        InitSystem init = initOf(name);
        if (!dev.berth.agent.oci.AppRuntime.agentStarts(init)) {
            return;
        }
        try (RuntimeContainer container = runtime.open(name)) {
            int pid = container.initPid().orElse(-1);
            try (dev.berth.agent.files.ContainerRoot root = dev.berth.agent.files.ContainerRoot.ofProcess(name, pid, idShift(name))) {
                dev.berth.agent.oci.AppRuntime.start(container, root, init);
            }
        } catch (RuntimeException e) {
            log.warn("Could not start the app in " + name + ": " + e.getMessage());
        }
    }

    /** Reports a step of the operation running this, if any (the CLI shows it as progress). */
    private static void stage(String stage, String text) {
        dev.berth.agent.ops.Operations.current().ifPresent(op -> op.progress(Map.of("stage", stage, "text", text)));
    }

    /** {@link #delete(String, boolean)} with a clean stop first. */
    public void delete(String name) {
        delete(name, false);
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
                records.write(record(name).with(ContainerRecord.Status.DELETING));
            } catch (AgentException.NotFound e) {
                // not made by Berth: deleted all the same, there is no record to mark
            }
            Failpoints.hit("delete-after-intent");
            Halt.stop(container, force, STOP_GRACE);
            runtime.forget(name);
            container.destroy();
            deleteDirectory(container.directory());
            records.forget(name);
            snapshotting.forgetSchedule(name);
            net.release(name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + name, e);
        } finally {
            locks.release(name);
        }
    }

    /** Creates the named volumes a profile mounts that do not exist yet, owned by the container's root. */
    private void ensureVolumes(ComposedProfile profile, List<LxcConfigItem> items) throws IOException {
        if (profile.spec().mounts() == null) {
            return;
        }
        int shift = items.stream().filter(i -> i.key().equals("lxc.idmap") && i.value().startsWith("u 0 "))
                .map(i -> Integer.parseInt(i.value().split("\\s+")[2])).findFirst().orElse(0);
        for (ProfileSpec.Mount mount : profile.spec().mounts()) {
            if (mount.volume() == null) {
                continue;
            }
            Path dir = host.volumesDir().resolve(mount.volume());
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                if (shift != 0) {
                    Files.setAttribute(dir, "unix:uid", shift);
                    Files.setAttribute(dir, "unix:gid", shift);
                }
                log.info("Created volume " + mount.volume() + " (first mounted by a launch)");
            }
        }
    }

    /** Runs {@code work} on container {@code name} with no other operation of the kind on it. */
    public <T> T exclusive(String name, java.util.function.Supplier<T> work) {
        runtime.checkName(name);
        return locks.exclusive(name, lxcpath, work);
    }

    /**
     * Takes the automatic snapshots that are due (profile {@code snapshots.schedule}) and deletes those
     * past their {@code expiry}. Snapshots taken by hand are never expired.
     *
     * @return one line per snapshot taken or expired
     */
    public List<String> scheduledSnapshots() {
        return snapshotting.scheduled();
    }

    public Snapshotting.SnapshotView snapshot(String name, String snapshot) {
        return snapshotting.take(name, snapshot);
    }

    /** @throws AgentException.Invalid unless {@code snapshot} is a snapshot name */
    public static void checkSnapshotName(String snapshot) {
        Snapshotting.checkName(snapshot);
    }

    public List<Snapshotting.SnapshotView> snapshots(String name) {
        return snapshotting.list(name);
    }

    public void restore(String name, String snapshot) {
        snapshotting.restore(name, snapshot);
    }

    public void deleteSnapshot(String name, String snapshot) {
        snapshotting.delete(name, snapshot);
    }

    /**
     * Makes container {@code reservation} a copy of {@code source} (or of its snapshot
     * {@code snapshot}): the same profiles, overrides and image, its own layer copied, a new address.
     */
    public ContainerRecord copy(Reservation reservation, String source, String snapshot, boolean ephemeral) {
        ContainerRecord from;
        try {
            from = record(source);
        } catch (AgentException.NotFound e) {
            locks.release(reservation.name());
            throw e;
        }
        Path seed = lxcpath.resolve(reservation.name() + ".copy-" + Long.toHexString(System.nanoTime()));
        try {
            if (snapshot != null) {
                Path snap = Snapshots.dir(lxcpath.resolve(source), snapshot);
                if (!Files.isDirectory(snap)) {
                    throw new AgentException.NotFound("no snapshot " + snapshot + " of " + source);
                }
                Snapshots.copyTree(snap.resolve("delta"), seed);
            } else {
                exclusive(source, () -> snapshotting.whileFrozen(source, () -> {
                    try {
                        Snapshots.copyTree(Snapshots.delta(lxcpath.resolve(source)), seed);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot copy " + source + "'s layer: " + e.getMessage(), e);
                    }
                    return null;
                }));
            }
            return launch(reservation, from.profiles(), from.overrides(), from.imageFingerprint(), ephemeral, seed);
        } catch (IOException e) {
            locks.release(reservation.name());
            throw new UncheckedIOException("cannot copy " + source + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            locks.release(reservation.name());
            throw e;
        } finally {
            try {
                Snapshots.deleteTree(seed);
            } catch (IOException e) {
                log.warn("cannot remove the copy's staging directory " + seed + ": " + e.getMessage());
            }
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
            } catch (AgentException.Conflict e) {
                // the reaper saw it stopped first and is deleting it: the stop ends when the container is gone
                try {
                    dev.berth.agent.ops.Wait.upTo(Duration.ofSeconds(60), Duration.ofMillis(20))
                            .until(() -> !Files.exists(lxcpath.resolve(name).resolve("config")));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            log.info("Deleted ephemeral container " + name + " on its stop");
        } else if (action == Action.START || action == Action.RESTART) {
            startAppAfterStart(name);
            if (network != null && network.addressOf(name) != null) {
                refreshHosts();
            }
        }
    }

    private boolean isEphemeral(String name) {
        try {
            return record(name).ephemeral();
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
        List<String> reaped = new java.util.ArrayList<>();
        for (String name : names()) {
            if (locks.isHeld(name) || !isEphemeral(name)) {
                continue;
            }
            ContainerRuntime.Probe p = probe(name);
            if (p != null && p.state() == dev.berth.agent.runtime.State.STOPPED) {
                try {
                    delete(name, true);
                    reaped.add(name);
                } catch (AgentException.Conflict | AgentException.NotFound e) {
                    // an operation has it (a start, a delete): leave it to that
                }
            }
        }
        return reaped;
    }

    /** Rewrites the hosts block in every running container on the managed bridge. */
    public void refreshHosts() {
        net.refreshHosts();
    }

    /** Where container {@code name}'s ids start on the host: its idmap's, or 0 when it is privileged. */
    public int idShift(String name) {
        return net.idShift(name);
    }

    /** {@link ContainerNetwork#adopt}. */
    public List<String> adoptNetwork() {
        return net.adopt(names());
    }


    /** {@link Reconfigure#update}. */
    public Reconfigure.Reapplied update(String name, Map<String, Object> overrides) {
        snapshotting.forgetSchedule(name);
        return reconfigure.update(name, overrides);
    }

    /** {@link Reconfigure#reapply}. */
    public Reconfigure.Reapplied reapply(String name) {
        snapshotting.forgetSchedule(name);
        return reconfigure.reapply(name);
    }

    /** {@link Reconfigure#envelopeDrift}. */
    public List<Drift> envelopeDrift(String name, boolean reconcile) {
        return reconfigure.envelopeDrift(name, reconcile);
    }

    /** The containers made from image {@code fingerprint}, sorted. */
    public List<String> usingImage(String fingerprint) {
        List<String> users = new java.util.ArrayList<>();
        for (String name : names()) {
            try {
                if (fingerprint.equals(record(name).imageFingerprint())) {
                    users.add(name);
                }
            } catch (AgentException.NotFound e) {
                // not made by Berth: not on a Berth image
            }
        }
        return users;
    }

    /**
     * The containers whose composed profiles name an app image that {@code matches} (a reference
     * as written: name[:tag][@digest]), sorted; containers whose profiles no longer compose are skipped.
     */
    public List<String> usingAppImage(java.util.function.Predicate<String> matches) {
        List<String> users = new java.util.ArrayList<>();
        for (String name : names()) {
            if (appImageOf(name).filter(matches).isPresent()) {
                users.add(name);
            }
        }
        return users;
    }

    /** The lxcpath this agent's containers live in. */
    public Path lxcpath() {
        return lxcpath;
    }

    private ComposedProfile composedOf(String name) {
        return specs.composed(name);
    }

    /** Container {@code name}'s app with its defaults filled, or null without one (or when its profiles no longer compose). */
    public dev.berth.profile.AppSpec appSpecOf(String name) {
        try {
            return appSpec(composedOf(name).spec());
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Container {@code name}'s Puppet configuration, or null without one; a profile that no longer composes is an error. */
    public dev.berth.profile.PuppetSpec puppetSpecOf(String name) {
        return dev.berth.profile.PuppetSpec.from(composedOf(name));
    }

    /** A profile's app with its limits resolved for this host and checked against the container's (a bad one is a 400). */
    private dev.berth.profile.AppSpec appSpec(ProfileSpec spec) {
        try {
            return dev.berth.profile.AppSpec.from(spec, host.memoryBytes());
        } catch (IllegalArgumentException e) {
            throw new AgentException.Invalid(e.getMessage());
        }
    }

    /** How many previous app revisions container {@code name}'s profile keeps, or null for the default. */
    public Integer appKeepOf(String name) {
        ProfileSpec.App app = composedOf(name).spec().app();
        return app == null ? null : app.keep();
    }

    /** The system container's mounts (path inside to read-only) that its app sees at the same paths. */
    static Map<String, Boolean> appBinds(ProfileSpec spec) {
        Map<String, Boolean> binds = new java.util.LinkedHashMap<>();
        if (spec.mounts() != null) {
            spec.mounts().forEach(m -> binds.put(m.path(), Boolean.TRUE.equals(m.readOnly())));
        }
        return binds;
    }

    public Map<String, Boolean> appBindsOf(String name) {
        return appBinds(composedOf(name).spec());
    }

    /** The init container {@code name}'s image runs. */
    public InitSystem initOf(String name) {
        try {
            return InitSystem.detect(images.get(record(name).imageFingerprint()).rootfs());
        } catch (IOException | RuntimeException e) {
            return InitSystem.OTHER;
        }
    }

    /** Container {@code name}'s address (its record's), or null. */
    public String addressOf(String name) {
        try {
            String address = record(name).address();
            return address != null ? address : network == null ? null : network.addressOf(name);
        } catch (AgentException.NotFound e) {
            return null;
        }
    }

    /** The app image container {@code name}'s composed profiles name, if they have an app section. */
    public java.util.Optional<String> appImageOf(String name) {
        try {
            ProfileSpec.App app = specs.composed(name).spec().app();
            return java.util.Optional.ofNullable(app == null ? null : app.image());
        } catch (RuntimeException e) {
            return java.util.Optional.empty(); // not Berth's, or its profiles no longer compose
        }
    }

    /** The containers whose records name profile {@code profile}, sorted. */
    public List<String> usedBy(String profile) {
        return usedByAny(Set.of(profile));
    }

    /** The containers whose records name any of {@code profiles}, sorted. */
    public List<String> usedByAny(Set<String> profiles) {
        List<String> users = new java.util.ArrayList<>();
        for (String name : names()) {
            try {
                if (record(name).profiles().stream().anyMatch(profiles::contains)) {
                    users.add(name);
                }
            } catch (AgentException.NotFound e) {
                // not made by Berth: uses no Berth profile
            }
        }
        return users;
    }

    /** Berth's record of container {@code name}. */
    public ContainerRecord record(String name) {
        return records.get(name);
    }

    /**
     * Finishes or undoes what an agent killed mid-operation left behind: a launch that had not
     * completed is rolled back (stopped, destroyed, directory removed), a delete that had begun is
     * completed. Containers that were ready are left exactly as they are, running or not.
     *
     * @return one line per container acted on, for the log and the events
     */
    public List<String> recover() {
        List<String> actions = new java.util.ArrayList<>();
        try (var dirs = Files.list(lxcpath)) {
            for (Path dir : dirs.filter(d -> records.exists(d.getFileName().toString())).sorted().toList()) {
                String name = dir.getFileName().toString();
                recoverRestore(dir, name, actions);
                ContainerRecord.Status status;
                try {
                    status = record(name).status();
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
                deleteDirectory(dir);
                records.forget(name);
                if (network != null) {
                    network.release(name);
                }
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
                    startAppAfterStart(name);
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
        List<String> started = new java.util.ArrayList<>();
        for (String name : names()) {
            try (RuntimeContainer container = runtime.open(name)) {
                if (!container.isRunning() && "1".equals(container.configItem("lxc.start.auto"))) {
                    try {
                        HostMounts.start(container, host);
                    } catch (AgentException.Invalid e) {
                        log.warn("not starting " + name + ": " + e.getMessage());
                        continue;
                    }
                    started.add(name);
                    startAppAfterStart(name);
                }
            }
        }
        return started;
    }

    private static void deleteDirectory(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
