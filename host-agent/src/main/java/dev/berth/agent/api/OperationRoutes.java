package dev.berth.agent.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.berth.agent.api.model.Models;
import dev.berth.agent.error.AgentException;
import dev.berth.agent.ops.Events;
import dev.berth.agent.ops.Operations;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** {@code /1.0/operations} (list, get, cancel, wait) and {@code /1.0/events} (a WebSocket of events). */
final class OperationRoutes {

    private static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

    private final Operations operations;
    private final Events events;

    OperationRoutes(ApiServer.Services services) {
        this.operations = services.operations();
        this.events = services.events();
    }

    void list(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        ApiServer.respond(ctx, 200, full ? operations.list().stream().map(Operations.Op::view).toList()
                : operations.list().stream().map(op -> "/1.0/operations/" + op.id()).toList());
    }
    void get(RoutingContext ctx) {
        ApiServer.respond(ctx, 200, Views.operation(operation(ctx).view()));
    }
    void cancel(RoutingContext ctx) {
        Operations.Op op = operation(ctx);
        operations.cancel(op);
        ApiServer.respond(ctx, 200, Views.operation(op.view()));
    }
    void await(RoutingContext ctx) {
        Operations.Op op = operation(ctx);
        String timeoutParam = ctx.queryParams().get("timeout");
        Duration timeout = timeoutParam == null ? DEFAULT_WAIT : Duration.ofSeconds(ApiServer.number(timeoutParam, "timeout", 0, 86_400, 10));
        CompletableFuture<Models.Operation> done = op.done().handle((v, t) -> op.view())
                .completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS).thenApply(v -> Views.operation(op.view()));
        Future.fromCompletionStage(done, ctx.vertx().getOrCreateContext())
                .onSuccess(view -> ApiServer.respond(ctx, 200, view)).onFailure(ctx::fail);
    }
    private Operations.Op operation(RoutingContext ctx) {
        Operations.Op op = operations.get(ctx.pathParam("id"));
        if (op == null) {
            throw new AgentException.NotFound("no operation " + ctx.pathParam("id"));
        }
        return op;
    }
    /**
     * {@code GET /1.0/events[?type=operation,lifecycle,logging]} upgraded to a WebSocket: one JSON text
     * message per event. A listener whose connection cannot take more is disconnected (close code
     * 1008), so a slow client never makes the agent hold events for it.
     */
    void events(RoutingContext ctx) {
        String typeParam = ctx.queryParams().get("type");
        java.util.Set<String> types = typeParam == null ? java.util.Set.of("operation", "lifecycle", "logging")
                : java.util.Set.of(typeParam.split(","));
        io.vertx.core.Context context = ctx.vertx().getOrCreateContext();
        // Subscribed before the upgrade, so that a client that has read the 101 misses nothing it
        // causes afterwards; events until the socket is ready wait in a short queue (on this context).
        var socket = new java.util.concurrent.atomic.AtomicReference<io.vertx.core.http.ServerWebSocket>();
        java.util.ArrayDeque<Events.Event> early = new java.util.ArrayDeque<>();
        Runnable unsubscribe = events.subscribe(event -> {
            if (types.contains(event.type())) {
                context.runOnContext(v -> {
                    var ws = socket.get();
                    if (ws == null) {
                        if (early.size() < 1000) {
                            early.add(event);
                        }
                    } else {
                        sendEvent(ws, event);
                    }
                });
            }
        });
        ctx.request().toWebSocket().onSuccess(ws -> {
            ws.closeHandler(v -> unsubscribe.run());
            early.forEach(event -> sendEvent(ws, event));
            early.clear();
            socket.set(ws);
        }).onFailure(t -> {
            unsubscribe.run();
            ctx.fail(t);
        });
    }
    private static void sendEvent(io.vertx.core.http.ServerWebSocket ws, Events.Event event) {
        if (ws.isClosed()) {
            return;
        }
        if (ws.writeQueueFull()) {
            ws.close((short) 1008, "event listener too slow; reconnect and catch up with GET /1.0/operations");
            return;
        }
        try {
            ws.writeTextMessage(ApiServer.JSON.writeValueAsString(event));
        } catch (JsonProcessingException e) {
            ws.close((short) 1011, "cannot encode an event");
        }
    }
}
