package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.image.Image;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.image.InitSystem;
import dev.berth.agent.net.Forwarder;
import dev.berth.agent.net.Network;
import dev.berth.agent.oci.AppImageStore;
import dev.berth.agent.oci.AppRuntime;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Operations;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.profile.ComposedProfile;
import dev.berth.profile.HostFacts;
import dev.berth.profile.LxcConfig;
import dev.berth.profile.LxcConfigItem;
import dev.berth.profile.ProfileSpec;
import dev.berth.profile.PuppetSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Makes containers: checks a launch before it is accepted, launches from profiles and an image,
 * and copies. All or nothing: a launch that fails at any step undoes the steps before it in
 * reverse (a {@link Revert}), so no half-made container is left and the name is free again; one
 * the agent was killed in is undone at the next start ({@link Lifecycle#recover}). A name is
 * reserved for the length of its launch, so that of concurrent launches of one name exactly one
 * proceeds.
 */
public final class Launcher {

    private static final Duration INIT_TIMEOUT = Duration.ofSeconds(30);
    /** A new container's name becomes its hostname, its directory and a name in listings: what a hostname label may be. */
    private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

    private final ContainerRuntime runtime;
    private final Path lxcpath;
    private final ImageStore images;
    /** The app images, or null: profiles with an app are then refused. */
    private final AppImageStore appStore;
    private final HostFacts host;
    private final ContainerRecords records;
    private final NameLocks locks;
    private final ContainerSpecs specs;
    private final ContainerNetwork net;
    /** The managed network, or null for an agent without one (containers then have only what their profiles name). */
    private final Network network;
    private final Snapshotting snapshotting;
    private final AppStart appStart;
    private final IdPool idPool;
    private final AgentLog log;

    public Launcher(ContainerRuntime runtime, ImageStore images, AppImageStore appStore, HostFacts host, ContainerRecords records,
                    NameLocks locks, ContainerSpecs specs, ContainerNetwork net, Network network, Snapshotting snapshotting,
                    IdPool idPool, AgentLog log) {
        this.runtime = runtime;
        this.lxcpath = runtime.lxcpath();
        this.images = images;
        this.appStore = appStore;
        this.host = host;
        this.records = records;
        this.locks = locks;
        this.specs = specs;
        this.net = net;
        this.network = network;
        this.snapshotting = snapshotting;
        this.appStart = new AppStart(runtime, specs, log);
        this.idPool = idPool;
        this.log = log;
    }

    /**
     * What to launch: {@code profiles} in order, then {@code config} (dotted keys allowed) over them,
     * on {@code image} (an alias or fingerprint in place of the profiles' {@code image}, or null);
     * {@code ephemeral}: deleted (address released, volumes kept) when it stops.
     */
    public record LaunchRequest(List<String> profiles, Map<String, Object> config, String image, boolean ephemeral) {
        public LaunchRequest {
            profiles = List.copyOf(profiles);
            config = config == null ? Map.of() : config;
        }

        /** The profiles alone, on their image. */
        public static LaunchRequest of(String... profiles) {
            return new LaunchRequest(List.of(profiles), Map.of(), null, false);
        }
    }

    /** A name claimed for one launch or copy; it ends with the operation it is passed to. */
    public static final class Reservation {
        private final String name;

        private Reservation(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }
    }

    /**
     * Claims {@code name} for a launch, so that the API can answer 409 at once to every other launch
     * of it.
     *
     * @throws AgentException.Invalid when {@code name} cannot be a container's name
     * @throws AgentException.Conflict if the name is taken
     * @throws AgentException.Busy if another operation is taking it
     */
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

    /**
     * An unprivileged container's bind mounts of host directories (volumes, host paths), staged: each
     * entry's source becomes the container's {@link RuntimeContainer#stagedBind}, and the host source goes
     * into {@code binds} for the runtime to mount there at each start (its root cannot pass the volumes
     * directory, which is root's alone).
     */
    static List<LxcConfigItem> staged(RuntimeContainer container, List<LxcConfigItem> items, Map<String, Path> binds) {
        List<LxcConfigItem> out = new ArrayList<>(items.size());
        for (LxcConfigItem item : items) {
            String[] fields = item.key().equals("lxc.mount.entry") ? item.value().split(" ", 2) : null;
            if (fields == null || fields.length < 2 || !fields[0].startsWith("/")) {
                out.add(item);
                continue;
            }
            String key = "b" + binds.size();
            binds.put(key, Path.of(fields[0]));
            out.add(new LxcConfigItem(item.key(), container.stagedBind(key) + " " + fields[1]));
        }
        return out;
    }

    /** Whether a profile makes root inside root on the host: only when it says {@code security.privileged: true}. */
    static boolean privileged(ProfileSpec spec) {
        return spec.security() != null && Boolean.TRUE.equals(spec.security().privileged());
    }

    /** Set once the lxcpath was found reachable by other users (it does not become unreachable by itself). */
    private volatile boolean traversable;

    /**
     * An unprivileged container's init reaches its rootfs as its own host uid: every directory from / to
     * the lxcpath must let others through ({@code o+x}, as berthd keeps its state dir and lxcpath).
     */
    private void requireTraversableLxcpath() throws IOException {
        if (traversable) {
            return;
        }
        for (Path dir = lxcpath.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
            if (!Files.getPosixFilePermissions(dir).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                throw new AgentException.Invalid("unprivileged containers need every directory above their lxcpath to let"
                        + " others through, and " + dir + " is " + PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))
                        + ": chmod o+x " + dir + " (or set security.privileged: true in the profile)");
            }
        }
        traversable = true;
    }

    /** Reserves {@code name} and launches {@code request} on it. */
    public ContainerRecord launch(String name, LaunchRequest request) {
        return launch(reserve(name), request);
    }

    /**
     * Creates the container reserved by {@code reservation} from {@code request} and starts it; the
     * reservation ends with it.
     */
    public ContainerRecord launch(Reservation reservation, LaunchRequest request) {
        return launch(reservation, request, null);
    }

    /** The image a profile's app section names (its pin checked), or a clear failure; null without an app. */
    private AppImageStore.AppImage appImage(ProfileSpec.App app) {
        if (app == null) {
            return null;
        }
        if (appStore == null) {
            throw new AgentException.Unavailable("this agent has no app image store: the profile's app section cannot be run");
        }
        return appStore.get(app.image()); // a missing image or a broken pin fails here
    }

    /**
     * Checks a launch request without touching anything: the profiles compose, the image exists
     * (busybox is made on first use), the config renders for this host. The API runs this before
     * answering 202, so that bad input is a 4xx, not a failed operation.
     */
    public void check(LaunchRequest request) {
        ComposedProfile profile = specs.profiles().compose(request.profiles(), Overrides.toNode("request config", Overrides.expand(request.config())));
        String imageRef = request.image() != null ? request.image() : profile.spec().image();
        if (!ImageStore.BUSYBOX.equals(imageRef)) {
            images.get(imageRef);
        }
        LxcConfig.render(profile, host, null);
        HostCapacity.check(profile.spec(), host);
        if (!privileged(profile.spec())) {
            runtime.checkIdmappedMounts(ImageStore.BUSYBOX.equals(imageRef) && !images.find(imageRef).isPresent()
                    ? images.directory() : images.get(imageRef).rootfs());
            try {
                requireTraversableLxcpath(); // a 4xx now, not a failed start
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the permissions above " + lxcpath + ": " + e.getMessage(), e);
            }
        }
        net.check(profile.spec().network());
        appImage(profile.spec().app()); // a missing app image or a broken pin is a 4xx now
        specs.appSpec(profile.spec()); // app limits above the container's are a 4xx now
        PuppetSpec.from(profile); // an unreadable puppet.manifest-file is a 4xx now, naming the file
        ProfileSpec.App app = profile.spec().app();
        if (app != null && app.health() != null && app.health().type() != ProfileSpec.HealthType.COMMAND
                && profile.spec().network() == null) {
            throw new AgentException.Invalid("the app's " + app.health().type().name().toLowerCase(java.util.Locale.ROOT)
                    + " health check goes from the host to the container's address, but the profile gives it no network;"
                    + " add network: {ipv4: auto}, or use a command check (app.health.type: command)");
        }
    }

    /** A container layer to start from (moved into place), owned as the container whose ids start at {@code idShift}. */
    private record Seed(Path layer, long idShift) {
    }

    /** @param seed a layer to start from, or null for the image as it is */
    private ContainerRecord launch(Reservation reservation, LaunchRequest request, Seed seed) {
        String name = reservation.name();
        try {
            Map<String, Object> own = Overrides.expand(request.config());
            ComposedProfile profile = specs.profiles().compose(request.profiles(), Overrides.toNode("config of " + name, own));
            String imageRef = request.image() != null ? request.image() : profile.spec().image();
            stage("image", "resolving image " + imageRef);
            Image image = images.resolve(imageRef);
            dev.berth.profile.AppSpec app = specs.appSpec(profile.spec());
            AppImageStore.AppImage appImage = appImage(profile.spec().app());
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
            boolean unprivileged = !privileged(profile.spec());
            // The revert closes before the handle, so its undos still have a live handle to work with.
            try (RuntimeContainer container = runtime.open(name); Revert revert = new Revert()) {
                Long shift = null;
                try {
                    HostFacts launchHost = host;
                    if (unprivileged) {
                        requireTraversableLxcpath();
                        long start;
                        if (profile.spec().security() != null && profile.spec().security().idmap() == ProfileSpec.Idmap.SHARED) {
                            start = idPool.shared(); // the range every shared container runs as
                        } else {
                            // its own range of host ids, held from here until the record names it
                            start = idPool.allocate();
                            revert.add(() -> idPool.release(start));
                        }
                        shift = start;
                        launchHost = new HostFacts(host.cgroups(), host.memoryBytes(), host.volumesDir(), host.defaultBridge(),
                                start, IdPool.SIZE, host.hostPathAllowList());
                    }
                    String assigned = null;
                    boolean managed = network != null && network.manages(netSpec);
                    if (managed) {
                        stage("network", "assigning an address on " + network.bridge());
                        assigned = network.assign(name, netSpec);
                        revert.add(() -> network.release(name));
                    }
                    List<LxcConfigItem> items = new ArrayList<>(LxcConfig.render(profile, launchHost, assigned));
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
                    ContainerRecord record = new ContainerRecord(name, image.fingerprint(), List.copyOf(request.profiles()),
                            own, Instant.now(), ContainerRecord.Status.CREATING, address, forwards, request.ephemeral(), shift);
                    records.write(record);
                    revert.add(() -> {
                        runtime.forget(name);
                        records.forget(name);
                        Snapshots.deleteTree(container.directory());
                    });
                    // Every item is an LxcConfigItem, which refuses what liblxc would read as another item.
                    List<LxcConfigItem> config = new ArrayList<>();
                    image.lxcConfig().forEach((k, v) -> config.add(new LxcConfigItem(k, v)));
                    // The profile's own items come after these: its nesting mounts win over the app's.
                    if (appImage != null) {
                        config.addAll(AppRuntime.lxcConfig());
                    } else if (items.stream().noneMatch(i -> i.key().equals("lxc.mount.auto"))) {
                        config.add(new LxcConfigItem("lxc.mount.auto", "proc:mixed sys:ro cgroup:mixed"));
                    }
                    config.add(new LxcConfigItem("lxc.uts.name", name));
                    Map<String, Path> binds = new java.util.LinkedHashMap<>();
                    config.addAll(shift == null ? items : staged(container, items, binds));
                    container.setConfigItems(config.stream().map(i -> Map.entry(i.key(), i.value())).toList());
                    stage("define", "defining " + name + " on image " + image.fingerprint().substring(0, 12));
                    if (shift != null) {
                        container.createOnIdmappedOverlay(image.rootfs(), shift, binds);
                    } else {
                        container.createOnOverlay(image.rootfs());
                    }
                    revert.add(container::destroy);
                    closeToOthers(container.directory(), shift);
                    if (seed != null) {
                        Path delta = Snapshots.delta(container.directory());
                        Snapshots.deleteTree(delta);
                        long to = shift == null ? 0 : shift;
                        if (seed.idShift() != to) {
                            stage("define", "shifting the copied layer's owners from " + seed.idShift() + " to " + to);
                            IdShift.reshift(seed.layer(), seed.idShift(), to, IdPool.SIZE);
                        }
                        Files.move(seed.layer(), delta);
                    }
                    ensureVolumes(profile, items);
                    if (appImage != null) {
                        stage("app", "unpacking app image " + app.image());
                        try (ContainerRoot layer = ContainerRoot.of(name,
                                Snapshots.delta(container.directory()), runtime.idShift(name))) {
                            AppRuntime.prepare(appStore, appImage, app, layer, name, init, image.rootfs(),
                                    ContainerSpecs.appBinds(profile.spec()));
                        }
                    }
                    log.debug("Defined " + name + " on image " + image.fingerprint().substring(0, 12) + " " + image.aliases()
                            + " (overlay), profiles " + request.profiles());
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
                        appStart.awaitSupervisor(name, container, pid, init);
                        log.debug("Started app " + app.image() + " in " + name);
                    }
                    ContainerRecord ready = record.with(ContainerRecord.Status.READY);
                    records.write(ready);
                    revert.success();
                    if (shift != null) {
                        idPool.release(shift); // the record holds it now
                    }
                    if (managed) {
                        net.refreshHosts();
                    }
                    return ready;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw revert.failed(new java.util.concurrent.CancellationException("launch of " + name + " interrupted"));
                } catch (IOException e) {
                    throw revert.failed(new AgentException.Failed("cannot launch " + name + ": " + e.getMessage(), e));
                } catch (RuntimeException e) {
                    throw revert.failed(e);
                }
            }
        } finally {
            locks.release(name);
        }
    }

    /**
     * A container's directory (config, layer, snapshots) is closed to other host users: a privileged
     * container's is root's alone (its layer can hold setuid-root files no other host user may reach);
     * an unprivileged one's belongs to its mapped root and only lets it through ({@code --x------}, as
     * LXD does), since its init reaches its rootfs as that user.
     */
    public static void closeToOthers(Path containerDir, Long shift) throws IOException {
        if (shift == null) {
            Files.setPosixFilePermissions(containerDir, PosixFilePermissions.fromString("rwx------"));
            return;
        }
        Files.setAttribute(containerDir, "unix:uid", (int) (long) shift);
        Files.setAttribute(containerDir, "unix:gid", (int) (long) shift);
        Files.setPosixFilePermissions(containerDir, PosixFilePermissions.fromString("--x------"));
    }

    /** Reports a step of the operation running this, if any (the CLI shows it as progress). */
    private static void stage(String stage, String text) {
        Operations.current().ifPresent(op -> op.progress(Map.of("stage", stage, "text", text)));
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

    /**
     * Makes container {@code reservation} a copy of {@code source} (or of its snapshot
     * {@code snapshot}): the same profiles, overrides and image, its own layer copied, a new address.
     */
    public ContainerRecord copy(Reservation reservation, String source, String snapshot, boolean ephemeral) {
        ContainerRecord from;
        try {
            from = records.get(source);
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
                locks.exclusive(source, () -> snapshotting.whileFrozen(source, () -> {
                    try {
                        Snapshots.copyTree(Snapshots.delta(lxcpath.resolve(source)), seed);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot copy " + source + "'s layer: " + e.getMessage(), e);
                    }
                    return null;
                }));
            }
            long fromShift = from.idmapStart() != null ? from.idmapStart() : runtime.idShift(source);
            return launch(reservation, new LaunchRequest(from.profiles(), from.overrides(), from.imageFingerprint(), ephemeral),
                    new Seed(seed, fromShift));
        } catch (IOException e) {
            locks.release(reservation.name());
            throw new AgentException.Failed("cannot copy " + source + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            locks.release(reservation.name()); // again if the launch ended it: releasing is idempotent
            throw e;
        } finally {
            try {
                Snapshots.deleteTree(seed);
            } catch (IOException e) {
                log.warn("cannot remove the copy's staging directory " + seed + ": " + e.getMessage());
            }
        }
    }
}
