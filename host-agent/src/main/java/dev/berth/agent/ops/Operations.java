package dev.berth.agent.ops;

import dev.berth.agent.api.model.Models;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Long-running work the API answers with 202: each operation runs on a virtual thread, serialised
 * with every other operation on the same container, and can be looked up and waited on by id.
 */
public final class Operations implements AutoCloseable {

    /** One operation and its outcome. */
    public static final class Op {
        private final String id = UUID.randomUUID().toString();
        private final String description;
        private final String container;
        private final Instant created = Instant.now();
        private final CompletableFuture<Object> done = new CompletableFuture<>();
        private volatile Instant finished;

        Op(String description, String container) {
            this.description = description;
            this.container = container;
        }

        public String id() {
            return id;
        }

        public CompletableFuture<Object> done() {
            return done;
        }

        public Models.Operation view() {
            String status = !done.isDone() ? "running" : done.isCompletedExceptionally() ? "failure" : "success";
            String error = null;
            if (done.isCompletedExceptionally()) {
                error = done.exceptionNow().getMessage();
            }
            return new Models.Operation(id, description, status, created, finished, error,
                    Map.of("containers", List.of("/1.0/containers/" + container)));
        }
    }

    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Events events;
    /** How long a finished operation can still be looked up and waited on. */
    static final java.time.Duration RETENTION = java.time.Duration.ofMinutes(10);

    private final Map<String, Op> operations = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> containerLocks = new ConcurrentHashMap<>();

    public Operations(Events events) {
        this.events = events;
    }

    /**
     * Starts {@code work} on container {@code container}, after any operation already running on it.
     * When it succeeds, {@code lifecycle} (if not null) is published as a lifecycle event.
     */
    public Op submit(String description, String container, String lifecycle, java.util.concurrent.Callable<?> work) {
        Op op = new Op(description, container);
        // Finished operations are kept for a while for late waiters, then dropped: the map stays bounded.
        Instant horizon = Instant.now().minus(RETENTION);
        operations.values().removeIf(old -> old.finished != null && old.finished.isBefore(horizon));
        operations.put(op.id, op);
        events.publish("operation", Map.of("operation", op.view()));
        ReentrantLock lock = containerLocks.computeIfAbsent(container, c -> new ReentrantLock(true));
        threads.submit(() -> {
            lock.lock();
            try {
                Object result = work.call();
                op.finished = Instant.now();
                op.done.complete(result);
                if (lifecycle != null) {
                    events.publish("lifecycle", Map.of("action", lifecycle, "source", "/1.0/containers/" + container));
                }
            } catch (Throwable t) {
                op.finished = Instant.now();
                op.done.completeExceptionally(t);
            } finally {
                lock.unlock();
                events.publish("operation", Map.of("operation", op.view()));
            }
        });
        return op;
    }

    public Op get(String id) {
        return operations.get(id);
    }

    /** Waits for {@code op} up to {@code timeout}; returns whether it finished. */
    public static boolean await(Op op, Duration timeout) throws InterruptedException {
        try {
            op.done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        }
    }

    @Override
    public void close() {
        threads.close();
    }
}
