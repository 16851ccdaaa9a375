package dev.berth.agent.ops;

import dev.berth.agent.error.AgentException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Long-running work the API answers with 202: each operation runs on a virtual thread, serialised
 * with every other operation on the same container, and can be listed, waited on and cancelled.
 * An operation waiting for its container can always be cancelled; a running one only if it said it
 * can stop cleanly (an image build can; a launch half-way is left to finish and roll back itself).
 * Inside the work, {@link #current()} is the operation: its log lines and progress are tagged with it.
 */
public final class Operations implements AutoCloseable {

    private static final ScopedValue<Op> CURRENT = ScopedValue.newInstance();

    /** How long a finished operation can still be looked up and waited on. */
    static final Duration RETENTION = Duration.ofMinutes(10);

    /** Where an operation is in its life. */
    public enum Status { PENDING, RUNNING, SUCCESS, FAILURE, CANCELLED }

    /**
     * The work of an operation. {@code cancellable} work stops cleanly when its thread is interrupted;
     * {@code exclusive} work on a container waits for the container's other exclusive operations
     * (lifecycle changes do; a command run inside it does not).
     */
    public record Work(String description, String container, String lifecycle, boolean cancellable, boolean exclusive,
                       Callable<?> body) {

        public Work(String description, String container, String lifecycle, boolean cancellable, Callable<?> body) {
            this(description, container, lifecycle, cancellable, true, body);
        }
    }

    /** One operation and its outcome. */
    public final class Op {
        private final String id;
        private final Work work;
        private final Instant created;
        private final CompletableFuture<Object> done = new CompletableFuture<>();
        private final AtomicReference<Status> status = new AtomicReference<>(Status.PENDING);
        private volatile Map<String, Object> progress = Map.of();
        private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile Instant finished;
        private volatile Thread thread;

        private Op(Work work) {
            this(work, UUID.randomUUID().toString(), Instant.now());
        }

        private Op(Work work, String id, Instant created) {
            this.work = work;
            this.id = id;
            this.created = created;
        }

        public String id() {
            return id;
        }

        public String container() {
            return work.container();
        }

        public CompletableFuture<Object> done() {
            return done;
        }

        public Status status() {
            return status.get();
        }

        /** Reports progress (a stage, a percentage, counts): shown in the operation and sent as an event. */
        public void progress(Map<String, Object> values) {
            progress = Map.copyOf(values);
            publish();
        }

        private volatile Map<?, ?> resultFields;

        public OperationView view() {
            Status s = status.get();
            String error = s == Status.FAILURE ? message(done.exceptionNow()) : null;
            Map<String, List<String>> resources = work.container() == null ? Map.of()
                    : Map.of("containers", List.of("/1.0/containers/" + work.container()));
            Map<String, Object> metadata = new LinkedHashMap<>(progress);
            if (s == Status.SUCCESS) {
                resultFields().forEach((k, v) -> metadata.put(String.valueOf(k), v));
            }
            return new OperationView(id, work.description(), s.name().toLowerCase(java.util.Locale.ROOT), created, finished,
                    error, resources, metadata, mayCancel());
        }

        /** What the work returned (a map, or a record field by field), converted once; empty for anything else. */
        private Map<?, ?> resultFields() {
            Map<?, ?> fields = resultFields;
            if (fields == null) {
                Object outcome = done.resultNow();
                fields = outcome instanceof Map<?, ?> m ? m : outcome instanceof Record ? JSON.convertValue(outcome, Map.class) : Map.of();
                resultFields = fields;
            }
            return fields;
        }

        private boolean mayCancel() {
            Status s = status.get();
            return s == Status.PENDING || s == Status.RUNNING && work.cancellable();
        }

        private void publish() {
            events.publish("operation", Map.of("operation", view()));
        }

        private void run() {
            ScopedValue.where(CURRENT, this).run(this::runInScope);
        }

        private void runInScope() {
            thread = Thread.currentThread();
            if (ended.get()) {
                return; // cancelled before a thread picked it up
            }
            ReentrantLock lock = containerLocks.computeIfAbsent(work.container() == null ? "" : work.container(),
                    c -> new ReentrantLock(true));
            long start = 0;
            try {
                boolean locking = work.container() != null && work.exclusive();
                if (locking) {
                    lock.lockInterruptibly();
                }
                try {
                    if (!status.compareAndSet(Status.PENDING, Status.RUNNING)) {
                        throw new InterruptedException("cancelled before it started");
                    }
                    publish();
                    start = System.nanoTime();
                    log.info(work.description() + "…");
                    Object result = work.body().call();
                    finish(Status.SUCCESS, () -> done.complete(result));
                    log.info(work.description() + ": done in " + millis(start) + " ms");
                    if (work.lifecycle() != null) {
                        events.publish("lifecycle", Map.of("action", work.lifecycle(), "source", "/1.0/containers/" + work.container()));
                    }
                } finally {
                    if (locking) {
                        lock.unlock();
                    }
                }
            } catch (InterruptedException | java.util.concurrent.CancellationException e) {
                cancelled();
            } catch (Throwable t) {
                finish(Status.FAILURE, () -> done.completeExceptionally(t));
                log.warn(work.description() + ": failed" + (start == 0 ? "" : " after " + millis(start) + " ms") + ": " + message(t));
            }
        }

        private void cancelled() {
            if (finish(Status.CANCELLED, () -> done.completeExceptionally(new java.util.concurrent.CancellationException(
                    work.description() + " was cancelled")))) {
                log.info(work.description() + ": cancelled");
            }
        }

        /** Ends the operation once: a cancel and the worker may both try. Returns whether this call ended it. */
        private boolean finish(Status outcome, Runnable complete) {
            if (!ended.compareAndSet(false, true)) {
                return false;
            }
            status.set(outcome);
            finished = Instant.now();
            complete.run();
            publish();
            journal(this);
            return true;
        }
    }

    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Events events;
    private final AgentLog log;
    private final Map<String, Op> operations = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> containerLocks = new ConcurrentHashMap<>();

    /** Where each operation is written when it starts and when it ends, or null to keep them in memory only. */
    private final java.nio.file.Path journal;
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;

    public Operations(Events events, AgentLog log) {
        this(events, log, null);
    }

    /**
     * Operations journalled in {@code journal}, so that an operation asked about after an agent
     * restart still answers: finished ones as they ended, and ones the agent was stopped in as
     * failures that say so (the agent's start finishes or undoes what they had begun).
     */
    public Operations(Events events, AgentLog log, java.nio.file.Path journal) {
        this.events = events;
        this.log = log;
        this.journal = journal;
        if (journal != null) {
            restore();
        }
    }

    private void restore() {
        Instant horizon = Instant.now().minus(RETENTION);
        try {
            java.nio.file.Files.createDirectories(journal);
            try (var files = java.nio.file.Files.list(journal)) {
                for (java.nio.file.Path file : files.filter(f -> f.getFileName().toString().endsWith(".json")).toList()) {
                    OperationView view;
                    try {
                        view = JSON.readValue(file.toFile(), OperationView.class);
                    } catch (java.io.IOException e) {
                        java.nio.file.Files.deleteIfExists(file); // torn by a crash while it was written
                        continue;
                    }
                    if (view.finished() != null && view.finished().isBefore(horizon)) {
                        java.nio.file.Files.deleteIfExists(file);
                        continue;
                    }
                    List<String> containers = view.resources() == null ? List.of() : view.resources().getOrDefault("containers", List.of());
                    String container = containers.isEmpty() ? null : containers.getFirst().substring("/1.0/containers/".length());
                    Op op = new Op(new Work(view.description(), container, null, false, () -> null), view.id(), view.created());
                    Status was = Status.valueOf(view.status().toUpperCase(java.util.Locale.ROOT));
                    op.ended.set(true);
                    op.finished = view.finished() != null ? view.finished() : Instant.now();
                    switch (was) {
                        case SUCCESS -> {
                            op.status.set(Status.SUCCESS);
                            op.done.complete(view.metadata());
                        }
                        case FAILURE, CANCELLED -> {
                            op.status.set(was);
                            op.done.completeExceptionally(was == Status.FAILURE ? new RuntimeException(view.error())
                                    : new java.util.concurrent.CancellationException(view.description() + " was cancelled"));
                        }
                        default -> {
                            op.status.set(Status.FAILURE);
                            op.done.completeExceptionally(new RuntimeException("interrupted: berthd stopped while this operation was "
                                    + view.status() + "; on its next start it finished or undid what had begun (see its log and"
                                    + " the container's state)"));
                            journal(op);
                        }
                    }
                    operations.put(op.id, op);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the operations journal " + journal, e);
        }
    }

    /** Journal writes, in order, off the operations' own threads: an operation does not wait for its journal entry. */
    private final ExecutorService journalWriter = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("berth-operation-journal").factory());

    /**
     * Writes {@code op} as it is now, behind the operation (not synced, and a moment late: an agent
     * killed just then may lose an operation's last state; then it answers 404 or its earlier state).
     */
    private void journal(Op op) {
        if (journal == null) {
            return;
        }
        OperationView view = op.view();
        journalWriter.execute(() -> {
            try {
                dev.berth.agent.store.AtomicFiles.write(journal.resolve(view.id() + ".json"), JSON.writeValueAsBytes(view), false);
            } catch (java.io.IOException e) {
                log.warn("cannot journal operation " + view.id() + ": " + e.getMessage());
            }
        });
    }

    private void forget(Op op) {
        if (journal != null) {
            journalWriter.execute(() -> {
                try {
                    java.nio.file.Files.deleteIfExists(journal.resolve(op.id + ".json"));
                } catch (java.io.IOException e) {
                    log.warn("cannot remove operation " + op.id + " from the journal: " + e.getMessage());
                }
            });
        }
    }

    /** The operation whose work the calling thread is doing, if any. */
    public static Optional<Op> current() {
        return CURRENT.isBound() ? Optional.of(CURRENT.get()) : Optional.empty();
    }

    /**
     * Starts {@code work}, after any operation already running on its container. When it succeeds,
     * its lifecycle action (if any) is published as a lifecycle event.
     */
    public Op submit(Work work) {
        Op op = new Op(work);
        // Finished operations are kept for a while for late waiters, then dropped: the map stays bounded.
        Instant horizon = Instant.now().minus(RETENTION);
        operations.values().removeIf(old -> {
            boolean expired = old.finished != null && old.finished.isBefore(horizon);
            if (expired) {
                forget(old);
            }
            return expired;
        });
        operations.put(op.id, op);
        journal(op);
        op.publish();
        threads.submit(op::run);
        return op;
    }

    /** Shorthand for non-cancellable work on one container. */
    public Op submit(String description, String container, String lifecycle, Callable<?> body) {
        return submit(new Work(description, container, lifecycle, false, body));
    }

    public Op get(String id) {
        return operations.get(id);
    }

    /** Every operation still known, newest first. */
    public List<Op> list() {
        return operations.values().stream().sorted(Comparator.comparing((Op op) -> op.created).reversed()).toList();
    }

    /**
     * Cancels {@code op}: at once if it is still waiting for its container, by interrupting it if its
     * work stops cleanly; otherwise refuses, since stopping it half-way would leave a half-made change.
     */
    public void cancel(Op op) {
        if (op.status.compareAndSet(Status.PENDING, Status.CANCELLED)) {
            // Ended here and now: its thread may be waiting for the container's lock, or not started yet.
            op.cancelled();
            Thread t = op.thread;
            if (t != null) {
                t.interrupt();
            }
            return;
        }
        if (op.status.get() == Status.RUNNING && op.work.cancellable()) {
            Thread t = op.thread;
            if (t != null) {
                t.interrupt();
            }
            return;
        }
        throw new AgentException.Conflict(switch (op.status.get()) {
            case RUNNING -> "\"" + op.work.description() + "\" cannot be cancelled once started: it finishes or rolls back by itself; wait for it";
            default -> "operation " + op.id + " has already finished (" + op.status.get().name().toLowerCase(java.util.Locale.ROOT) + ")";
        });
    }

    /** Waits for {@code op} up to {@code timeout}; returns whether it finished. */
    public static boolean await(Op op, Duration timeout) throws InterruptedException {
        try {
            op.done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
            return true;
        }
    }

    @Override
    public void close() {
        threads.close();
        journalWriter.close();
    }

    private static long millis(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static String message(Throwable t) {
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
