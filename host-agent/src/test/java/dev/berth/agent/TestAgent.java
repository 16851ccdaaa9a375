package dev.berth.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.testing.LxcSandbox;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A real berthd for a test: its own state dir, lxcpath and socket in the sandbox, a managed bridge
 * of the test's own (made by the agent, removed by the sandbox), spoken to over its Unix socket.
 */
public final class TestAgent implements AutoCloseable {

    public static final ObjectMapper JSON = new ObjectMapper();

    private final LxcSandbox sandbox;
    private final Berthd.Settings settings;
    private final LxcSandbox.Bridge bridge;
    private Berthd agent;

    /** What an HTTP answer said. */
    public record Reply(int status, Map<String, String> headers, byte[] body) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (java.io.IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + text(), e);
            }
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** A command's end, collected. */
    public record Exec(int exitCode, String stdout, String stderr) {
    }

    private TestAgent(LxcSandbox sandbox, Berthd.Settings settings, LxcSandbox.Bridge bridge) throws Exception {
        this.sandbox = sandbox;
        this.settings = settings;
        this.bridge = bridge;
        this.agent = new Berthd(settings).start();
    }

    /** An agent with a managed network on a bridge of the test's own. */
    public static TestAgent withNetwork(LxcSandbox sandbox) throws Exception {
        return withNetwork(sandbox, sandbox.scratch("images"));
    }

    /** An agent with a managed network whose images are in {@code images} (a store shared by test runs). */
    public static TestAgent withNetwork(LxcSandbox sandbox, Path images) throws Exception {
        return withNetwork(sandbox, images, java.util.function.UnaryOperator.identity());
    }

    /** An agent with a managed network and other settings of the test's ({@code more}). */
    public static TestAgent withNetwork(LxcSandbox sandbox, Path images, java.util.function.UnaryOperator<Berthd.Settings> more)
            throws Exception {
        LxcSandbox.Bridge bridge = sandbox.reserveBridge();
        Path state = sandbox.scratch("state");
        Berthd.Settings settings = more.apply(Berthd.Settings.at(state, sandbox.lxcpath(), state.resolve("berth.sock"))
                .withImages(images).withNetwork(bridge.name(), bridge.hostAddress() + "/24"));
        return new TestAgent(sandbox, settings, bridge);
    }

    public LxcSandbox.Bridge bridge() {
        return bridge;
    }

    public Path socket() {
        return settings.socket();
    }

    public Path stateDir() {
        return settings.stateDir();
    }

    /** Stops the agent (containers keep running) and starts it again on the same state. */
    public void restart() throws Exception {
        agent.close();
        agent = new Berthd(settings).start();
    }

    /** Collects the agent's events of {@code type} into {@code events} until the returned stream is closed. */
    public UnixHttp.WebSocket follow(String type, List<JsonNode> events) throws Exception {
        UnixHttp.WebSocket stream = UnixHttp.WebSocket.open(socket(), "/1.0/events?type=" + type);
        Thread.ofVirtual().start(() -> {
            try {
                for (String text; (text = stream.next()) != null; ) {
                    events.add(JSON.readTree(text));
                }
            } catch (Exception e) {
                // closed by the test
            }
        });
        return stream;
    }

    public Reply request(String method, String path, Object body) throws Exception {
        byte[] content = body == null ? new byte[0] : body instanceof byte[] b ? b : JSON.writeValueAsBytes(body);
        return raw(method, path, Map.of("Content-Type", body instanceof byte[] ? "application/octet-stream" : "application/json"),
                content);
    }

    /** A request with headers of the caller's; chunked answers are decoded. */
    public Reply raw(String method, String path, Map<String, String> headers, byte[] content) throws Exception {
        try (var channel = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            channel.connect(java.net.UnixDomainSocketAddress.of(socket()));
            StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            head.append("Content-Length: ").append(content.length).append("\r\n\r\n");
            write(channel, head.toString().getBytes(StandardCharsets.US_ASCII));
            write(channel, content);
            byte[] all = java.nio.channels.Channels.newInputStream(channel).readAllBytes();
            return parse(all);
        }
    }

    private static void write(java.nio.channels.SocketChannel channel, byte[] data) throws Exception {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(data);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static Reply parse(byte[] all) {
        int end = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
        String[] lines = new String(all, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim());
        }
        byte[] body = java.util.Arrays.copyOfRange(all, end + 4, all.length);
        if ("chunked".equalsIgnoreCase(headers.get("Transfer-Encoding"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int at = 0;
            while (true) {
                int lineEnd = indexOf(body, "\r\n".getBytes(StandardCharsets.US_ASCII), at);
                int size = Integer.parseInt(new String(body, at, lineEnd - at, StandardCharsets.US_ASCII).split(";")[0].trim(), 16);
                if (size == 0) {
                    break;
                }
                out.write(body, lineEnd + 2, size);
                at = lineEnd + 2 + size + 2;
            }
            body = out.toByteArray();
        }
        return new Reply(status, headers, body);
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("malformed HTTP answer");
    }

    /** Sends a request that answers 202, waits for its operation and returns the operation's final view. */
    public JsonNode operation(String method, String path, Object body) throws Exception {
        Reply accepted = request(method, path, body);
        if (accepted.status() != 202) {
            throw new AssertionError("expected 202 for " + method + " " + path + ", got " + accepted.status() + ": " + accepted.text());
        }
        return waitFor(accepted.json().path("operation").asText());
    }

    public JsonNode waitFor(String operation) throws Exception {
        return request("GET", operation + "/wait?timeout=120", null).json();
    }

    /** Like {@link #operation}, failing the test unless it succeeded. */
    public JsonNode succeed(String method, String path, Object body) throws Exception {
        JsonNode op = operation(method, path, body);
        if (!"success".equals(op.path("status").asText())) {
            throw new AssertionError(method + " " + path + " did not succeed: " + op);
        }
        return op;
    }

    public void profile(String yaml) throws Exception {
        String name = yaml.lines().filter(l -> l.startsWith("name:")).findFirst().orElseThrow().substring(5).trim();
        Reply reply = request("POST", "/1.0/profiles", Map.of("name", name, "content", yaml));
        if (reply.status() == 409) {
            reply = request("PUT", "/1.0/profiles/" + name, Map.of("content", yaml));
        }
        if (reply.status() >= 300) {
            throw new AssertionError("profile " + name + ": " + reply.text());
        }
    }

    public JsonNode launch(String name, String... profiles) throws Exception {
        return succeed("POST", "/1.0/containers", Map.of("name", name, "profiles", List.of(profiles)));
    }

    public JsonNode container(String name) throws Exception {
        return request("GET", "/1.0/containers/" + name, null).json();
    }

    public Exec exec(String name, String... command) throws Exception {
        JsonNode op = succeed("POST", "/1.0/containers/" + name + "/exec", Map.of("command", List.of(command)));
        JsonNode m = op.path("metadata");
        return new Exec(m.path("exitCode").asInt(), m.path("stdout").asText(), m.path("stderr").asText());
    }

    public void state(String name, String action) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("action", action).put("force", true);
        succeed("PUT", "/1.0/containers/" + name + "/state", body);
    }

    @Override
    public void close() throws Exception {
        agent.close();
    }
}
