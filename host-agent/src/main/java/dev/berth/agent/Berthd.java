package dev.berth.agent;

import dev.berth.agent.api.ApiServer;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.instance.Instances;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * berthd: the host agent. {@link #start()} brings up the API on the Unix socket (and a TCP address if
 * asked); {@link #close()} stops it; both are safe to call once each, in that order.
 *
 * <p>Usage: {@code berthd [--state-dir DIR] [--lxcpath DIR] [--socket PATH] [--listen HOST:PORT]}.
 */
public final class Berthd implements AutoCloseable {

    /** Settings, with the defaults of a host install. */
    public record Settings(Path stateDir, Path lxcpath, Path socket, String listen) {

        public static Settings defaults() {
            Path state = Path.of("/var/lib/berth");
            return new Settings(state, state.resolve("containers"), Path.of("/run/berth/berth.sock"), null);
        }

        static Settings parse(String[] args) {
            Path state = null;
            Path lxcpath = null;
            Path socket = null;
            String listen = null;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--state-dir" -> state = Path.of(require(args[i], value));
                    case "--lxcpath" -> lxcpath = Path.of(require(args[i], value));
                    case "--socket" -> socket = Path.of(require(args[i], value));
                    case "--listen" -> listen = require(args[i], value);
                    case "-h", "--help" -> throw new Usage(null);
                    default -> throw new Usage("unknown option " + args[i]);
                }
                i++;
            }
            Settings d = defaults();
            Path s = state == null ? d.stateDir() : state;
            return new Settings(s, lxcpath == null ? s.resolve("containers") : lxcpath,
                    socket == null ? d.socket() : socket, listen);
        }

        private static String require(String option, String value) {
            if (value == null) {
                throw new Usage(option + " needs a value");
            }
            return value;
        }
    }

    /** A command-line mistake, with the usage text. */
    static final class Usage extends RuntimeException {
        Usage(String message) {
            super(message);
        }
    }

    static final String USAGE = """
            usage: berthd [--state-dir DIR] [--lxcpath DIR] [--socket PATH] [--listen HOST:PORT]
              --state-dir DIR    Berth's state: images, profiles, records (default /var/lib/berth)
              --lxcpath DIR      where containers live (default <state-dir>/containers)
              --socket PATH      the local API's Unix socket, mode 0660 (default /run/berth/berth.sock)
              --listen HOST:PORT also serve the API over TCP (no TLS yet: use loopback only)
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
              privileged: true    # until image ownership is shifted for idmapped containers
              nesting: false
            """;

    private final Settings settings;
    private final AtomicReference<Vertx> vertx = new AtomicReference<>();
    private Operations operations;

    public Berthd(Settings settings) {
        this.settings = settings;
    }

    /** Starts the agent and returns once the API is listening. */
    public Berthd start() throws Exception {
        Files.createDirectories(settings.lxcpath());
        Path profilesDir = Files.createDirectories(settings.stateDir().resolve("profiles"));
        if (!Files.exists(profilesDir.resolve("default.yaml"))) {
            Files.writeString(profilesDir.resolve("default.yaml"), DEFAULT_PROFILE);
        }
        ProfileRegistry profiles = new ProfileRegistry(profilesDir);
        Instances instances = new Instances(settings.lxcpath(), new ImageStore(settings.stateDir().resolve("images")),
                profiles::composer, hostFacts(settings.stateDir()));
        for (String action : instances.recover()) {
            System.out.println("berthd: " + action);
        }
        for (String name : instances.autostart()) {
            System.out.println("berthd: autostarted " + name);
        }
        Vertx v = Vertx.builder().withTransport(Transport.EPOLL).build();
        if (!vertx.compareAndSet(null, v)) {
            v.close();
            throw new IllegalStateException("berthd already started");
        }
        Events events = new Events();
        operations = new Operations(events);
        ApiServer api = new ApiServer(v, settings.lxcpath(), instances, profiles, operations, events);
        Files.createDirectories(settings.socket().toAbsolutePath().getParent());
        Files.deleteIfExists(settings.socket()); // a stale socket from a killed agent; two agents must not share one
        HttpServer server = v.createHttpServer().requestHandler(api.router());
        await(server.listen(SocketAddress.domainSocketAddress(settings.socket().toString())));
        Files.setPosixFilePermissions(settings.socket(), PosixFilePermissions.fromString("rw-rw----"));
        if (settings.listen() != null) {
            int colon = settings.listen().lastIndexOf(':');
            await(v.createHttpServer().requestHandler(api.router())
                    .listen(Integer.parseInt(settings.listen().substring(colon + 1)), settings.listen().substring(0, colon)));
        }
        return this;
    }

    @Override
    public void close() throws Exception {
        Vertx v = vertx.getAndSet(null);
        if (v != null) {
            await(v.close());
            operations.close();
            Files.deleteIfExists(settings.socket());
        }
    }

    public static void main(String[] args) throws Exception {
        Settings settings;
        try {
            settings = Settings.parse(args);
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
        System.out.println("berthd listening on " + settings.socket() + (settings.listen() == null ? "" : " and " + settings.listen())
                + "; containers in " + settings.lxcpath());
    }

    private static HostFacts hostFacts(Path stateDir) throws IOException {
        long memory = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D+", "")) * 1024).findFirst().orElse(0);
        HostFacts.Cgroups cgroups = Files.isDirectory(Path.of("/sys/fs/cgroup/memory")) ? HostFacts.Cgroups.V1 : HostFacts.Cgroups.V2;
        return new HostFacts(cgroups, memory, stateDir.resolve("volumes"), "berthbr0", 100000, 65536, List.of());
    }

    private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
