package dev.berth.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.TestAgent;
import dev.berth.agent.UnixHttp;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Streamed and interactive commands over the exec WebSocket, against real containers. */
@RequiresLxc
class ExecStreamTest {

    private static final String PROFILE = """
            name: plain
            image: busybox
            limits: {memory: 64MiB}
            security: {privileged: true, nesting: false}
            """;

    /** What a streamed command sent, by stream, and how it ended. */
    private record Streams(ByteArrayOutputStream stdout, ByteArrayOutputStream stderr, JsonNode exit) {
    }

    @Test
    void streamsKeepStdoutAndStderrApartAndEndWithTheExitCode(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            String name = launch(agent, sandbox);
            Streams s = run(agent, name, Map.of("command", List.of("sh", "-c", "echo out; echo err >&2; exit 7"), "stream", true), null);
            assertThat(s.stdout().toString(StandardCharsets.UTF_8)).isEqualTo("out\n");
            assertThat(s.stderr().toString(StandardCharsets.UTF_8)).isEqualTo("err\n");
            assertThat(s.exit().path("exitCode").asInt()).isEqualTo(7);

            // Input streams in, end-of-file ends it.
            byte[] input = new byte[300_000];
            new java.util.Random(7).nextBytes(input);
            Streams cat = run(agent, name, Map.of("command", List.of("cat"), "stream", true), input);
            assertThat(cat.stdout().size()).isEqualTo(input.length);
            assertThat(java.util.Arrays.equals(cat.stdout().toByteArray(), input)).as("the same bytes back").isTrue();
            assertThat(cat.exit().path("exitCode").asInt()).isZero();

            // A timeout kills the command.
            JsonNode op = agent.succeed("POST", "/1.0/containers/" + name + "/exec", Map.of("command", List.of("sleep", "30"), "timeout", 1));
            assertThat(op.path("metadata").path("exitCode").asInt()).isEqualTo(128 + 9);
            assertThat(op.path("metadata").path("timedOut").asBoolean()).isTrue();
        }
    }

    @Test
    void fiftyMebibytesStreamThroughABoundedHeapAtTheClientsPace(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            String name = launch(agent, sandbox);
            long size = 50L << 20;
            String socketPath = startStreamed(agent, name, Map.of("command", List.of("head", "-c", Long.toString(size), "/dev/zero"),
                    "stream", true));
            try (UnixHttp.WebSocket ws = UnixHttp.WebSocket.open(agent.socket(), socketPath)) {
                long before = heapAfterGc();
                Thread.sleep(2000); // the client reads nothing: the command must wait, not the agent's heap fill
                long whilePaused = heapAfterGc();
                long received = 0;
                JsonNode exit = null;
                for (UnixHttp.WebSocket.Frame f; (f = ws.nextFrame()) != null; ) {
                    if (f.opcode() == 2) {
                        assertThat(f.payload()[0]).isEqualTo((byte) 1);
                        received += f.payload().length - 1;
                    } else {
                        exit = TestAgent.JSON.readTree(f.text());
                    }
                }
                assertThat(received).isEqualTo(size);
                assertThat(exit).isNotNull();
                assertThat(exit.path("exitCode").asInt()).isZero();
                System.out.printf("exec stream: 50 MiB; heap %d MiB before, %d MiB with the client paused%n", before >> 20,
                        whilePaused >> 20);
                assertThat(whilePaused - before).as("heap growth while 50 MiB wait on a paused client").isLessThan(16L << 20);
            }
        }
    }

    @Test
    void anInteractiveShellAnswersOnAPseudoTerminalAndFollowsResizes(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            String name = launch(agent, sandbox);
            String socketPath = startStreamed(agent, name, Map.of("command", List.of("sh"), "interactive", true, "width", 80, "height", 24,
                    "environment", Map.of("PS1", "berth-test$ ")));
            try (UnixHttp.WebSocket ws = UnixHttp.WebSocket.open(agent.socket(), socketPath)) {
                StringBuilder screen = new StringBuilder();
                readUntil(ws, screen, "berth-test$ ");
                ws.sendBinary("echo $((6 * 7))\n".getBytes(StandardCharsets.UTF_8));
                readUntil(ws, screen, "42");
                readUntil(ws, screen, "berth-test$ ");
                ws.sendText("{\"type\":\"resize\",\"width\":132,\"height\":50}");
                ws.sendBinary("stty size\n".getBytes(StandardCharsets.UTF_8));
                readUntil(ws, screen, "50 132");
                ws.sendBinary("exit 3\n".getBytes(StandardCharsets.UTF_8));
                JsonNode exit = null;
                for (UnixHttp.WebSocket.Frame f; (f = ws.nextFrame()) != null; ) {
                    if (f.opcode() == 1) {
                        exit = TestAgent.JSON.readTree(f.text());
                    }
                }
                assertThat(exit).isNotNull();
                assertThat(exit.path("exitCode").asInt()).isEqualTo(3);
            }
        }
    }

    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().factory());

    /** Where each screen's last match ended: one frame may carry "42" and the prompt after it. */
    private static final java.util.Map<StringBuilder, Integer> MATCHED = java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

    /**
     * Reads until {@code wanted} is on the screen after the previous match; gives up (closing the
     * socket) after 30 s and shows the screen.
     */
    private static void readUntil(UnixHttp.WebSocket ws, StringBuilder screen, String wanted) throws Exception {
        int from = MATCHED.getOrDefault(screen, 0);
        var expired = new java.util.concurrent.atomic.AtomicBoolean();
        var timer = WATCHDOG.schedule(() -> {
            expired.set(true);
            try {
                ws.close();
            } catch (Exception ignored) {
                // the read below ends either way
            }
        }, 30, java.util.concurrent.TimeUnit.SECONDS);
        try {
            while (screen.indexOf(wanted, from) < 0) {
                UnixHttp.WebSocket.Frame f;
                try {
                    f = ws.nextFrame();
                } catch (java.io.IOException e) {
                    f = null;
                }
                if (f == null) {
                    throw new AssertionError((expired.get() ? "no \"" + wanted + "\" within 30 s" : "the session ended before \"" + wanted + "\"")
                            + "; the screen was:\n" + screen.toString().replace("\r", "\\r").replace("\033", "\\e"));
                }
                if (f.opcode() == 2) {
                    screen.append(new String(f.payload(), 1, f.payload().length - 1, StandardCharsets.UTF_8));
                }
            }
            MATCHED.put(screen, screen.indexOf(wanted, from) + wanted.length());
        } finally {
            timer.cancel(false);
        }
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static String launch(TestAgent agent, LxcSandbox sandbox) throws Exception {
        agent.profile(PROFILE);
        String name = sandbox.name("exec");
        agent.launch(name, "plain");
        return name;
    }

    /** Starts a streamed command and returns the path of its WebSocket. */
    private static String startStreamed(TestAgent agent, String name, Map<String, Object> request) throws Exception {
        TestAgent.Reply accepted = agent.request("POST", "/1.0/containers/" + name + "/exec", request);
        assertThat(accepted.status()).as(accepted.text()).isEqualTo(202);
        String socket = accepted.json().path("metadata").path("metadata").path("websocket").asText();
        assertThat(socket).startsWith("/1.0/operations/").endsWith("/websocket");
        return socket;
    }

    private static Streams run(TestAgent agent, String name, Map<String, Object> request, byte[] input) throws Exception {
        String socketPath = startStreamed(agent, name, request);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        JsonNode exit = null;
        try (UnixHttp.WebSocket ws = UnixHttp.WebSocket.open(agent.socket(), socketPath)) {
            if (input != null) {
                for (int at = 0; at < input.length; at += 32 * 1024) {
                    ws.sendBinary(java.util.Arrays.copyOfRange(input, at, Math.min(input.length, at + 32 * 1024)));
                }
                ws.sendText("{\"type\":\"eof\"}");
            }
            for (UnixHttp.WebSocket.Frame f; (f = ws.nextFrame()) != null; ) {
                if (f.opcode() == 2) {
                    (f.payload()[0] == 1 ? out : err).write(f.payload(), 1, f.payload().length - 1);
                } else {
                    exit = TestAgent.JSON.readTree(f.text());
                }
            }
        }
        assertThat(exit).as("an exit message").isNotNull();
        return new Streams(out, err, exit);
    }
}
