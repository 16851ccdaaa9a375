package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.AgentClient;
import dev.berth.cli.client.AgentClient.AgentException;
import dev.berth.cli.client.EventStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;

/**
 * Follows one operation to its end. On a terminal, a progress line on standard error is fed by the
 * agent's events (the operation's stage and its log lines), redrawn in place and cleared at the end;
 * otherwise nothing is drawn and only the caller's summary line is printed.
 */
final class Progress {

    private Progress() {
    }

    static JsonNode run(Berth berth, String what, String method, String path, Object body, Duration timeout) {
        AgentClient client = berth.client();
        boolean draw = what != null && berth.showProgress();
        EventStream stream = null;
        if (draw) {
            try {
                stream = EventStream.open(berth.endpoint(), "operation,logging");
            } catch (AgentException e) {
                draw = false; // the request below will say why the agent is unreachable
            }
        }
        Thread painter = null;
        Line line = new Line(berth.err(), what);
        try {
            AgentClient.Response accepted = client.call(method, path, body);
            if (accepted.status() != 202) {
                Berth.checked(accepted); // throws the agent's error
                throw new AgentException("expected an operation, got HTTP " + accepted.status(), accepted.status());
            }
            String operation = accepted.operation();
            if (draw) {
                String id = operation.substring(operation.lastIndexOf('/') + 1);
                EventStream events = stream;
                line.show("started");
                painter = Thread.ofVirtual().start(() -> follow(events, id, line));
            }
            JsonNode op = client.await(operation, timeout);
            String status = op.path("status").asText();
            if (!"success".equals(status)) {
                String error = op.path("error").asText("");
                throw new Berth.OperationFailed(switch (status) {
                    case "cancelled" -> (what == null ? "the operation" : what) + " was cancelled" + (error.isEmpty() ? "" : ": " + error);
                    case "pending", "running" -> (what == null ? "the operation" : what) + " is still running after "
                            + timeout.toSeconds() + " s; follow it with: berth operation wait " + operation.substring(operation.lastIndexOf('/') + 1);
                    default -> error.isEmpty() ? "the operation failed" : error;
                });
            }
            return op;
        } finally {
            if (stream != null) {
                stream.close();
            }
            if (painter != null) {
                try {
                    painter.join(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            line.clear();
        }
    }

    private static void follow(EventStream events, String id, Line line) {
        try {
            for (JsonNode event; (event = events.next()) != null; ) {
                JsonNode meta = event.path("metadata");
                if ("operation".equals(event.path("type").asText())) {
                    JsonNode op = meta.path("operation");
                    if (id.equals(op.path("id").asText())) {
                        String text = stage(op.path("metadata"));
                        if (text != null) {
                            line.show(text);
                        }
                    }
                } else if (id.equals(meta.path("context").path("operation").asText())) {
                    line.show(meta.path("message").asText());
                }
            }
        } catch (java.io.IOException e) {
            // the stream closes when the operation ends
        }
    }

    /** The progress an operation reports, as a few words: its text, or its stage with step counts. */
    static String stage(JsonNode metadata) {
        if (metadata.hasNonNull("text")) {
            return metadata.get("text").asText();
        }
        if (!metadata.hasNonNull("stage")) {
            return null;
        }
        StringBuilder text = new StringBuilder(metadata.get("stage").asText());
        if (metadata.hasNonNull("step") && metadata.hasNonNull("steps")) {
            text.append(" (").append(metadata.get("step").asText()).append('/').append(metadata.get("steps").asText()).append(')');
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = metadata.fields(); it.hasNext(); ) {
            var field = it.next();
            if (!java.util.Set.of("stage", "step", "steps", "text").contains(field.getKey()) && field.getValue().isValueNode()) {
                text.append(", ").append(field.getKey()).append(' ').append(field.getValue().asText());
            }
        }
        return text.toString();
    }

    /** An event as one human line ({@code berth events}). */
    static String describe(JsonNode event) {
        JsonNode meta = event.path("metadata");
        String time = event.path("timestamp").asText();
        String type = event.path("type").asText();
        String text = switch (type) {
            case "operation" -> {
                JsonNode op = meta.path("operation");
                String stage = stage(op.path("metadata"));
                yield op.path("id").asText().substring(0, Math.min(8, op.path("id").asText().length())) + " "
                        + op.path("status").asText() + ": " + op.path("description").asText()
                        + (op.hasNonNull("error") ? " (" + op.get("error").asText() + ")" : stage != null && "running".equals(op.path("status").asText()) ? " [" + stage + "]" : "");
            }
            case "lifecycle" -> meta.path("action").asText() + " " + meta.path("source").asText();
            case "logging" -> meta.path("level").asText().toUpperCase(java.util.Locale.ROOT) + " " + meta.path("message").asText();
            case "app" -> meta.has("action") ? meta.path("container").asText() + " " + meta.path("action").asText() + " to revision "
                    + meta.path("revision").asText() + " (" + meta.path("reason").asText() + ")"
                    : meta.path("container").asText() + " " + meta.path("state").asText() + ", " + meta.path("health").asText()
                    + ", revision " + meta.path("revision").asText() + ", " + meta.path("restarts").asText() + " restarts"
                    + (meta.has("exit_code") ? ", last exit " + meta.path("exit_code").asText() : "");
            default -> meta.toString();
        };
        return time + " " + type + " " + text;
    }

    /** One line on standard error, redrawn in place. */
    private static final class Line {
        private final PrintWriter err;
        private final String what;
        private final long start = System.nanoTime();
        private boolean drawn;

        Line(PrintWriter err, String what) {
            this.err = err;
            this.what = what;
        }

        synchronized void show(String text) {
            String line = what + ": " + text + " (" + Output.elapsed(System.nanoTime() - start) + ")";
            err.print("\r\033[K" + (line.length() > 120 ? line.substring(0, 117) + "..." : line));
            err.flush();
            drawn = true;
        }

        synchronized void clear() {
            if (drawn) {
                err.print("\r\033[K");
                err.flush();
                drawn = false;
            }
        }
    }
}
