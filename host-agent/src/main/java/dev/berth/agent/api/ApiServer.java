package dev.berth.agent.api;

import dev.berth.agent.error.AgentException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.agent.api.model.Models;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.app.AppService;
import dev.berth.agent.container.ContainerExec;
import dev.berth.agent.container.ContainerFiles;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.container.Launcher;
import dev.berth.agent.container.Lifecycle;
import dev.berth.agent.container.Reconfigure;
import dev.berth.agent.container.Snapshotting;
import dev.berth.agent.drift.DriftService;
import dev.berth.agent.oci.AppImageStore;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.ops.Operations;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.agent.store.Volumes;
import dev.berth.profile.ProfileException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The REST API: thin handlers that parse a request into a record, call a service off the event loop,
 * and encode the answer. Mutating calls answer 202 with an operation to follow; every error goes
 * through {@link #error} and becomes one JSON shape with one status per exception kind.
 */
public final class ApiServer implements AutoCloseable {

    public static final int MAX_BODY = 1 << 20;
    /** How long a container's monitor may take to answer a state query before the API gives up on it. */
    static final Duration STATE_TIMEOUT = Duration.ofSeconds(10);
    /** No request of the API nests deeper than a handful of levels; 64 bounds what a parser does for a hostile body. */
    static final ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;

    /** What the routes call: built by the composition root ({@code Berthd}) or a test, and given here whole. */
    public record Services(Lifecycle lifecycle, Launcher launcher, ContainerSpecs specs, Reconfigure reconfigure,
                           Snapshotting snapshots, ContainerFiles files, ContainerExec exec, ImageStore images,
                           ProfileRegistry profiles, Volumes volumes, AppImageStore appImages, AppService apps,
                           DriftService drift, Operations operations, Events events, AgentLog log) {
    }

    private final Vertx vertx;
    private final Lifecycle lifecycle;
    private final ContainerRoutes containers;
    private final ProfileRoutes profiles;
    private final OperationRoutes operations;
    private final ImageRoutes images;
    private final ExecRoutes exec;
    private final FileRoutes files;
    private final StorageRoutes storage;
    private final AppImageRoutes appImages;
    private final AppRoutes apps;

    public ApiServer(Vertx vertx, Services services) {
        this.vertx = vertx;
        this.lifecycle = services.lifecycle();
        this.exec = new ExecRoutes(this, services.exec(), services.operations(), services.log());
        this.containers = new ContainerRoutes(this, vertx, services, exec);
        this.profiles = new ProfileRoutes(this, services);
        this.operations = new OperationRoutes(services);
        this.images = new ImageRoutes(this, services.images(), services.specs(), services.operations(), services.log());
        this.files = new FileRoutes(vertx, services.files(), services.log());
        this.storage = new StorageRoutes(this, services.lifecycle(), services.snapshots(), services.volumes(), services.operations());
        this.appImages = new AppImageRoutes(this, services.appImages(), services.lifecycle(), services.specs(), services.operations(),
                services.log(), services.apps());
        this.apps = new AppRoutes(this, services.apps(), services.lifecycle(), services.operations());
    }

    /** Stops the API's own threads (the listing's pool, exec's pumps and timer); the servers are Vert.x's to close. */
    @Override
    public void close() {
        containers.close();
        exec.close();
    }

    public Router router() {
        Router router = Router.router(vertx);
        // The router resolves dot segments after decoding (/1.0/containers/%2e%2e is /1.0): a path that
        // holds one, plain or encoded, names no resource and is refused before any route sees it.
        router.route().handler(ctx -> {
            String raw = ctx.request().path();
            String lower = raw == null ? "" : raw.toLowerCase(java.util.Locale.ROOT).replace("%2e", ".");
            if (java.util.Arrays.stream(lower.split("/")).anyMatch(p -> p.equals(".") || p.equals(".."))) {
                ctx.fail(badRequest("the path " + raw + " holds a '.' or '..' segment: no resource has such a name", null));
                return;
            }
            ctx.next();
        });
        // Image uploads stream to disk; everything else is JSON with a bounded body.
        router.post("/1.0/images").handler(images::upload);
        router.post("/1.0/containers/:name/files").handler(files::push);
        router.post("/1.0/app-images").handler(appImages::upload);
        router.route().handler(BodyHandler.create().setBodyLimit(MAX_BODY));
        router.get("/1.0").handler(this::info);
        router.get("/1.0/containers").handler(containers::list);
        router.post("/1.0/containers").handler(containers::create);
        router.get("/1.0/containers/:name").handler(containers::get);
        router.patch("/1.0/containers/:name").handler(containers::patch);
        router.delete("/1.0/containers/:name").handler(containers::delete);
        router.get("/1.0/containers/:name/state").handler(containers::getState);
        router.get("/1.0/containers/:name/files").handler(files::pull);
        router.get("/1.0/containers/:name/snapshots").handler(storage::listSnapshots);
        router.post("/1.0/containers/:name/snapshots").handler(storage::createSnapshot);
        router.post("/1.0/containers/:name/snapshots/:snapshot/restore").handler(storage::restoreSnapshot);
        router.delete("/1.0/containers/:name/snapshots/:snapshot").handler(storage::deleteSnapshot);
        router.get("/1.0/volumes").handler(storage::listVolumes);
        router.post("/1.0/volumes").handler(storage::createVolume);
        router.get("/1.0/volumes/:name").handler(storage::getVolume);
        router.delete("/1.0/volumes/:name").handler(storage::deleteVolume);
        router.post("/1.0/containers/:name/exec").handler(containers::exec);
        router.put("/1.0/containers/:name/state").handler(containers::putState);
        router.get("/1.0/containers/:name/app").handler(apps::get);
        router.get("/1.0/containers/:name/drift").handler(containers::getDrift);
        router.post("/1.0/containers/:name/drift").handler(containers::checkDrift);
        router.put("/1.0/containers/:name/app/state").handler(apps::state);
        router.post("/1.0/containers/:name/app/upgrade").handler(apps::upgrade);
        router.post("/1.0/containers/:name/app/rollback").handler(apps::rollback);
        router.get("/1.0/profiles").handler(profiles::list);
        router.post("/1.0/profiles").handler(profiles::create);
        router.get("/1.0/profiles/:name").handler(profiles::get);
        router.put("/1.0/profiles/:name").handler(profiles::put);
        router.delete("/1.0/profiles/:name").handler(profiles::delete);
        router.get("/1.0/images").handler(images::list);
        router.post("/1.0/images").handler(images::create);
        router.get("/1.0/images/aliases").handler(images::listAliases);
        router.post("/1.0/images/aliases").handler(images::addAlias);
        router.delete("/1.0/images/aliases/:alias").handler(images::removeAlias);
        router.get("/1.0/images/:fingerprint").handler(images::get);
        router.delete("/1.0/images/:fingerprint").handler(images::delete);
        router.get("/1.0/app-images").handler(appImages::list);
        router.get("/1.0/app-images/:ref").handler(appImages::get);
        router.delete("/1.0/app-images/:ref").handler(appImages::delete);
        router.get("/1.0/operations").handler(operations::list);
        router.get("/1.0/operations/:id").handler(operations::get);
        router.delete("/1.0/operations/:id").handler(operations::cancel);
        router.get("/1.0/events").handler(operations::events);
        router.get("/1.0/operations/:id/wait").handler(operations::await);
        router.get("/1.0/operations/:id/websocket").handler(exec::connect);
        router.route().last().handler(ctx -> ctx.fail(404));
        router.route().failureHandler(this::error);
        return router;
    }

    private void info(RoutingContext ctx) {
        blocking(ctx, () -> new Models.ServerInfo("1.0", "0.1.0", InetAddress.getLocalHost().getHostName(), lifecycle.runtimeVersion(),
                java.nio.file.Files.isDirectory(Path.of("/sys/fs/cgroup/memory")) ? "v1" : "v2", lifecycle.lxcpath().toString(),
                lifecycle.names().size()), 200);
    }






























    void accepted(RoutingContext ctx, Operations.Op op) {
        String url = "/1.0/operations/" + op.id();
        ctx.response().putHeader("Location", url);
        respond(ctx, 202, new Models.Accepted("async", 202, url, Views.operation(op.view())));
    }

    <T> void blocking(RoutingContext ctx, java.util.concurrent.Callable<T> work, int status) {
        vertx.executeBlocking(work, false).onSuccess(result -> respond(ctx, status, result)).onFailure(ctx::fail);
    }

    static <T> T parse(RoutingContext ctx, Class<T> type) {
        try {
            if (ctx.body() == null || ctx.body().buffer() == null || ctx.body().length() <= 0) {
                throw badRequest("the request needs a JSON body", null);
            }
            T value = JSON.readValue(ctx.body().buffer().getBytes(), type);
            if (value == null || value instanceof com.fasterxml.jackson.databind.node.NullNode) {
                throw badRequest("the request body is JSON null: send an object", null);
            }
            return value;
        } catch (JsonProcessingException e) {
            var at = e.getLocation();
            throw badRequest("malformed JSON: " + e.getOriginalMessage()
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), null);
        } catch (java.io.IOException e) {
            throw badRequest("unreadable body: " + e.getMessage(), null);
        }
    }

    static void respond(RoutingContext ctx, int status, Object body) {
        try {
            ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                    .end(io.vertx.core.buffer.Buffer.buffer(JSON.writeValueAsBytes(body)));
        } catch (JsonProcessingException e) {
            ctx.fail(e);
        }
    }

    /** The one place where failures become HTTP answers: one status per kind of failure. */
    private void error(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        int status;
        String message;
        String field = null;
        if (failure == null) {
            status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
            message = switch (status) {
                case 404 -> "no such endpoint: " + ctx.request().method() + " " + ctx.request().path();
                case 413 -> "the request body is larger than " + MAX_BODY + " bytes";
                default -> "request failed";
            };
        } else {
            status = ErrorMapper.status(failure);
            message = failure.getMessage() == null ? failure.toString() : failure.getMessage();
            field = ErrorMapper.field(failure);
        }
        if (!ctx.response().ended()) {
            if (Boolean.TRUE.equals(ctx.get(UNREAD_UPLOAD)) && !ctx.request().isEnded()) {
                // refused before the body was read (an upload with a bad name): say so, then close, so
                // that a client still sending sees the answer rather than waiting on a full socket
                ctx.response().putHeader("Connection", "close");
                // Closing with the body unread resets the connection, and a client still writing may lose the
                // answer: the rest of the body is read and dropped for up to a second, then the connection closes.
                io.vertx.core.http.HttpServerRequest request = ctx.request();
                ctx.response().endHandler(v -> {
                    if (request.isEnded()) {
                        request.connection().close();
                        return;
                    }
                    long timer = vertx.setTimer(1000, t -> request.connection().close());
                    request.endHandler(e -> {
                        vertx.cancelTimer(timer);
                        request.connection().close();
                    });
                });
                request.handler(chunk -> { });
                request.resume();
            }
            respond(ctx, status, new Models.ErrorBody("error", status, message, field));
        }
    }

    /**
     * A number the client sent (a header or query parameter), or 400 naming {@code field} and the range.
     *
     * @param radix 10, or 8 for file modes
     */
    static long number(String text, String field, long min, long max, int radix) {
        long value;
        try {
            value = Long.parseLong(text.strip(), radix);
        } catch (NumberFormatException e) {
            value = Long.MIN_VALUE;
        }
        if (value < min || value > max) {
            String range = radix == 8 ? "an octal mode from 0 to " + Long.toOctalString(max) : "a number from " + min + " to " + max;
            throw badRequest(field + " must be " + range + ", not " + text, field);
        }
        return value;
    }

    /** Set by the upload routes while the request body is paused and unread (see {@link #error}). */
    static final String UNREAD_UPLOAD = "berth.unread-upload";

    /** 400 naming the request field at fault (null for the body as a whole). */
    static AgentException.Invalid badRequest(String message, String field) {
        return new AgentException.Invalid(field, message);
    }
}
