package dev.berth.agent;

import dev.berth.agent.api.ApiServer;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.app.AppMonitor;
import dev.berth.agent.app.AppService;
import dev.berth.agent.container.ContainerExec;
import dev.berth.agent.container.ContainerFiles;
import dev.berth.agent.container.ContainerNetwork;
import dev.berth.agent.container.ContainerRecords;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.container.IdPool;
import dev.berth.agent.container.Launcher;
import dev.berth.agent.container.Lifecycle;
import dev.berth.agent.container.NameLocks;
import dev.berth.agent.container.Reconfigure;
import dev.berth.agent.container.Snapshotting;
import dev.berth.agent.drift.DriftService;
import dev.berth.agent.oci.AppImageStore;
import dev.berth.agent.runtime.LxcRuntime;
import dev.berth.agent.net.Forwarder;
import dev.berth.agent.net.Network;
import dev.berth.agent.net.Subnet;
import dev.berth.agent.ops.Events;
import dev.berth.agent.ops.Operations;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.profile.HostFacts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import dev.berth.agent.ops.AgentLog;
import dev.berth.profile.ProfileException;
import dev.berth.profile.YamlBinding;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * berthd: the host agent. {@link #start()} brings up the API on the Unix socket (and a TCP address if
 * asked); {@link #close()} stops it; both are safe to call once each, in that order.
 *
 * <p>Usage: see {@link #USAGE}; settings come from the defaults, then {@code --config FILE}, then the flags.
 */
public final class Berthd implements AutoCloseable {

    /**
     * Settings, resolved from the defaults of a host install, then the config file, then the flags.
     *
     * @param imagesDir         the image store (several agents may share one)
     * @param hostPathAllowList host directories profiles may mount
     */
    public record Settings(Path stateDir, Path lxcpath, Path socket, String listen, AgentLog.Level logLevel, Path imagesDir,
                           List<Path> hostPathAllowList, String bridge, String subnet, int driftConcurrency) {

        public static final String DEFAULT_BRIDGE = "berthbr0";
        public static final String DEFAULT_SUBNET = "10.87.0.1/24";

        public Settings {
            hostPathAllowList = List.copyOf(hostPathAllowList);
        }

        /**
         * An agent on its own state dir, lxcpath and socket, without a managed network (see
         * {@link #withNetwork}), with every other setting at its default.
         */
        public static Settings at(Path stateDir, Path lxcpath, Path socket) {
            return new Settings(stateDir, lxcpath, socket, null, AgentLog.Level.INFO, stateDir.resolve("images"), List.of(), null, null, 2);
        }

        public static Settings defaults() {
            Path state = Path.of("/var/lib/berth");
            return at(state, state.resolve("containers"), Path.of("/run/berth/berth.sock")).withNetwork(DEFAULT_BRIDGE, DEFAULT_SUBNET);
        }

        /** Another image store, shared for example by the agents of a test run. */
        public Settings withImages(Path images) {
            return new Settings(stateDir, lxcpath, socket, listen, logLevel, images, hostPathAllowList, bridge, subnet, driftConcurrency);
        }

        /** A managed bridge {@code name} with address and prefix {@code subnet} (10.87.0.1/24). */
        public Settings withNetwork(String name, String subnetCidr) {
            return new Settings(stateDir, lxcpath, socket, listen, logLevel, imagesDir, hostPathAllowList, name, subnetCidr, driftConcurrency);
        }

        /** How many drift checks may run at once. */
        public Settings withDriftConcurrency(int checks) {
            return new Settings(stateDir, lxcpath, socket, listen, logLevel, imagesDir, hostPathAllowList, bridge, subnet, checks);
        }

        /** Host directories that profiles may mount. */
        public Settings withHostPaths(List<Path> allowed) {
            return new Settings(stateDir, lxcpath, socket, listen, logLevel, imagesDir, allowed, bridge, subnet, driftConcurrency);
        }

        static Settings parse(String[] args) {
            Map<String, String> flags = new java.util.HashMap<>();
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                switch (option) {
                    case "-h", "--help" -> throw new Usage(null);
                    case "--config", "--state-dir", "--lxcpath", "--socket", "--listen", "--log-level", "--bridge" -> {
                        if (i + 1 >= args.length) {
                            throw new Usage(option + " needs a value");
                        }
                        flags.put(option.substring(2), args[++i]);
                    }
                    default -> throw new Usage("unknown option " + option);
                }
            }
            AgentConfig file = flags.containsKey("config")
                    ? YamlBinding.load(Path.of(flags.get("config")), AgentConfig.class)
                    : new AgentConfig(null, null, null, null, null, null, null, null, null);
            Path state = Path.of(first(flags.get("state-dir"), file.stateDir(), "/var/lib/berth"));
            String bridge = first(flags.get("bridge"), file.network() == null ? null : file.network().bridge(), DEFAULT_BRIDGE);
            String level = first(flags.get("log-level"), file.logLevel() == null ? null : file.logLevel().name(), "info");
            AgentLog.Level logLevel;
            try {
                logLevel = AgentLog.Level.valueOf(level.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new Usage("--log-level must be error, warn, info or debug, not " + level);
            }
            return new Settings(state,
                    Path.of(first(flags.get("lxcpath"), file.lxcpath(), state.resolve("containers").toString())),
                    Path.of(first(flags.get("socket"), file.socket(), "/run/berth/berth.sock")),
                    checkListen(first(flags.get("listen"), file.listen(), null)),
                    logLevel,
                    Path.of(first(null, file.images(), state.resolve("images").toString())),
                    file.hostPaths() == null ? List.of() : file.hostPaths().stream().map(Path::of).toList(),
                    bridge == null || bridge.equals("none") ? null : bridge,
                    file.network() == null || file.network().ipv4() == null ? DEFAULT_SUBNET : file.network().ipv4(),
                    file.driftConcurrency() == null ? 2 : Math.max(1, file.driftConcurrency()));
        }

        /**
         * The TCP address the API may also be served on: loopback only, since it has neither TLS nor
         * authentication (the Unix socket has its file mode; other hosts reach the agent over SSH).
         */
        static String checkListen(String listen) {
            if (listen == null) {
                return null;
            }
            int colon = listen.lastIndexOf(':');
            if (colon <= 0 || !listen.substring(colon + 1).matches("\\d{1,5}")) {
                throw new Usage("listen must be HOST:PORT, such as 127.0.0.1:8443; not '" + listen + "'");
            }
            String host = listen.substring(0, colon).replaceAll("^\\[|\\]$", "");
            try {
                if (!java.net.InetAddress.getByName(host).isLoopbackAddress()) {
                    throw new Usage("listen " + listen + " is not a loopback address: the TCP API has no TLS and no authentication,"
                            + " so it serves 127.0.0.1 or ::1 only; reach other hosts' agents with berth --remote (SSH)");
                }
            } catch (java.net.UnknownHostException e) {
                throw new Usage("listen " + listen + ": unknown host " + host);
            }
            return listen;
        }

        private static String first(String flag, String config, String fallback) {
            return flag != null ? flag : config != null ? config : fallback;
        }
    }

    /** A command-line mistake, with the usage text. */
    static final class Usage extends RuntimeException {
        Usage(String message) {
            super(message);
        }
    }

    static final String USAGE = """
            usage: berthd [--config FILE] [--state-dir DIR] [--lxcpath DIR] [--socket PATH] [--listen HOST:PORT]
                          [--log-level LEVEL] [--bridge NAME|none]
              --config FILE      a YAML file with any of: state-dir, lxcpath, socket, listen, log-level,
                                 images (the image store), host-paths (directories profiles may mount);
                                 flags win over the file
              --state-dir DIR    Berth's state: images, profiles, records (default /var/lib/berth)
              --lxcpath DIR      where containers live (default <state-dir>/containers)
              --socket PATH      the local API's Unix socket, mode 0660 (default /run/berth/berth.sock)
              --listen HOST:PORT also serve the API over TCP (no TLS yet: use loopback only)
              --log-level LEVEL  error, warn, info (default) or debug; log lines go to standard error
                                 and to the 'logging' events of /1.0/events
              --bridge NAME      the managed bridge containers attach to (default berthbr0, made if missing
                                 with network.ipv4 of the config file, default 10.87.0.1/24; no NAT);
                                 'none' for no managed network
            Profiles are read from <state-dir>/profiles/*.yaml; a 'default' profile is written if missing.
            """;

    static final String DEFAULT_PROFILE = """
            # Written by berthd when no default profile exists; edit freely.
            name: default
            description: The profile a container gets when none is named
            image: busybox
            limits:
              memory: 256MiB
              pids: 1024
            security:
              privileged: false   # root inside is a host uid of the container's own range (true: root is host root)
              nesting: false
            """;

    private final Settings settings;
    private final AtomicReference<Vertx> vertx = new AtomicReference<>();
    private Operations operations;
    private StateLock stateLock;
    private dev.berth.agent.runtime.ContainerRuntime runtime;
    private ContainerRecords records;
    private ApiServer api;
    private Network network;
    private long reaper = -1;
    private long snapshotter = -1;
    private long appTicker = -1;
    private long driftScheduler = -1;

    public Berthd(Settings settings) {
        this.settings = settings;
    }

    /** Starts the agent and returns once the API is listening. */
    public Berthd start() throws Exception {
        Files.createDirectories(settings.stateDir());
        StateLock held = StateLock.acquire(settings.stateDir());
        try {
            return start(held);
        } catch (Exception | Error e) {
            held.close();
            throw e;
        }
    }

    /**
     * Directories whose content is containers' files (setuid binaries of an image or a container's
     * layer, a volume's data) are closed to other host users, as LXD's are: a host user who could
     * reach them could run a container's setuid-root file on the host. The state dir and lxcpath
     * only let root through (0711); images, volumes, app images and each container are 0700.
     */
    private void closeDirectories() throws IOException {
        for (Path dir : List.of(settings.stateDir(), settings.lxcpath())) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        }
        for (Path dir : List.of(settings.imagesDir(), settings.stateDir().resolve("volumes"), settings.stateDir().resolve("app-images"))) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        try (var containers = Files.list(settings.lxcpath())) {
            for (Path dir : containers.filter(d -> Files.isRegularFile(d.resolve("config"))).toList()) {
                if (!Files.exists(dir.resolve("overlay/source"))) { // an unprivileged container's is its root's, closed at launch
                    Launcher.closeToOthers(dir, null); // containers made before directories were closed
                }
            }
        }
    }

    private Berthd start(StateLock held) throws Exception {
        Files.createDirectories(settings.lxcpath());
        closeDirectories();
        Path profilesDir = Files.createDirectories(settings.stateDir().resolve("profiles"));
        if (!Files.exists(profilesDir.resolve("default.yaml"))) {
            Files.writeString(profilesDir.resolve("default.yaml"), DEFAULT_PROFILE
                    + (settings.bridge() == null ? "" : "network:\n  ipv4: auto     # an address on the managed bridge, kept for life\n"));
        }
        Vertx v = Vertx.builder().withTransport(Transport.EPOLL).build();
        if (!vertx.compareAndSet(null, v)) {
            v.close();
            throw new IllegalStateException("berthd already started");
        }
        stateLock = held;
        try {
            return startServices(v);
        } catch (Exception | Error e) {
            // Half started: what was started is stopped again, in reverse; the state lock goes with the caller.
            try {
                stop(false);
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private Berthd startServices(Vertx v) throws Exception {
        Path profilesDir = settings.stateDir().resolve("profiles");
        Events events = new Events();
        AgentLog log = new AgentLog(events, settings.logLevel());
        if (settings.bridge() != null) {
            network = new Network(settings.bridge(), Subnet.parse(settings.subnet()), settings.stateDir(), new Forwarder(v, log), log);
        }
        // Imports an agent was killed in: their scratch (and any tar still writing into it) goes.
        for (Path store : List.of(settings.imagesDir(), settings.stateDir().resolve("app-images"))) {
            for (Path gone : dev.berth.agent.store.Scratch.clean(store)) {
                log.warn("removed " + gone + ", left by an import that was interrupted");
            }
        }
        ProfileRegistry profiles = new ProfileRegistry(profilesDir);
        ImageStore images = new ImageStore(settings.imagesDir());
        AppImageStore appImages = new AppImageStore(settings.stateDir().resolve("app-images"));
        HostFacts host = hostFacts(settings);
        runtime = new LxcRuntime(settings.lxcpath());
        records = new ContainerRecords(settings.lxcpath(), log);
        NameLocks locks = new NameLocks(settings.lxcpath());
        ContainerSpecs specs = new ContainerSpecs(records, profiles, runtime, images, host, network);
        ContainerNetwork containerNetwork = new ContainerNetwork(network, runtime, records);
        Snapshotting snapshots = new Snapshotting(runtime, records, locks, specs, host, containerNetwork, log);
        IdPool idPool = IdPool.fromSubordinateIds(records, runtime, Path.of("/etc/subuid"), Path.of("/etc/subgid"));
        Reconfigure reconfigure = new Reconfigure(runtime, records, specs, host, idPool, images, log);
        Launcher launcher = new Launcher(runtime, images, appImages, host, records, locks, specs, containerNetwork, network,
                snapshots, idPool, log);
        Lifecycle lifecycle = new Lifecycle(runtime, host, records, locks, specs, containerNetwork, log);
        for (String action : runtime.releaseStrayMounts()) {
            log.warn(action);
        }
        for (String action : reconfigure.recoverConversions()) {
            log.warn(action);
        }
        for (String action : lifecycle.recover()) {
            log.warn(action);
        }
        for (String name : lifecycle.autostart()) {
            log.info("Autostarted " + name);
        }
        for (String action : lifecycle.adoptNetwork()) {
            log.warn(action);
        }
        for (String name : lifecycle.reapEphemeral()) {
            log.info("Deleted ephemeral container " + name + ", stopped while the agent was down");
        }
        // Ephemeral containers that stop by themselves (a poweroff inside) are deleted within a second.
        reaper = v.setPeriodic(1000, id -> v.executeBlocking(lifecycle::reapEphemeral, true).onSuccess(reaped -> reaped.forEach(
                name -> log.info("Deleted ephemeral container " + name + " on its stop"))));
        snapshotter = v.setPeriodic(1000, id -> v.executeBlocking(snapshots::scheduled, true).onSuccess(done -> done.forEach(
                line -> log.info("Automatic snapshots: " + line))));
        operations = new Operations(events, log, settings.stateDir().resolve("operations"));
        ContainerFiles files = new ContainerFiles(runtime);
        AppMonitor appMonitor = new AppMonitor(runtime, specs, files, events, log);
        AppService apps = new AppService(runtime, specs, files, locks, appImages, appMonitor, events, log);
        for (String action : apps.recoverUpgrades()) {
            log.warn(action);
        }
        // App states and health checks: a file read per running app each half second, the checks when due (virtual threads).
        appTicker = v.setPeriodic(25, id -> {
            if (appMonitor.due()) { // a volatile read on the event loop; the work, when there is some, on a worker
                v.executeBlocking(() -> {
                    appMonitor.tick();
                    return null;
                }, true);
            }
        });
        DriftService drift = new DriftService(runtime, specs, files, reconfigure, events, log, settings.driftConcurrency());
        // Scheduled drift checks: each container at its profile's interval (jittered), at most drift-concurrency at once.
        driftScheduler = v.setPeriodic(1000, id -> v.executeBlocking(() -> {
            drift.tick();
            return null;
        }, true));
        api = new ApiServer(v, new ApiServer.Services(lifecycle, launcher, specs, reconfigure, snapshots,
                files, new ContainerExec(runtime), images, profiles,
                new dev.berth.agent.store.Volumes(settings.stateDir().resolve("volumes"), settings.lxcpath()), appImages, apps, drift,
                operations, events, log));
        Files.createDirectories(settings.socket().toAbsolutePath().getParent());
        Files.deleteIfExists(settings.socket()); // a stale socket from a killed agent; two agents must not share one
        HttpServer server = v.createHttpServer().requestHandler(api.router());
        await(server.listen(SocketAddress.domainSocketAddress(settings.socket().toString())));
        Files.setPosixFilePermissions(settings.socket(), PosixFilePermissions.fromString("rw-rw----"));
        if (settings.listen() != null) {
            int colon = settings.listen().lastIndexOf(':');
            await(v.createHttpServer().requestHandler(api.router())
                    .listen(Integer.parseInt(settings.listen().substring(colon + 1)),
                            settings.listen().substring(0, colon).replaceAll("^\\[|\\]$", "")));
        }
        log.info("berthd listening on " + settings.socket() + (settings.listen() == null ? "" : " and " + settings.listen())
                + "; containers in " + settings.lxcpath() + ", images in " + settings.imagesDir());
        return this;
    }

    /** Stops the agent (containers keep running): in the reverse of the start, each part that was started. */
    @Override
    public void close() throws Exception {
        stop(true);
    }

    private void stop(boolean releaseLock) throws Exception {
        Vertx v = vertx.getAndSet(null);
        if (v == null) {
            return;
        }
        v.cancelTimer(reaper);
        v.cancelTimer(snapshotter);
        v.cancelTimer(appTicker);
        v.cancelTimer(driftScheduler);
        if (network != null) {
            network.close(); // its forwards, before the event loops they run on
        }
        await(v.close()); // the API's servers
        if (api != null) {
            api.close();
        }
        if (operations != null) {
            operations.close();
        }
        if (records != null) {
            records.close();
        }
        if (runtime != null) {
            runtime.close();
        }
        Files.deleteIfExists(settings.socket());
        if (releaseLock) {
            stateLock.close();
        }
    }

    public static void main(String[] args) throws Exception {
        Settings settings;
        try {
            settings = Settings.parse(args);
        } catch (ProfileException e) {
            System.err.println("berthd: the config file has errors:\n" + e.getMessage());
            System.exit(2);
            return;
        } catch (Usage e) {
            if (e.getMessage() != null) {
                System.err.println("berthd: " + e.getMessage());
            }
            (e.getMessage() == null ? System.out : System.err).print(USAGE);
            System.exit(e.getMessage() == null ? 0 : 2);
            return;
        }
        Berthd agent = new Berthd(settings).start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                agent.close();
            } catch (Exception e) {
                System.err.println("berthd: unclean stop: " + e.getMessage());
            }
        }, "berthd-stop"));
    }

    private static HostFacts hostFacts(Settings settings) throws IOException {
        long memory = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D+", "")) * 1024).findFirst().orElse(0);
        HostFacts.Cgroups cgroups = Files.isDirectory(Path.of("/sys/fs/cgroup/memory")) ? HostFacts.Cgroups.V1 : HostFacts.Cgroups.V2;
        return new HostFacts(cgroups, memory, settings.stateDir().resolve("volumes"),
                settings.bridge() == null ? Settings.DEFAULT_BRIDGE : settings.bridge(), 100000, 65536,
                settings.hostPathAllowList());
    }

    private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
