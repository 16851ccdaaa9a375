package dev.berth.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.container.Containers;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.ops.Operations;
import dev.berth.lxc.Lxc;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.profile.HostFacts;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The API over a real Unix socket, against real containers. */
@RequiresLxc
class ApiServerTest {

    private Vertx vertx;
    private Operations operations;
    private Containers containers;
    private Events events;
    private AgentLog log;
    private ImageStore images;
    private SocketAddress socket;
    private Path socketPath;

    private record Reply(int status, JsonNode body) {
    }

    @BeforeEach
    void startVertx() {
        vertx = Vertx.builder().withTransport(Transport.EPOLL).build();
        assertThat(vertx.isNativeTransportEnabled()).as("epoll transport, needed for the Unix socket").isTrue();
        events = new Events();
        log = new AgentLog(events, AgentLog.Level.DEBUG);
        operations = new Operations(events, log);
    }

    @AfterEach
    void stopVertx() throws Exception {
        operations.close();
        if (containers != null) {
            containers.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private void startServer(LxcSandbox sandbox) throws Exception {
        Path profileDir = sandbox.scratch("profiles");
        java.nio.file.Files.writeString(profileDir.resolve("small.yaml"), """
                name: small
                image: busybox
                limits: {memory: 64MiB}
                security: {privileged: true, nesting: false}
                """);
        ProfileRegistry profiles = new ProfileRegistry(profileDir);
        HostFacts host = new HostFacts(HostFacts.Cgroups.V1, 8L << 30, Path.of("/var/lib/berth/volumes"), "berthbr0",
                100000, 65536, List.of());
        images = new ImageStore(sandbox.scratch("images"));
        dev.berth.agent.oci.AppImageStore appImages = new dev.berth.agent.oci.AppImageStore(sandbox.scratch("app-images"));
        containers = new Containers(new dev.berth.agent.runtime.LxcRuntime(sandbox.lxcpath()), images, appImages, profiles, host, log,
                null);
        ApiServer api = new ApiServer(vertx, containers.services(operations, events,
                new dev.berth.agent.store.Volumes(sandbox.scratch("volumes"), sandbox.lxcpath()), 2));
        Path path = sandbox.scratch("run").resolve("berth.sock");
        socket = SocketAddress.domainSocketAddress(path.toString());
        socketPath = path;
        HttpServer server = vertx.createHttpServer().requestHandler(api.router());
        server.listen(socket).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private Reply call(HttpMethod method, String uri, String body) throws Exception {
        return raw(method.name(), uri, java.util.Map.of("Content-Type", "application/json"),
                body == null ? new byte[0] : body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * One request per connection, read until the agent closes it, as the CLI's client does. (Vert.x's
     * HTTP client on the Unix socket now and then handed over a reply's status without its body when the
     * server closed the connection right after answering: seen as 400 or 202 with an empty body.)
     */
    private Reply raw(String method, String uri, java.util.Map<String, String> headers, byte[] content) throws Exception {
        try (var channel = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            channel.connect(java.net.UnixDomainSocketAddress.of(socketPath));
            StringBuilder head = new StringBuilder(method + " " + uri + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            head.append("Content-Length: ").append(content.length).append("\r\n\r\n");
            java.nio.ByteBuffer out = java.nio.ByteBuffer.wrap(head.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                channel.write(out);
            }
            out = java.nio.ByteBuffer.wrap(content);
            while (out.hasRemaining()) {
                channel.write(out);
            }
            byte[] all = java.nio.channels.Channels.newInputStream(channel).readAllBytes();
            String text = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            int status = Integer.parseInt(text.substring(9, 12));
            byte[] body = java.util.Arrays.copyOfRange(all, end + 4, all.length);
            if (text.substring(0, end).toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
                body = dechunk(body);
            }
            return new Reply(status, parse(Buffer.buffer(body)));
        }
    }

    private static byte[] dechunk(byte[] body) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int at = 0;
        while (at < body.length) {
            int lineEnd = at;
            while (lineEnd + 1 < body.length && !(body[lineEnd] == '\r' && body[lineEnd + 1] == '\n')) {
                lineEnd++;
            }
            int size = Integer.parseInt(new String(body, at, lineEnd - at, java.nio.charset.StandardCharsets.US_ASCII).split(";")[0].strip(), 16);
            if (size == 0) {
                break;
            }
            out.write(body, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        return out.toByteArray();
    }

    /** The operation URL of a 202 reply. */
    private static String operationOf(Reply reply) {
        assertThat(reply.body().has("operation")).as("expected a 202 with an operation, got %d %s", reply.status(), reply.body())
                .isTrue();
        return reply.body().get("operation").asText();
    }

    private static JsonNode parse(Buffer body) {
        try {
            return ApiServer.JSON.readTree(body.getBytes());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("not JSON: " + body, e);
        }
    }

    @Test
    void createsInspectsAndDeletesAContainerThroughOperations(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        Reply info = call(HttpMethod.GET, "/1.0", null);
        assertThat(info.status()).as(info.body().toString()).isEqualTo(200);
        assertThat(info.body().get("liblxc").asText()).startsWith("5.");

        String name = sandbox.name("api1");
        Reply created = call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"small\"]}");
        assertThat(created.status()).as(created.body().toString()).isEqualTo(202);
        assertThat(created.body().has("operation")).as(created.body().toString()).isTrue();
        String operation = operationOf(created);
        assertThat(operation).startsWith("/1.0/operations/");
        Reply waited = call(HttpMethod.GET, operation + "/wait?timeout=60", null);
        assertThat(waited.body().get("status").asText()).as(waited.body().toString()).isEqualTo("success");

        Reply container = call(HttpMethod.GET, "/1.0/containers/" + name, null);
        assertThat(container.status()).isEqualTo(200);
        assertThat(container.body().get("status").asText()).isEqualTo("RUNNING");
        assertThat(container.body().get("profiles").get(0).asText()).isEqualTo("small");
        assertThat(container.body().get("privileged").asBoolean()).as("the small profile is privileged: marked").isTrue();
        assertThat(call(HttpMethod.GET, "/1.0/containers?recursion=1", null).body().get(0).get("name").asText()).isEqualTo(name);

        Reply state = call(HttpMethod.GET, "/1.0/containers/" + name + "/state", null);
        assertThat(state.body().get("memoryUsage").asLong()).isPositive();
        assertThat(state.body().get("memoryLimit").asLong()).isEqualTo(64L << 20);
        assertThat(state.body().get("processes").asInt()).isPositive();

        for (String action : List.of("freeze", "unfreeze", "stop", "start", "restart")) {
            Reply changed = call(HttpMethod.PUT, "/1.0/containers/" + name + "/state", "{\"action\":\"" + action + "\",\"timeout\":5}");
            assertThat(changed.status()).isEqualTo(202);
            Reply done = call(HttpMethod.GET, operationOf(changed) + "/wait", null);
            assertThat(done.body().get("status").asText()).as(action + ": " + done.body()).isEqualTo("success");
            String expected = switch (action) {
                case "freeze" -> "FROZEN";
                case "stop" -> "STOPPED";
                default -> "RUNNING";
            };
            JsonNode after = call(HttpMethod.GET, "/1.0/containers/" + name + "/state", null).body();
            assertThat(after.get("status").asText()).as(action).isEqualTo(expected);
            // The container view answers from the state probe's cache: it must follow every change.
            JsonNode view = call(HttpMethod.GET, "/1.0/containers/" + name, null).body();
            assertThat(view.get("status").asText()).as(action + ", container view").isEqualTo(expected);
            if (expected.equals("STOPPED")) {
                assertThat(view.path("pid").asInt(0)).as("a stopped container has no pid: " + view).isZero();
            } else {
                assertThat(view.get("pid").asInt()).as(action + ": the view's pid is the running init's").isEqualTo(after.get("pid").asInt());
            }
        }
        assertThat(call(HttpMethod.PUT, "/1.0/containers/" + name + "/state", "{\"action\":\"explode\"}").status()).isEqualTo(400);

        Reply deleted = call(HttpMethod.DELETE, "/1.0/containers/" + name, null);
        assertThat(deleted.status()).isEqualTo(202);
        assertThat(call(HttpMethod.GET, operationOf(deleted) + "/wait", null).body().get("status").asText())
                .isEqualTo("success");
        assertThat(Lxc.definedContainers(sandbox.lxcpath())).isEmpty();
        assertThat(call(HttpMethod.GET, "/1.0/containers/" + name, null).status()).isEqualTo(404);
    }

    @Test
    void ofTwentyConcurrentCreatesOfOneNameExactlyOneIsAccepted(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        String name = sandbox.name("same");
        List<java.util.concurrent.Callable<Reply>> creates = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            creates.add(() -> call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"small\"]}"));
        }
        List<Reply> all = new java.util.ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(20)) {
            for (var f : pool.invokeAll(creates)) {
                all.add(f.get());
            }
        }
        assertThat(all).filteredOn(r -> r.status() == 202).hasSize(1);
        assertThat(all).filteredOn(r -> r.status() == 409).hasSize(19)
                .allSatisfy(r -> assertThat(r.body().get("error").asText()).contains(name));
        Reply accepted = all.stream().filter(r -> r.status() == 202).findFirst().orElseThrow();
        assertThat(call(HttpMethod.GET, operationOf(accepted) + "/wait", null).body().get("status").asText())
                .isEqualTo("success");
        assertThat(call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"small\"]}").status())
                .as("and once it exists").isEqualTo(409);
        Reply deleted = call(HttpMethod.DELETE, "/1.0/containers/" + name, null);
        call(HttpMethod.GET, operationOf(deleted) + "/wait", null);
        assertThat(Lxc.definedContainers(sandbox.lxcpath())).isEmpty();
    }

    @Test
    void aListenerThatDoesNotReadIsDisconnectedInsteadOfBuffered(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        try (var slow = dev.berth.agent.UnixHttp.WebSocket.open(socketPath, "/1.0/events?type=logging")) {
            Thread.sleep(200); // the subscription is made once the upgrade completes on the server
            int published = 20_000;
            String text = "x".repeat(1000);
            for (int i = 0; i < published; i++) {
                events.publish("logging", java.util.Map.of("level", "info", "message", text, "n", i));
            }
            // Only now does the listener read: what the agent queued before it gave up, then the close.
            int received = 0;
            while (slow.next() != null) {
                received++;
            }
            assertThat(slow.closeCode()).as("closed as too slow after " + received + " messages").isEqualTo(1008);
            assertThat(received).as("events beyond the socket's buffers were dropped, not held").isLessThan(published / 2);
        }
        // The agent is fine and serves the next listener.
        assertThat(call(HttpMethod.GET, "/1.0", null).status()).isEqualTo(200);
    }

    @Test
    void eventsReportEachOperationAndLifecycleStepOverAWebSocket(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        java.util.concurrent.BlockingQueue<JsonNode> received = new java.util.concurrent.LinkedBlockingQueue<>();
        dev.berth.agent.UnixHttp.WebSocket ws = dev.berth.agent.UnixHttp.WebSocket.open(socketPath, "/1.0/events");
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                for (String text; (text = ws.next()) != null; ) {
                    received.add(parse(Buffer.buffer(text)));
                }
            } catch (Exception e) {
                // the test closed the socket
            }
        });

        String name = sandbox.name("ev1");
        Reply created = call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"small\"]}");
        call(HttpMethod.GET, operationOf(created) + "/wait", null);
        Reply stopped = call(HttpMethod.PUT, "/1.0/containers/" + name + "/state", "{\"action\":\"stop\",\"force\":true}");
        call(HttpMethod.GET, operationOf(stopped) + "/wait", null);
        Reply deleted = call(HttpMethod.DELETE, "/1.0/containers/" + name, null);
        call(HttpMethod.GET, operationOf(deleted) + "/wait", null);

        List<String> lifecycle = new java.util.ArrayList<>();
        List<String> operationStates = new java.util.ArrayList<>();
        List<String> logLines = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (lifecycle.size() < 3 && System.nanoTime() < deadline) {
            JsonNode event = received.poll(1, TimeUnit.SECONDS);
            if (event == null) {
                continue;
            }
            switch (event.get("type").asText()) {
                case "lifecycle" -> {
                    lifecycle.add(event.get("metadata").get("action").asText());
                    assertThat(event.get("metadata").get("source").asText()).isEqualTo("/1.0/containers/" + name);
                }
                case "logging" -> {
                    // every line logged inside an operation names its container, as an MDC would
                    assertThat(event.get("metadata").get("context").get("container").asText()).isEqualTo(name);
                    logLines.add(event.get("metadata").get("message").asText());
                }
                default -> operationStates.add(event.get("metadata").get("operation").get("status").asText());
            }
        }
        assertThat(lifecycle).containsExactly("container-created", "container-stopped", "container-deleted");
        assertThat(operationStates).contains("pending", "running", "success");
        // paired lines: the start of each operation and its outcome with the time it took
        assertThat(logLines).contains("Creating container " + name + "…", "Deleting container " + name + "…");
        assertThat(logLines).anySatisfy(line -> assertThat(line).matches("Creating container " + name + ": done in \\d+ ms"));
        ws.close();
        reader.join(5000);
    }

    @Test
    void profilesAreCreatedReadReplacedAndDeletedButNotWhileInUse(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        String web = "name: web\ndescription: a web tier\nextends: [small]\nlimits: {memory: 96MiB}  # comment kept\n";
        assertThat(call(HttpMethod.POST, "/1.0/profiles", json("web", web)).status()).isEqualTo(201);
        assertThat(call(HttpMethod.POST, "/1.0/profiles", json("web", web)).status()).isEqualTo(409);
        Reply got = call(HttpMethod.GET, "/1.0/profiles/web", null);
        assertThat(got.body().get("content").asText()).isEqualTo(web);
        assertThat(got.body().get("description").asText()).isEqualTo("a web tier");
        assertThat(call(HttpMethod.GET, "/1.0/profiles/small", null).body().get("extendedBy").get(0).asText()).isEqualTo("web");

        Reply typo = call(HttpMethod.PUT, "/1.0/profiles/web", json(null, "name: web\nlimts: {memory: 1G}\n"));
        assertThat(typo.status()).isEqualTo(400);
        assertThat(typo.body().get("error").asText()).contains("web.yaml:2:1: limts: unknown key 'limts'").contains("did you mean 'limits'?");
        assertThat(call(HttpMethod.GET, "/1.0/profiles/web", null).body().get("content").asText()).as("unchanged").isEqualTo(web);
        Reply cycle = call(HttpMethod.PUT, "/1.0/profiles/small", json(null, "name: small\nextends: [web]\nimage: busybox\n"));
        assertThat(cycle.status()).isEqualTo(400);
        assertThat(cycle.body().get("error").asText()).contains("extends cycle: small -> web -> small");

        String name = sandbox.name("pweb");
        Reply created = call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"web\"]}");
        assertThat(call(HttpMethod.GET, operationOf(created) + "/wait", null).body().get("status").asText())
                .isEqualTo("success");
        assertThat(call(HttpMethod.GET, "/1.0/containers/" + name + "/state", null).body().get("memoryLimit").asLong())
                .isEqualTo(96L << 20);
        Reply inUse = call(HttpMethod.DELETE, "/1.0/profiles/web", null);
        assertThat(inUse.status()).isEqualTo(409);
        assertThat(inUse.body().get("error").asText()).contains("in use by containers [" + name + "]");
        Reply changed = call(HttpMethod.PUT, "/1.0/profiles/web", json(null, web.replace("96MiB", "128MiB")));
        assertThat(changed.body().get("affects").get(0).asText()).isEqualTo(name);

        Reply deleted = call(HttpMethod.DELETE, "/1.0/containers/" + name, null);
        call(HttpMethod.GET, operationOf(deleted) + "/wait", null);
        assertThat(call(HttpMethod.DELETE, "/1.0/profiles/small", null).status()).as("still extended by web").isEqualTo(409);
        assertThat(call(HttpMethod.DELETE, "/1.0/profiles/web", null).status()).isEqualTo(200);
        assertThat(call(HttpMethod.GET, "/1.0/profiles/web", null).status()).isEqualTo(404);
    }

    private static String json(String name, String content) throws Exception {
        java.util.Map<String, String> body = new java.util.LinkedHashMap<>();
        if (name != null) {
            body.put("name", name);
        }
        body.put("content", content);
        return ApiServer.JSON.writeValueAsString(body);
    }

    @Test
    void badRequestsGetClearJsonErrorsAndChangeNothing(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        Reply malformed = call(HttpMethod.POST, "/1.0/containers", "{\"name\": ");
        assertThat(malformed.status()).as(malformed.body().toString()).isEqualTo(400);
        assertThat(malformed.body().get("error").asText()).startsWith("malformed JSON");

        Reply badName = call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"a/b\",\"profiles\":[\"small\"]}");
        assertThat(badName.status()).isEqualTo(400);
        assertThat(badName.body().path("field").asText()).as(badName.body().toString()).isEqualTo("name");
        assertThat(badName.body().get("error").asText()).contains("cannot contain '/'");

        Reply tooBig = call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + "x".repeat(ApiServer.MAX_BODY + 1) + "\"}");
        assertThat(tooBig.status()).isEqualTo(413);

        Reply unknownProfile = call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + sandbox.name("np") + "\",\"profiles\":[\"smal\"]}");
        assertThat(unknownProfile.status()).as(unknownProfile.body().toString()).isEqualTo(400);
        assertThat(unknownProfile.body().get("error").asText()).contains("no profile named 'smal'").contains("did you mean 'small'?");

        Reply unknownImage = call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + sandbox.name("ni") + "\",\"profiles\":[\"small\"],\"image\":\"nosuch\"}");
        assertThat(unknownImage.status()).as(unknownImage.body().toString()).isEqualTo(404);
        assertThat(unknownImage.body().get("error").asText()).contains("no image \"nosuch\"").contains("GET /1.0/images");

        Reply badOverride = call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + sandbox.name("bo") + "\",\"profiles\":[\"small\"],"
                + "\"config\":{\"limits.memroy\":\"1GiB\"}}");
        assertThat(badOverride.status()).as(badOverride.body().toString()).isEqualTo(400);
        assertThat(badOverride.body().get("error").asText()).contains("memroy").contains("memory");

        assertThat(call(HttpMethod.GET, "/1.0/nothing", null).status()).isEqualTo(404);
        assertThat(call(HttpMethod.GET, "/1.0/operations/nope", null).status()).isEqualTo(404);
        assertThat(Lxc.definedContainers(sandbox.lxcpath())).isEmpty();
    }

    @Test
    void imagesAreImportedAliasedLaunchedFromAndKeptWhileUsed(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        Reply busybox = call(HttpMethod.POST, "/1.0/images", "{\"source\":{\"type\":\"busybox\"},\"aliases\":[\"bb\"]}");
        JsonNode made = waitFor(busybox);
        String busyboxFingerprint = made.get("metadata").get("fingerprint").asText();
        assertThat(made.get("metadata").get("aliases")).extracting(JsonNode::asText).contains("busybox", "bb");

        // A rootfs archive: the busybox tree plus a file of our own, uploaded as the body.
        Path tree = sandbox.scratch("tree");
        run("cp", "-a", images.get("busybox").rootfs() + "/.", tree.toString());
        java.nio.file.Files.writeString(tree.resolve("etc/motd"), "imported by a test\n");
        Path archive = sandbox.scratch("upload").resolve("rootfs.tar.xz");
        run("tar", "--numeric-owner", "-C", tree.toString(), "-cJf", archive.toString(), ".");
        Reply upload = upload(java.nio.file.Files.readAllBytes(archive), "mybox,tools/mybox");
        JsonNode imported = waitFor(upload);
        String fingerprint = imported.get("metadata").get("fingerprint").asText();
        assertThat(fingerprint).hasSize(64).isNotEqualTo(busyboxFingerprint);

        Reply listed = call(HttpMethod.GET, "/1.0/images?recursion=1", null);
        assertThat(listed.body()).extracting(i -> i.get("fingerprint").asText()).contains(fingerprint, busyboxFingerprint);
        Reply aliases = call(HttpMethod.GET, "/1.0/images/aliases", null);
        assertThat(aliases.body()).extracting(a -> a.get("name").asText() + "=" + a.get("target").asText().substring(0, 12))
                .contains("mybox=" + fingerprint.substring(0, 12), "tools/mybox=" + fingerprint.substring(0, 12));

        // An alias moves like a tag; removing one leaves the image.
        assertThat(call(HttpMethod.POST, "/1.0/images/aliases", "{\"name\":\"bb\",\"target\":\"mybox\"}").status()).isEqualTo(201);
        assertThat(call(HttpMethod.GET, "/1.0/images/bb", null).body().get("fingerprint").asText()).isEqualTo(fingerprint);
        assertThat(call(HttpMethod.DELETE, "/1.0/images/aliases/bb", null).status()).isEqualTo(200);
        assertThat(call(HttpMethod.GET, "/1.0/images/bb", null).status()).isEqualTo(404);

        String name = sandbox.name("img");
        waitFor(call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"small\"],\"image\":\"mybox\"}"));
        try (var container = Lxc.open(name, sandbox.lxcpath())) {
            assertThat(new String(container.run(dev.berth.lxc.LxcCommand.of("cat", "/etc/motd")).stdout())).isEqualTo("imported by a test\n");
        }
        Reply refused = call(HttpMethod.DELETE, "/1.0/images/mybox", null);
        assertThat(refused.status()).as(refused.body().toString()).isEqualTo(409);
        assertThat(refused.body().get("error").asText()).contains(name).contains("delete them first");

        waitFor(call(HttpMethod.DELETE, "/1.0/containers/" + name, null));
        assertThat(call(HttpMethod.DELETE, "/1.0/images/" + fingerprint.substring(0, 16), null).status()).isEqualTo(200);
        assertThat(call(HttpMethod.GET, "/1.0/images/" + fingerprint, null).status()).isEqualTo(404);
        assertThat(images.directory().resolve(fingerprint)).doesNotExist();

        // Not an archive: the import fails, saying so, and stores nothing.
        JsonNode garbage = waitFor(upload("this is not a tar archive".getBytes(), "junk"));
        assertThat(garbage.get("status").asText()).isEqualTo("failure");
        assertThat(garbage.get("error").asText()).contains("not a readable tar archive");
        assertThat(call(HttpMethod.GET, "/1.0/images/junk", null).status()).isEqualTo(404);
        try (var left = java.nio.file.Files.list(images.directory())) {
            // .lock is the store's own lock file, kept
            assertThat(left.map(p -> p.getFileName().toString()).filter(f -> !f.equals(".lock"))).containsExactly(busyboxFingerprint);
        }
        Reply badAlias = call(HttpMethod.POST, "/1.0/images", "{\"source\":{\"type\":\"busybox\"},\"aliases\":[\"../x\"]}");
        assertThat(badAlias.status()).as("refused before any work: " + badAlias.body()).isEqualTo(400);
        assertThat(badAlias.body().path("error").asText()).as(badAlias.body().toString()).contains("alias \"../x\" is not valid");
        assertThat(badAlias.body().path("field").asText()).as(badAlias.body().toString()).isEqualTo("aliases");
        Reply badUploadAlias = upload(new byte[] {1, 2, 3}, "ok,bad alias");
        assertThat(badUploadAlias.status()).as(badUploadAlias.body().toString()).isEqualTo(400);
        Reply badRecipe = call(HttpMethod.POST, "/1.0/images", "{\"source\":{\"type\":\"debootstrap\",\"recipe\":{\"suite\":\"Bad Suite\"}}}");
        assertThat(badRecipe.status()).as(badRecipe.body().toString()).isEqualTo(400);
        assertThat(badRecipe.body().get("field").asText()).isEqualTo("recipe.suite");
    }

    @Test
    void overridesAndProfileChangesApplyLimitsToARunningContainerLive(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        String name = sandbox.name("live");
        waitFor(call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"small\"]}"));
        int pid = call(HttpMethod.GET, "/1.0/containers/" + name + "/state", null).body().get("pid").asInt();
        assertThat(memoryLimit(name)).isEqualTo(64L << 20);

        JsonNode patched = waitFor(call(HttpMethod.PATCH, "/1.0/containers/" + name, "{\"config\":{\"limits.memory\":\"96MiB\",\"limits.pids\":50}}"));
        assertThat(patched.get("status").asText()).as(patched.toString()).isEqualTo("success");
        assertThat(patched.get("metadata").get("appliedLive")).extracting(JsonNode::asText)
                .contains("lxc.cgroup.memory.limit_in_bytes=" + (96L << 20), "lxc.cgroup.pids.max=50");
        assertThat(memoryLimit(name)).isEqualTo(96L << 20);
        try (var container = Lxc.open(name, sandbox.lxcpath())) {
            assertThat(container.cgroupItem("pids.max").strip()).isEqualTo("50");
            assertThat(container.configItem("lxc.cgroup.memory.limit_in_bytes")).isEqualTo(Long.toString(96L << 20));
        }

        // A profile change reaches the containers using it; their own overrides still win.
        Reply changed = call(HttpMethod.PUT, "/1.0/profiles/small", json(null, """
                name: small
                image: busybox
                limits: {memory: 80MiB, pids: 500}
                security: {privileged: true, nesting: false}
                """));
        assertThat(changed.body().get("affects")).extracting(JsonNode::asText).containsExactly(name);
        waitFor(changed.body().get("operations").get(0).asText());
        assertThat(memoryLimit(name)).isEqualTo(96L << 20);
        waitFor(call(HttpMethod.PATCH, "/1.0/containers/" + name, "{\"config\":{}}"));
        assertThat(memoryLimit(name)).isEqualTo(80L << 20);
        try (var container = Lxc.open(name, sandbox.lxcpath())) {
            assertThat(container.cgroupItem("pids.max").strip()).isEqualTo("500");
        }
        // Live: the same init process all along.
        assertThat(call(HttpMethod.GET, "/1.0/containers/" + name + "/state", null).body().get("pid").asInt()).isEqualTo(pid);

        Reply invalid = call(HttpMethod.PATCH, "/1.0/containers/" + name, "{\"config\":{\"limits.memory\":\"lots\"}}");
        assertThat(waitFor(invalid).get("error").asText()).contains("limits.memory");
        assertThat(memoryLimit(name)).isEqualTo(80L << 20);
    }

    @Test
    void operationsAreListedAndAFinishedOneCannotBeCancelled(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        String op = operationOf(call(HttpMethod.POST, "/1.0/images", "{\"source\":{\"type\":\"busybox\"}}"));
        call(HttpMethod.GET, op + "/wait", null);
        Reply list = call(HttpMethod.GET, "/1.0/operations", null);
        assertThat(list.body()).extracting(JsonNode::asText).contains(op);
        Reply full = call(HttpMethod.GET, "/1.0/operations?recursion=1", null);
        assertThat(full.body()).as("%d %s", full.status(), full.body())
                .anySatisfy(o -> assertThat(o.get("status").asText()).isEqualTo("success"));
        Reply cancel = call(HttpMethod.DELETE, op, null);
        assertThat(cancel.status()).isEqualTo(409);
        assertThat(cancel.body().get("error").asText()).contains("already finished (success)");
    }

    @Test
    void commandsRunInsideWithTheirExitCodeOutputAndInput(LxcSandbox sandbox) throws Exception {
        startServer(sandbox);
        String name = sandbox.name("exec");
        waitFor(call(HttpMethod.POST, "/1.0/containers", "{\"name\":\"" + name + "\",\"profiles\":[\"small\"]}"));
        JsonNode ran = waitFor(call(HttpMethod.POST, "/1.0/containers/" + name + "/exec",
                "{\"command\":[\"sh\",\"-c\",\"echo out $GREETING; pwd; echo err >&2; exit 3\"],\"environment\":{\"GREETING\":\"hi\"},"
                        + "\"cwd\":\"/tmp\"}"));
        assertThat(ran.get("metadata").get("exitCode").asInt()).as(ran.toString()).isEqualTo(3);
        assertThat(ran.get("metadata").get("stdout").asText()).isEqualTo("out hi\n/tmp\n");
        assertThat(ran.get("metadata").get("stderr").asText()).isEqualTo("err\n");
        JsonNode piped = waitFor(call(HttpMethod.POST, "/1.0/containers/" + name + "/exec",
                "{\"command\":[\"sh\",\"-c\",\"id -u; cat\"],\"user\":65534,\"stdin\":\"fed\"}"));
        assertThat(piped.get("metadata").get("stdout").asText()).isEqualTo("65534\nfed");
        assertThat(call(HttpMethod.POST, "/1.0/containers/" + name + "/exec", "{\"command\":[]}").status()).isEqualTo(400);
        Reply ghost = call(HttpMethod.POST, "/1.0/containers/" + sandbox.name("ghost") + "/exec", "{\"command\":[\"true\"]}");
        assertThat(ghost.status()).as("refused before an operation is made").isEqualTo(404);
        assertThat(ghost.body().get("error").asText()).contains("no container");
    }

    private long memoryLimit(String name) throws Exception {
        return call(HttpMethod.GET, "/1.0/containers/" + name + "/state", null).body().get("memoryLimit").asLong();
    }

    private JsonNode waitFor(Reply accepted) throws Exception {
        return waitFor(operationOf(accepted));
    }

    private JsonNode waitFor(String operation) throws Exception {
        return call(HttpMethod.GET, operation + "/wait?timeout=120", null).body();
    }

    private Reply upload(byte[] archive, String aliases) throws Exception {
        return raw("POST", "/1.0/images", java.util.Map.of("Content-Type", "application/octet-stream", "X-Berth-Aliases", aliases), archive);
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }
}
