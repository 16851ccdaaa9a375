package dev.berth.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** The agent's event stream ({@code GET /1.0/events}): one JSON event per text message. */
public final class EventStream implements AutoCloseable {


    private final WebSocketConnection ws;

    private EventStream(WebSocketConnection ws) {
        this.ws = ws;
    }

    /**
     * Subscribes to {@code types} (comma-separated: operation, lifecycle, logging; null for all).
     * Returns once the agent has accepted the subscription, so no event after this call is missed.
     */
    public static EventStream open(Endpoint endpoint, String types) {
        return new EventStream(WebSocketConnection.open(endpoint, "/1.0/events" + (types == null ? "" : "?type=" + types)));
    }

    /** The next event, or null once the agent closed the stream (see {@link #closeCode()}). */
    public JsonNode next() throws IOException {
        while (true) {
            WebSocketConnection.Message message = ws.next();
            if (message == null) {
                return null;
            }
            if (message.opcode() == 1) {
                return Json.parse(message.payload());
            }
        }
    }

    /** The agent's close code (1008: this listener was too slow), or -1. */
    public int closeCode() {
        return ws.closeCode();
    }

    public String closeReason() {
        return ws.closeReason();
    }

    @Override
    public void close() {
        ws.close();
    }
}
