package dev.berth.agent.container;

import dev.berth.agent.api.ApiServer;
import dev.berth.agent.app.AppService;
import dev.berth.agent.drift.DriftService;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.net.Network;
import dev.berth.agent.oci.AppImageStore;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.ops.Operations;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.LxcRuntime;
import dev.berth.agent.store.Volumes;
import dev.berth.profile.HostFacts;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The container services wired as {@code Berthd} wires them, for tests: on liblxc or on a
 * {@code FakeRuntime}, with or without app images and a managed network.
 */
public final class Containers implements AutoCloseable {

    public final ContainerRuntime runtime;
    public final ImageStore images;
    public final AppImageStore appImages;
    public final ProfileRegistry profiles;
    public final HostFacts host;
    public final AgentLog log;
    public final ContainerRecords records;
    public final NameLocks locks;
    public final ContainerSpecs specs;
    public final Snapshotting snapshots;
    public final Reconfigure reconfigure;
    public final IdPool idPool;
    public final Launcher launcher;
    public final Lifecycle lifecycle;

    /** The tests' id pool: within the range scripts/setup.sh gives root (root:1000000:1000000000). */
    public static final long POOL_START = 1_000_000;

    public Containers(ContainerRuntime runtime, ImageStore images, AppImageStore appImages, ProfileRegistry profiles,
                      HostFacts host, AgentLog log, Network network) {
        this(runtime, images, appImages, profiles, host, log, network, POOL_START);
    }

    /** @param poolStart where unprivileged containers' id ranges start (outside root's subordinate ids: their start fails) */
    public Containers(ContainerRuntime runtime, ImageStore images, AppImageStore appImages, ProfileRegistry profiles,
                      HostFacts host, AgentLog log, Network network, long poolStart) {
        this.runtime = runtime;
        this.images = images;
        this.appImages = appImages;
        this.profiles = profiles;
        this.host = host;
        this.log = log;
        this.records = new ContainerRecords(runtime.lxcpath(), log);
        this.locks = new NameLocks(runtime.lxcpath());
        this.specs = new ContainerSpecs(records, profiles, runtime, images, host, network);
        ContainerNetwork net = new ContainerNetwork(network, runtime, records);
        this.snapshots = new Snapshotting(runtime, records, locks, specs, host, net, log);
        this.idPool = new IdPool(records, runtime, poolStart, 64);
        this.reconfigure = new Reconfigure(runtime, records, specs, host, idPool, images, log);
        this.launcher = new Launcher(runtime, images, appImages, host, records, locks, specs, net, network, snapshots, idPool, log);
        this.lifecycle = new Lifecycle(runtime, host, records, locks, specs, net, log);
    }

    /** Images for the tests on a FakeRuntime: one store per test JVM (busybox made once), removed when it exits. */
    private static Path fakeImages;

    private static synchronized Path fakeImages() throws java.io.IOException {
        if (fakeImages == null) {
            // outside any @TempDir: the image's absolute applet links make JUnit warn at every delete
            Path dir = java.nio.file.Files.createTempDirectory("berth-fake-images");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (var walk = java.nio.file.Files.walk(dir)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        java.nio.file.Files.deleteIfExists(p);
                    }
                } catch (java.io.IOException e) {
                    System.err.println("cannot remove " + dir + ": " + e.getMessage());
                }
            }));
            fakeImages = dir;
        }
        return fakeImages;
    }

    /**
     * On {@code runtime} (a FakeRuntime: no root, no liblxc), with {@code profiles}, a host of 8 GiB whose
     * volumes are under {@code dir}, the shared test images, and no app images or managed network.
     */
    public static Containers onFake(ContainerRuntime runtime, ProfileRegistry profiles, Path dir) throws java.io.IOException {
        HostFacts host = new HostFacts(HostFacts.Cgroups.V1, 8L << 30, dir.resolve("volumes"), "berthbr0", 100000, 65536, List.of());
        return new Containers(runtime, new ImageStore(fakeImages()), null, profiles, host,
                new AgentLog(new dev.berth.agent.ops.Events(), AgentLog.Level.ERROR), null);
    }

    /** On liblxc at {@code lxcpath}, without app images or a managed network. */
    public static Containers onLxc(Path lxcpath, ImageStore images, ProfileRegistry profiles, HostFacts host, AgentLog log) {
        return new Containers(new LxcRuntime(lxcpath), images, null, profiles, host, log, null);
    }

    /** Launches {@code name} from {@code profiles} with {@code config} over them (null: none), on their image. */
    public ContainerRecord launch(String name, List<String> profiles, Map<String, Object> config) {
        return launcher.launch(name, new Launcher.LaunchRequest(profiles, config, null, false));
    }

    /** The app service over these containers. */
    public AppService apps(Events events) {
        ContainerFiles files = new ContainerFiles(runtime);
        return new AppService(runtime, specs, files, locks, appImages, new dev.berth.agent.app.AppMonitor(runtime, specs, files, events, log),
                events, log);
    }

    /** Everything the API needs, over these containers. */
    public ApiServer.Services services(Operations operations, Events events, Volumes volumes, int driftConcurrency) {
        return new ApiServer.Services(lifecycle, launcher, specs, reconfigure, snapshots, new ContainerFiles(runtime),
                new ContainerExec(runtime), images, profiles, volumes, appImages, apps(events),
                new DriftService(runtime, specs, new ContainerFiles(runtime), reconfigure, events, log, driftConcurrency), operations, events, log);
    }

    @Override
    public void close() {
        records.close();
    }
}
