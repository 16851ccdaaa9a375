package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.WebSocketConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The client end of a streamed command (see the agent's exec WebSocket): output written as it
 * comes, input sent as it is typed, and with a terminal, raw mode and window-size changes.
 */
final class ExecSession {

    private ExecSession() {
    }

    /**
     * Runs the session on {@code wsPath} to its end.
     *
     * @param input what to send as the command's input, or null for none (it reads end-of-file)
     * @return the command's exit code
     */
    static int run(dev.berth.cli.client.Endpoint endpoint, String wsPath, boolean tty, InputStream input, OutputStream out, OutputStream err) throws IOException {
        try (WebSocketConnection ws = WebSocketConnection.open(endpoint, wsPath)) {
            Thread feeder = null;
            if (input == null) {
                ws.sendText("{\"type\":\"eof\"}");
            } else {
                feeder = Thread.ofPlatform().daemon().name("berth-exec-input").start(() -> feed(ws, input, tty));
            }
            Runnable stopResizes = tty ? Terminal.onResize(size -> {
                try {
                    ws.sendText("{\"type\":\"resize\",\"width\":" + size[1] + ",\"height\":" + size[0] + "}");
                } catch (IOException ignored) {
                    // the session is ending
                }
            }) : () -> { };
            try {
                for (WebSocketConnection.Message m; (m = ws.next()) != null; ) {
                    if (m.opcode() == 2 && m.payload().length > 0) {
                        OutputStream target = m.payload()[0] == 2 ? err : out;
                        target.write(m.payload(), 1, m.payload().length - 1);
                        target.flush();
                    } else if (m.opcode() == 1) {
                        JsonNode control = dev.berth.cli.client.Json.parse(m.payload());
                        if ("exit".equals(control.path("type").asText())) {
                            if (control.path("timedOut").asBoolean()) {
                                err.write("berth: the command was killed at its timeout\n".getBytes(StandardCharsets.UTF_8));
                                err.flush();
                            }
                            return control.path("exitCode").asInt();
                        }
                    }
                }
            } finally {
                stopResizes.run();
                if (feeder != null) {
                    feeder.interrupt();
                }
            }
            throw new Berth.OperationFailed("the agent closed the session without the command's exit code"
                    + (ws.closeReason().isEmpty() ? "" : ": " + ws.closeReason()));
        }
    }

    private static void feed(WebSocketConnection ws, InputStream input, boolean tty) {
        byte[] buffer = new byte[16 * 1024];
        try {
            for (int n; (n = input.read(buffer)) > 0; ) {
                ws.sendBinary(buffer, 0, n);
            }
            if (!tty) {
                ws.sendText("{\"type\":\"eof\"}");
            }
        } catch (IOException ignored) {
            // the session ended
        }
    }
}
