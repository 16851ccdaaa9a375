package dev.berth.agent.api;

import dev.berth.agent.error.AgentException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.api.model.Models;
import dev.berth.agent.container.ContainerExec;
import dev.berth.agent.exec.Command;
import dev.berth.agent.exec.RunningCommand;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Operations;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code POST /1.0/containers/{name}/exec}. Without {@code stream} or {@code interactive} the
 * command's output is collected into the operation (up to 1 MiB per stream). With either, the
 * operation's metadata names a WebSocket ({@code /1.0/operations/{id}/websocket}) and the command
 * starts once a client connects to it:
 * <ul>
 *   <li>agent to client: binary messages whose first byte says the stream (1 stdout, 2 stderr) and
 *       the rest is data; at the end a text message {@code {"type":"exit","exitCode":N}}, then close;</li>
 *   <li>client to agent: binary messages are the command's input; text messages are controls:
 *       {@code {"type":"resize","width":W,"height":H}}, {@code {"type":"eof"}},
 *       {@code {"type":"signal","signal":N}}.</li>
 * </ul>
 * Output flows only as fast as the client reads it (the command blocks on a full pipe), so output of
 * any size passes through a bounded amount of the agent's memory. {@code interactive} runs the
 * command on a pseudo-terminal (stdout and stderr are then one stream).
 */
final class ExecRoutes {

    /** How long a streamed command waits for its client to connect. */
    static final long CONNECT_TIMEOUT_MS = 30_000;
    /** Below Vert.x's 64 KiB frame size, so that each message is one frame. */
    private static final int CHUNK = 32 * 1024;
    private static final int WRITE_QUEUE = 512 * 1024;

    private final ApiServer api;
    private final ContainerExec containers;
    private final Operations operations;
    private final AgentLog log;
    private final Map<String, CompletableFuture<ServerWebSocket>> sessions = new ConcurrentHashMap<>();
    /** Pumps block in native reads and writes: platform threads, made as needed. */
    private final ExecutorService pumps = Executors.newCachedThreadPool(
            Thread.ofPlatform().daemon().name("berth-exec-pump-", 0).factory());

    ExecRoutes(ApiServer api, ContainerExec containers, Operations operations, AgentLog log) {
        this.api = api;
        this.containers = containers;
        this.operations = operations;
        this.log = log;
    }

    /** Output kept per stream of a collected command; the rest is counted and dropped. */
    static final int OUTPUT_LIMIT = 1 << 20;

    /** Runs a command with its output collected into the operation (the default). */
    /** The command to run: as asked, or (in the app) the crun exec that {@code argv} already is. */
    static Command command(Models.ExecRequest request, List<String> argv, Map<String, String> env, boolean inApp) {
        return inApp ? new Command(argv, Map.of(), null, -1, -1, null)
                : new Command(argv, env, request.cwd(), request.user() == null ? -1 : request.user(),
                request.group() == null ? -1 : request.group(), null);
    }

    void collected(RoutingContext ctx, String name, Models.ExecRequest request, Command command) {
        byte[] stdin = request.stdin() == null ? new byte[0] : request.stdin().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        // Not exclusive: a command inside must not hold up a stop of the same container.
        api.accepted(ctx, operations.submit(new Operations.Work("Running " + request.command().getFirst() + " in " + name, name, null,
                false, false, () -> {
            BoundedOutput out = new BoundedOutput(OUTPUT_LIMIT);
            BoundedOutput err = new BoundedOutput(OUTPUT_LIMIT);
            AtomicBoolean timedOut = new AtomicBoolean();
            int exitCode;
            try (RunningCommand process = containers.start(name, command, false)) {
                var feed = pumps.submit(() -> {
                    try {
                        process.stdin().write(stdin);
                    } catch (IOException e) {
                        // it stopped reading
                    }
                    process.closeStdin();
                    return null;
                });
                CompletableFuture<Void> outPump = CompletableFuture.runAsync(() -> copy(process.stdout(), out), pumps);
                CompletableFuture<Void> errPump = CompletableFuture.runAsync(() -> copy(process.stderr(), err), pumps);
                exitCode = waitWithTimeout(process, request.timeout(), timedOut);
                feed.get();
                awaitOutput(name, CompletableFuture.allOf(outPump, errPump));
            }
            return new Models.ExecOutput(exitCode, out.text(), err.text(), out.dropped() + err.dropped() > 0, timedOut.get());
        })));
    }

