package dev.berth.agent.ops;

import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;

/**
 * The agent's event stream: {@code operation} events as operations start and finish, and
 * {@code lifecycle} events as containers are created, started, stopped and deleted. Listeners must
 * not block: the WebSocket endpoint hands each event to its connection's event loop and drops the
 * connection of a listener that does not keep up.
 */
public final class Events {

    /** One event, as sent on {@code /1.0/events}. */
    public record Event(String type, Instant timestamp, Map<String, Object> metadata) {
    }

    private final Set<Consumer<Event>> listeners = new CopyOnWriteArraySet<>();

    public Runnable subscribe(Consumer<Event> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    public void publish(String type, Map<String, Object> metadata) {
        Event event = new Event(type, Instant.now(), metadata);
        for (Consumer<Event> listener : listeners) {
            listener.accept(event);
        }
    }
}
