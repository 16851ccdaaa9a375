package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcCommand;
import dev.berth.lxc.LxcContainer;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.Test;

/**
 * A full-OS Debian image built by debootstrap through the API, launched to a running systemd. The
 * image store is shared by test runs ({@code /var/cache/berth-test/images}, or
 * {@code -Dberth.test.images}): the recipe is built once per machine, later runs find it by recipe.
 */
@RequiresLxc
public class DebianImageTest {

    public static final Path IMAGES = Path.of(System.getProperty("berth.test.images", "/var/cache/berth-test/images"));
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aDebootstrappedImageBootsSystemdThroughTheAgent(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        Path socket = state.resolve("berth.sock");
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket).withImages(IMAGES)).start()) {
            BlockingQueue<JsonNode> progress = new LinkedBlockingQueue<>();
            UnixHttp.WebSocket events = UnixHttp.WebSocket.open(socket, "/1.0/events?type=operation");
            Thread.ofVirtual().start(() -> {
                try {
                    for (String text; (text = events.next()) != null; ) {
                        JsonNode metadata = JSON.readTree(text).path("metadata").path("operation").path("metadata");
                        if (metadata.has("stage")) {
                            progress.add(metadata);
                        }
                    }
                } catch (Exception e) {
                    // closed by the test
                }
            });

            JsonNode build = awaitOperation(socket, request(socket, "POST", "/1.0/images",
                    "{\"source\":{\"type\":\"debootstrap\"},\"aliases\":[\"debian/12\"]}"));
            events.close();
            assertThat(build.get("status").asText()).as(build.toString()).isEqualTo("success");
            JsonNode made = build.get("metadata");
            if (!made.get("cached").asBoolean()) {
                // A real build streamed debootstrap's stages as it went.
                assertThat(progress).extracting(p -> p.get("stage").asText()).contains("Retrieving", "Unpacking", "Configuring");
            }
            JsonNode image = body(request(socket, "GET", "/1.0/images/debian%2F12", null));
            assertThat(image.get("fingerprint").asText()).isEqualTo(made.get("fingerprint").asText());
            assertThat(image.get("recipe").get("packages")).extracting(JsonNode::asText)
                    .contains("systemd-sysv", "iproute2", "puppet", "crun", "catatonit");
            assertThat(image.get("packages").asInt()).as("the package manifest is kept").isGreaterThan(100);

            // The same recipe again (packages in another order) is the same image: nothing is built.
            JsonNode again = awaitOperation(socket, request(socket, "POST", "/1.0/images",
                    "{\"source\":{\"type\":\"debootstrap\",\"recipe\":{\"packages\":[\"catatonit\",\"crun\",\"puppet\","
                            + "\"iproute2\",\"systemd-sysv\"]}}}"));
            assertThat(again.get("metadata").get("cached").asBoolean()).isTrue();
            assertThat(again.get("metadata").get("fingerprint").asText()).isEqualTo(made.get("fingerprint").asText());

            request(socket, "POST", "/1.0/profiles", JSON.writeValueAsString(java.util.Map.of("name", "debian", "content", """
                    name: debian
                    image: debian/12
                    limits: {memory: 512MiB, pids: 2048}
                    security: {privileged: true, nesting: false}
                    """)));
            String name = sandbox.name("deb");
            JsonNode launched = awaitOperation(socket, request(socket, "POST", "/1.0/containers",
                    "{\"name\":\"" + name + "\",\"profiles\":[\"debian\"]}"));
            assertThat(launched.get("status").asText()).as(launched.toString()).isEqualTo("success");
            try (LxcContainer container = Lxc.open(name, sandbox.lxcpath())) {
                var state1 = systemState(container);
                String failed = new String(container.run(LxcCommand.of("systemctl", "--failed", "--no-legend")).stdout());
                assertThat(new String(state1.stdout()).strip()).as("exit %d, stderr %s, failed units: %s", state1.exitCode(), new String(state1.stderr()), failed).isIn("running", "degraded");
                assertThat(new String(container.run(LxcCommand.of("hostname")).stdout()).strip()).isEqualTo(name);
                assertThat(new String(container.run(LxcCommand.of("cat", "/etc/machine-id")).stdout()).strip())
                        .as("a machine id of its own").hasSize(32);
            }
            assertThat(awaitOperation(socket, request(socket, "DELETE", "/1.0/containers/" + name, null)).get("status").asText())
                    .isEqualTo("success");

            // Unprivileged, on the same image (id-mapped, not copied): systemd comes up as a host uid of its own range.
            request(socket, "POST", "/1.0/profiles", JSON.writeValueAsString(java.util.Map.of("name", "debian-u", "content", """
                    name: debian-u
                    image: debian/12
                    limits: {memory: 512MiB, pids: 2048}
                    security: {privileged: false, nesting: false}
                    """)));
            String unprivileged = sandbox.name("debu");
            JsonNode launchedU = awaitOperation(socket, request(socket, "POST", "/1.0/containers",
                    "{\"name\":\"" + unprivileged + "\",\"profiles\":[\"debian-u\"]}"));
            assertThat(launchedU.get("status").asText()).as(launchedU.toString()).isEqualTo("success");
            try (LxcContainer container = Lxc.open(unprivileged, sandbox.lxcpath())) {
                var systemd = systemState(container);
                String failed = new String(container.run(LxcCommand.of("systemctl", "--failed", "--no-legend")).stdout());
                assertThat(new String(systemd.stdout()).strip()).as("exit %d, stderr %s, failed units: %s", systemd.exitCode(),
                        new String(systemd.stderr()), failed).isIn("running", "degraded");
                String uid = java.nio.file.Files.readAllLines(Path.of("/proc/" + container.initPid().getAsInt() + "/status")).stream()
                        .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1];
                assertThat(Long.parseLong(uid)).as("systemd's host uid").isGreaterThanOrEqualTo(1_000_000L);
                assertThat(new String(container.run(LxcCommand.of("stat", "-c", "%u", "/usr/bin/systemctl")).stdout()).strip())
                        .as("the image's files are root's inside").isEqualTo("0");
            }
            assertThat(awaitOperation(socket, request(socket, "DELETE", "/1.0/containers/" + unprivileged, null)).get("status")
                    .asText()).isEqualTo("success");
        }
    }

    /**
     * {@code systemctl is-system-running --wait}, once systemd's bus socket exists (the container is
     * RUNNING some hundred milliseconds before systemd listens); gives up after a minute.
     */
    static dev.berth.lxc.ExecResult systemState(LxcContainer container) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
        while (true) {
            var result = container.run(new LxcCommand(List.of("timeout", "60", "systemctl", "is-system-running", "--wait"),
                    java.util.Map.of(), "/", 0, 0, null));
            if (!new String(result.stderr()).contains("Failed to connect to bus") || System.nanoTime() > deadline) {
                return result;
            }
            Thread.sleep(20);
        }
    }

    static String request(Path socket, String method, String path, String body) throws Exception {
        return UnixHttp.request(socket, method, path, body);
    }

    static JsonNode body(String response) throws Exception {
        return JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4));
    }

    /** Waits on the operation a 202 response names, however long it runs (a cold build takes a minute or two). */
    static JsonNode awaitOperation(Path socket, String accepted) throws Exception {
        assertThat(accepted).as(accepted).startsWith("HTTP/1.1 202");
        String operation = body(accepted).get("operation").asText();
        for (int i = 0; i < 30; i++) {
            JsonNode op = body(request(socket, "GET", operation + "/wait?timeout=60", null));
            if (!List.of("pending", "running").contains(op.get("status").asText())) {
                return op;
            }
        }
        throw new AssertionError("operation " + operation + " still running after 30 minutes");
    }
}