    private static void copy(InputStream in, java.io.OutputStream out) {
        try {
            in.transferTo(out);
        } catch (IOException e) {
            // the pipe broke: the stream is over
        }
    }

    /** Waits for the command; with a timeout, kills it then (and says so in {@code timedOut}). */
    private int waitWithTimeout(RunningCommand process, Integer timeout, AtomicBoolean timedOut) {
        java.util.concurrent.ScheduledFuture<?> killer = timeout == null ? null : timer.schedule(() -> {
            timedOut.set(true);
            process.signal(9);
        }, timeout, TimeUnit.SECONDS);
        try {
            return process.waitFor();
        } finally {
            if (killer != null) {
                killer.cancel(false);
            }
        }
    }

    /** Output still in the pipes comes through; a background process that keeps them open does not hold the end up. */
    private void awaitOutput(String name, CompletableFuture<?> pumps) throws Exception {
        try {
            pumps.get(2, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            log.debug(name + ": exec output still open after the command ended (a background process holds it)");
        }
    }

    /** Keeps the first {@code limit} bytes written and counts the rest. */
    static final class BoundedOutput extends java.io.OutputStream {
        private final java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();
        private final int limit;
        private long dropped;

        BoundedOutput(int limit) {
            this.limit = limit;
        }

        @Override
        public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            int take = Math.min(len, limit - kept.size());
            kept.write(b, off, take);
            dropped += len - take;
        }

        synchronized String text() {
            return kept.toString(java.nio.charset.StandardCharsets.UTF_8);
        }

        synchronized long dropped() {
            return dropped;
        }
    }

    /** Starts a streamed or interactive command (the caller has checked the request and the container). */
    void streamed(RoutingContext ctx, String name, Models.ExecRequest request, Command command) {
        boolean tty = Boolean.TRUE.equals(request.interactive());
        CompletableFuture<ServerWebSocket> socket = new CompletableFuture<>();
        Operations.Op op = operations.submit(new Operations.Work(
                (tty ? "Interactive " : "Streaming ") + request.command().getFirst() + " in " + name, name, null, false, false,
                () -> run(name, command, tty, request, socket)));
        String url = "/1.0/operations/" + op.id() + "/websocket";
        sessions.put(op.id(), socket);
        op.done().whenComplete((r, t) -> {
            sessions.remove(op.id());
            socket.cancel(false);
        });
        op.progress(Map.of("websocket", url, "interactive", tty));
        api.accepted(ctx, op);
    }

    /** {@code GET /1.0/operations/{id}/websocket}: the one client of a streamed command. */
    void connect(RoutingContext ctx) {
        CompletableFuture<ServerWebSocket> session = sessions.remove(ctx.pathParam("id"));
        if (session == null) {
            throw new AgentException.NotFound("no command waits for a client on operation " + ctx.pathParam("id")
                    + " (it has one already, has ended, or was not started with stream or interactive)");
        }
        ctx.request().toWebSocket().onSuccess(ws -> {
            ws.setWriteQueueMaxSize(WRITE_QUEUE);
            ws.pause(); // input waits until the command is there to take it
            if (!session.complete(ws)) {
                ws.close((short) 1011, "the command is no longer waiting");
            }
        }).onFailure(ctx::fail);
    }

