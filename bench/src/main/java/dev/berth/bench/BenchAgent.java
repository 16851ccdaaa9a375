package dev.berth.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.AgentClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * berthd as its own process ({@code bin/berthd}) for a benchmark: its own state dir, lxcpath, socket
 * and bridge under {@code root} (the images from a shared store), and the CLI's client to it.
 * {@link #close} deletes what it made through the agent, stops it, and removes its lxcpath, its
 * directory and its bridge.
 */
final class BenchAgent implements AutoCloseable {

    static final Duration OP_TIMEOUT = Duration.ofMinutes(20);

    private final Path root;
    private final Path lxcpath;
    private final String bridge;
    private final Process process;
    private final AgentClient client;

    /** @param subnet the bridge's address with its prefix, e.g. 10.231.251.1/24 (tests use others) */
    BenchAgent(Path root, Path lxcpath, Path images, String bridge, String subnet) throws Exception {
        this.root = root;
        this.lxcpath = lxcpath;
        this.bridge = bridge;
        Path socket = root.resolve("berth.sock");
        Path config = root.resolve("berthd.yaml");
        Files.writeString(config, "state-dir: " + root.resolve("state") + "\nlxcpath: " + lxcpath + "\nsocket: " + socket
                + "\nimages: " + images + "\nlog-level: warn\n"
                // A bridge of the benchmark's own (removed at the end), not the host's berthbr0.
                + "network: {bridge: " + bridge + ", ipv4: " + subnet + "}\n");
        Path launcher = Path.of(System.getProperty("berth.root", ".")).resolve("bin/berthd").toAbsolutePath();
        process = new ProcessBuilder(launcher.toString(), "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("berthd.log").toFile()).start();
        client = new AgentClient(socket);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                if (client.get("/1.0").status() == 200) {
                    return;
                }
            } catch (AgentClient.AgentException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("berthd did not start; see " + root.resolve("berthd.log"), e);
                }
            }
            Thread.sleep(50);
        }
    }

    /**
     * An agent under a new directory of /var/tmp, on its own bridge {@code prefix}br with
     * {@code subnet}, its images from the shared test image store (or {@code -Dberth.bench.images}).
     */
    static BenchAgent temporary(String bench, String prefix, String subnet) throws Exception {
        Path images = Path.of(System.getProperty("berth.bench.images", "/var/cache/berth-test/images"));
        Path root = Files.createTempDirectory(Path.of("/var/tmp"), "berth-" + bench + "-");
        // as berthd keeps its state dir: root's, traversable, so that unprivileged containers' roots reach their rootfs
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        return new BenchAgent(root, root.resolve("lxc"), images, prefix + "br", subnet);
    }

    /** Names for a run: {@code letters} and this process's id, so that two runs never share one. */
    static String prefix(String letters) {
        return letters + Long.toString(ProcessHandle.current().pid(), 36);
    }

    Path root() {
        return root;
    }

    AgentClient client() {
        return client;
    }

    long pid() {
        return process.pid();
    }

    Path lxcpath() {
        return lxcpath;
    }

    /** Launches container {@code name} from {@code profile}, failing unless the launch succeeded. */
    void launch(String name, String profile) {
        JsonNode done = client.run("POST", "/1.0/containers", java.util.Map.of("name", name, "profiles", java.util.List.of(profile)),
                OP_TIMEOUT);
        if (!"success".equals(done.path("status").asText())) {
            throw new IllegalStateException("launch of " + name + " failed: " + done);
        }
    }

    /** Adds (or replaces) a profile. */
    void profile(String name, String body) {
        client.call("POST", "/1.0/profiles", java.util.Map.of("name", name, "content", "name: " + name + "\n" + body));
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            try {
                for (JsonNode url : client.get("/1.0/containers").body()) {
                    client.run("DELETE", url.asText() + "?force=true", null, OP_TIMEOUT);
                }
            } catch (RuntimeException e) {
                System.err.println("cleanup through the agent failed (" + e.getMessage() + "); removing directly");
            }
            process.destroy();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        Measure.cleanUp(lxcpath, java.util.Set.of());
        new ProcessBuilder("rm", "-rf", "--one-file-system", root.toString()).start().waitFor();
        new ProcessBuilder("ip", "link", "del", bridge).start().waitFor();
    }
}
