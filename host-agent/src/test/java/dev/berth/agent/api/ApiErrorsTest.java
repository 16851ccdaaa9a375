package dev.berth.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.container.Containers;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.ops.Operations;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.agent.runtime.FakeRuntime;
import dev.berth.profile.HostFacts;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API's 4xx answers and error bodies, on the in-memory runtime (no root): every bad input is a 4xx
 * with a message and, where there is one, the field; nothing is made.
 */
@Tag("no-root")
class ApiErrorsTest {

    @TempDir
    Path dir;
    private Vertx vertx;
    private Operations operations;
    private Containers containers;
    private Path socket;
    private FakeRuntime runtime;

    private record Reply(int status, JsonNode body) {
    }

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.builder().withTransport(Transport.EPOLL).build();
        Events events = new Events();
        AgentLog log = new AgentLog(events, AgentLog.Level.ERROR);
        operations = new Operations(events, log);
        Path profiles = Files.createDirectories(dir.resolve("profiles"));
        Files.writeString(profiles.resolve("small.yaml"), "name: small\nimage: busybox\nsecurity: {privileged: true}\n");
        runtime = new FakeRuntime(Files.createDirectories(dir.resolve("containers")));
        HostFacts host = new HostFacts(HostFacts.Cgroups.V1, 8L << 30, dir.resolve("volumes"), "berthbr0", 100000, 65536, List.of());
        ImageStore images = new ImageStore(dir.resolve("images"));
        ProfileRegistry registry = new ProfileRegistry(profiles);
        dev.berth.agent.oci.AppImageStore appImages = new dev.berth.agent.oci.AppImageStore(dir.resolve("app-images"));
        containers = new Containers(runtime, images, appImages, registry, host, log, null);
        ApiServer api = new ApiServer(vertx, containers.services(operations, events,
                new dev.berth.agent.store.Volumes(dir.resolve("volumes"), runtime.lxcpath()), 1));
        socket = dir.resolve("berth.sock");
        vertx.createHttpServer().requestHandler(api.router()).listen(SocketAddress.domainSocketAddress(socket.toString()))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        operations.close();
        if (containers != null) {
            containers.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private Reply call(String method, String path, String body) throws Exception {
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((method + " " + path + " HTTP/1.1\r\nHost: b\r\nConnection: close\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + content.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
            channel.write(ByteBuffer.wrap(content));
            String raw = new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(raw.substring(9, 12));
            String text = raw.substring(raw.indexOf("\r\n\r\n") + 4);
            return new Reply(status, text.isEmpty() ? null : ApiServer.JSON.readTree(text));
        }
    }

    private void refused(int status, String method, String path, String body, String... words) throws Exception {
        Reply reply = call(method, path, body);
        assertThat(reply.status()).as("%s %s %s: %s", method, path, body, reply.body()).isEqualTo(status);
        assertThat(reply.body().path("type").asText()).isEqualTo("error");
        assertThat(reply.body().path("status").asInt()).isEqualTo(status);
        assertThat(reply.body().path("error").asText()).contains(words);
    }

    @Test
    void badBodiesAreFourHundredsNamingWhatIsWrong() throws Exception {
        refused(400, "POST", "/1.0/containers", "null", "JSON null");
        refused(400, "POST", "/1.0/containers", "[".repeat(1000) + "]".repeat(1000), "malformed JSON");
        refused(400, "POST", "/1.0/containers", "{\"name\": ", "malformed JSON");
        refused(400, "POST", "/1.0/containers", "{}", "name is required");
        refused(400, "POST", "/1.0/containers", "", "needs a JSON body");
        refused(400, "GET", "/1.0/containers/%2e%2e", null, "'..' segment");
        refused(404, "GET", "/1.0/nothing", null, "no such endpoint");
        refused(404, "GET", "/1.0/containers/ghost", null, "no container \"ghost\"");
    }

    @Test
    void namesThatAreNoHostnamesAndLimitsTheHostCannotGiveAreRefusedBeforeAnythingIsMade() throws Exception {
        for (String name : List.of("a_b", "-x", "x-", "b\\u202Ea", "a:b")) {
            refused(400, "POST", "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"small\"]}", "is not a container name");
        }
        refused(400, "POST", "/1.0/containers", "{\"name\":\"big\",\"profiles\":[\"small\"],\"config\":{\"limits.memory\":\"1TiB\"}}",
                "more than this host has");
        refused(400, "POST", "/1.0/containers", "{\"name\":\"tiny\",\"profiles\":[\"small\"],\"config\":{\"limits.memory\":\"1KiB\"}}",
                "too little");
        refused(400, "POST", "/1.0/containers", "{\"name\":\"smug\",\"profiles\":[\"small\"],\"config\":{\"environment.A\":\"x\\nlxc.hook.pre-start = /bin/true\"}}",
                "U+000A");
        refused(400, "POST", "/1.0/containers", "{\"name\":\"lost\",\"profiles\":[\"nope\"]}", "no profile named 'nope'");
        assertThat(runtime.names()).isEmpty();
        assertThat(runtime.calls()).isEmpty();
    }

    @Test
    void operationsAndSnapshotsOfWhatDoesNotExistSaySo() throws Exception {
        refused(404, "GET", "/1.0/operations/0000", null, "no operation");
        refused(404, "GET", "/1.0/operations/0000/wait?timeout=5", null, "no operation");
        refused(400, "POST", "/1.0/containers/web/snapshots", "{\"name\":\"../x\"}", "not a snapshot name");
        assertThat(runtime.calls()).doesNotContain("freeze web");
    }
}