    private Models.ExecExit run(String name, Command command, boolean tty, Models.ExecRequest request,
                                    CompletableFuture<ServerWebSocket> socket) throws Exception {
        ServerWebSocket ws;
        try {
            ws = socket.get(CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AgentException.Conflict("no client connected to the command's WebSocket within "
                    + CONNECT_TIMEOUT_MS / 1000 + " s; the command was not started");
        }
        RunningCommand process;
        try {
            process = containers.start(name, command, tty);
        } catch (RuntimeException e) {
            ws.close((short) 1011, truncate("cannot start the command: " + e.getMessage()));
            throw e;
        }
        AtomicBoolean timedOut = new AtomicBoolean();
        AtomicBoolean clientGone = new AtomicBoolean();
        ExecutorService input = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("berth-exec-input").factory());
        try (process) {
            if (tty && request.width() != null && request.height() != null) {
                process.resize(request.width(), request.height());
            }
            wireInput(ws, process, input, clientGone);
            CompletableFuture<Void> out = CompletableFuture.runAsync(() -> pump(process.stdout(), 1, ws), pumps);
            CompletableFuture<Void> err = tty ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.runAsync(() -> pump(process.stderr(), 2, ws), pumps);
            int exitCode;
            try {
                exitCode = waitWithTimeout(process, request.timeout(), timedOut);
            } catch (RuntimeException e) {
                ws.close((short) 1011, "lost the command");
                throw e;
            }
            awaitOutput(name, CompletableFuture.allOf(out, err));
            ws.writeTextMessage(ApiServer.JSON.writeValueAsString(new Models.ExitMessage("exit", exitCode, timedOut.get())))
                    .onComplete(v -> ws.close((short) 1000, "exit " + exitCode));
            return new Models.ExecExit(exitCode, timedOut.get(), clientGone.get());
        } finally {
            input.shutdown();
        }
    }

    private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("berth-exec-timeout").factory());

    /**
     * The client's messages: data goes to the command's input on a thread of its own (a command that
     * does not read blocks that thread, not the event loop, and the socket is paused meanwhile).
     */
    private void wireInput(ServerWebSocket ws, RunningCommand process, ExecutorService input, AtomicBoolean clientGone) {
        java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
        ws.binaryMessageHandler(data -> {
            byte[] bytes = data.getBytes();
            if (queued.addAndGet(bytes.length) > WRITE_QUEUE) {
                ws.pause();
            }
            input.execute(() -> {
                try {
                    process.stdin().write(bytes);
                } catch (IOException e) {
                    // the command closed its input: what it did not read is dropped
                } finally {
                    if (queued.addAndGet(-bytes.length) <= WRITE_QUEUE / 2) {
                        ws.resume();
                    }
                }
            });
        });
        ws.textMessageHandler(text -> {
            try {
                JsonNode control = ApiServer.JSON.readTree(text);
                switch (control.path("type").asText()) {
                    case "resize" -> process.resize(control.path("width").asInt(80), control.path("height").asInt(24));
                    case "eof" -> input.execute(() -> {
                        try {
                            process.closeStdin();
                        } catch (IOException e) {
                            // already closed
                        }
                    });
                    case "signal" -> process.signal(control.path("signal").asInt(15));
                    default -> log.debug("exec: unknown control message " + text);
                }
            } catch (IOException e) {
                log.debug("exec: unreadable control message " + text);
            }
        });
        ws.closeHandler(v -> {
            if (clientGone.compareAndSet(false, true)) {
                process.signal(1); // SIGHUP, as when a terminal goes away
            }
        });
        ws.resume();
    }

    /** Copies one output stream to the socket, a chunk at a time, waiting whenever the socket's queue is full. */
    private static void pump(InputStream in, int channel, ServerWebSocket ws) {
        byte[] chunk = new byte[CHUNK];
        try {
            for (int n; (n = in.read(chunk, 0, chunk.length)) > 0; ) {
                if (ws.isClosed()) {
                    continue; // keep draining so that the command is not blocked on a full pipe
                }
                Buffer message = Buffer.buffer(n + 1).appendByte((byte) channel).appendBytes(chunk, 0, n);
                awaitRoom(ws);
                ws.writeBinaryMessage(message);
            }
        } catch (IOException e) {
            // the pipe broke: the stream is over
        }
    }

    private static void awaitRoom(ServerWebSocket ws) {
        while (ws.writeQueueFull() && !ws.isClosed()) {
            CountDownLatch drained = new CountDownLatch(1);
            ws.drainHandler(v -> drained.countDown());
            try {
                drained.await(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static String truncate(String reason) {
        return reason.length() > 120 ? reason.substring(0, 120) : reason;
    }

    /** Stops the pumps and the timeout timer (the agent is stopping: its commands' clients are gone). */
    void close() {
        pumps.shutdownNow();
        timer.shutdownNow();
    }
}
