package dev.berth.agent.api;

import dev.berth.agent.error.AgentException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.agent.api.model.Models;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.container.ContainerRecord;
import dev.berth.agent.container.Instances;
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
public final class ApiServer {

    public static final int MAX_BODY = 1 << 20;
    private static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);
    /** How long a container's monitor may take to answer a state query before the API gives up on it. */
    static final Duration STATE_TIMEOUT = Duration.ofSeconds(10);
    /** No request of the API nests deeper than a handful of levels; 64 bounds what a parser does for a hostile body. */
    static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder().maxNestingDepth(64).build()).build())
            .findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final Vertx vertx;
    private final Path lxcpath;
    private final Instances instances;
    private final ProfileRegistry profiles;
    private final Operations operations;
    private final Events events;
    private final ImageRoutes images;
    private final ExecRoutes exec;
    private final FileRoutes files;
    private final StorageRoutes storage;
    private final AppImageRoutes appImages;
    private final AppRoutes apps;
    private final dev.berth.agent.app.AppService appService;
    private final dev.berth.agent.drift.DriftService drift;
    private final AgentLog log;

    /** Everything the routes use is given here, built by the composition root ({@code Berthd}) or a test. */
    public ApiServer(Vertx vertx, Path lxcpath, Instances instances, ImageStore images, ProfileRegistry profiles,
                     Operations operations, Events events, AgentLog log, Volumes volumes, dev.berth.agent.oci.AppImageStore appImages,
                     dev.berth.agent.app.AppService apps, dev.berth.agent.drift.DriftService drift) {
        this.log = log;
        this.appService = apps;
        this.drift = drift;
        this.apps = new AppRoutes(this, appService, instances, operations);
        this.events = events;
        this.images = new ImageRoutes(this, images, instances, operations, log);
        this.exec = new ExecRoutes(this, instances, operations, log);
        this.files = new FileRoutes(vertx, instances, log);
        this.storage = new StorageRoutes(this, instances, volumes, operations);
        this.appImages = new AppImageRoutes(this, appImages, instances, operations, log, appService);
        this.vertx = vertx;
        this.lxcpath = lxcpath;
        this.instances = instances;
        this.profiles = profiles;
        this.operations = operations;
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
        router.get("/1.0/containers").handler(this::listContainers);
        router.post("/1.0/containers").handler(this::createContainer);
        router.get("/1.0/containers/:name").handler(this::getContainer);
        router.patch("/1.0/containers/:name").handler(this::patchContainer);
        router.delete("/1.0/containers/:name").handler(this::deleteContainer);
        router.get("/1.0/containers/:name/state").handler(this::getState);
        router.get("/1.0/containers/:name/files").handler(files::pull);
        router.get("/1.0/containers/:name/snapshots").handler(storage::listSnapshots);
        router.post("/1.0/containers/:name/snapshots").handler(storage::createSnapshot);
        router.post("/1.0/containers/:name/snapshots/:snapshot/restore").handler(storage::restoreSnapshot);
        router.delete("/1.0/containers/:name/snapshots/:snapshot").handler(storage::deleteSnapshot);
        router.get("/1.0/volumes").handler(storage::listVolumes);
        router.post("/1.0/volumes").handler(storage::createVolume);
        router.get("/1.0/volumes/:name").handler(storage::getVolume);
        router.delete("/1.0/volumes/:name").handler(storage::deleteVolume);
        router.post("/1.0/containers/:name/exec").handler(this::exec);
        router.put("/1.0/containers/:name/state").handler(this::putState);
        router.get("/1.0/containers/:name/app").handler(apps::get);
        router.get("/1.0/containers/:name/drift").handler(this::getDrift);
        router.post("/1.0/containers/:name/drift").handler(this::checkDrift);
        router.put("/1.0/containers/:name/app/state").handler(apps::state);
        router.post("/1.0/containers/:name/app/upgrade").handler(apps::upgrade);
        router.post("/1.0/containers/:name/app/rollback").handler(apps::rollback);
        router.get("/1.0/profiles").handler(this::listProfiles);
        router.post("/1.0/profiles").handler(this::createProfile);
        router.get("/1.0/profiles/:name").handler(this::getProfile);
        router.put("/1.0/profiles/:name").handler(this::putProfile);
        router.delete("/1.0/profiles/:name").handler(this::deleteProfile);
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
        router.get("/1.0/operations").handler(this::listOperations);
        router.get("/1.0/operations/:id").handler(this::getOperation);
        router.delete("/1.0/operations/:id").handler(this::cancelOperation);
        router.get("/1.0/events").handler(this::streamEvents);
        router.get("/1.0/operations/:id/wait").handler(this::waitOperation);
        router.get("/1.0/operations/:id/websocket").handler(exec::connect);
        router.route().last().handler(ctx -> ctx.fail(404));
        router.route().failureHandler(this::error);
        return router;
    }

    private void info(RoutingContext ctx) {
        blocking(ctx, () -> new Models.ServerInfo("1.0", "0.1.0", InetAddress.getLocalHost().getHostName(), instances.runtimeVersion(),
                java.nio.file.Files.isDirectory(Path.of("/sys/fs/cgroup/memory")) ? "v1" : "v2", lxcpath.toString(),
                instances.names().size()), 200);
    }

    /**
     * Each container's view costs a round trip to its monitor (see StateProbe); a listing asks them all at once on
     * a small pool of platform threads (a native call blocked on a monitor would pin a virtual one).
     */
    private static final java.util.concurrent.ExecutorService VIEWS = java.util.concurrent.Executors.newFixedThreadPool(8,
            Thread.ofPlatform().daemon().name("berth-view-", 0).factory());

    private void listContainers(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        blocking(ctx, () -> {
            List<String> names = instances.names();
            if (!full) {
                return names.stream().map(n -> "/1.0/containers/" + n).toList();
            }
            List<java.util.concurrent.Future<Models.Container>> views = names.stream()
                    .map(n -> VIEWS.submit(() -> view(n))).toList();
            List<Models.Container> result = new java.util.ArrayList<>(views.size());
            for (var view : views) {
                try {
                    result.add(view.get(STATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof AgentException.NotFound)) { // deleted while we listed
                        throw e;
                    }
                }
            }
            return result;
        }, 200);
    }

    private void getContainer(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        blocking(ctx, () -> view(name), 200);
    }

    /** {@code PATCH}: replaces the container's own overrides; changed limits apply live. */
    private void patchContainer(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        instances.checkName(name);
        Models.ContainerPatch patch = parse(ctx, Models.ContainerPatch.class);
        accepted(ctx, operations.submit("Updating container " + name, name, "container-updated", () -> {
            dev.berth.agent.container.Reconfigure.Reapplied result = instances.update(name, patch.config());
            return Map.of("appliedLive", result.appliedLive(), "pending", result.pending());
        }));
    }

    private void createContainer(RoutingContext ctx) {
        Models.ContainerCreate request = parse(ctx, Models.ContainerCreate.class);
        if (request.name() == null) {
            throw badRequest("name is required", "name");
        }
        instances.checkName(request.name());
        List<String> profiles = request.profiles() == null || request.profiles().isEmpty() ? List.of("default") : request.profiles();
        // Checked and claimed before answering, so that bad input is a 4xx and of concurrent creates of one
        // name exactly one gets 202.
        if (request.source() != null) {
            copyContainer(ctx, request);
            return;
        }
        vertx.executeBlocking(() -> {
            instances.check(profiles, request.config(), request.image());
            Instances.Reservation reservation = instances.reserve(request.name());
            return operations.submit("Creating container " + request.name(), request.name(), "container-created", () -> {
                var made = instances.launch(reservation, profiles, request.config(), request.image(), Boolean.TRUE.equals(request.ephemeral()));
                appService.wake(request.name()); // its app's first health check now, not at the next status read
                try {
                    drift.applyOnce(request.name()); // the profile's Puppet manifest, once; its failures go to the drift report
                } catch (RuntimeException e) {
                    log.warn("The first Puppet run in " + request.name() + " could not be made: " + e.getMessage());
                }
                return made;
            });
        }, false).onSuccess(op -> accepted(ctx, op)).onFailure(ctx::fail);
    }

    /** {@code POST /1.0/containers} with a {@code source}: a copy of a container or of one of its snapshots. */
    private void copyContainer(RoutingContext ctx, Models.ContainerCreate request) {
        Models.CopySource source = request.source();
        if (source.container() == null) {
            throw badRequest("source.container names the container to copy", "source.container");
        }
        instances.checkName(source.container());
        requireDefined(source.container());
        vertx.executeBlocking(() -> {
            Instances.Reservation reservation = instances.reserve(request.name());
            String from = source.container() + (source.snapshot() == null ? "" : "/" + source.snapshot());
            return operations.submit("Copying " + from + " to " + request.name(), request.name(), "container-created",
                    () -> instances.copy(reservation, source.container(), source.snapshot(), Boolean.TRUE.equals(request.ephemeral())));
        }, false).onSuccess(op -> accepted(ctx, op)).onFailure(ctx::fail);
    }

    /** {@code DELETE}: stops the container cleanly first, or with {@code ?force=true} kills it at once. */
    private void deleteContainer(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        instances.checkName(name);
        boolean force = "true".equals(ctx.queryParams().get("force")) || "1".equals(ctx.queryParams().get("force"));
        requireDefined(name);
        accepted(ctx, operations.submit("Deleting container " + name, name, "container-deleted", () -> {
            instances.delete(name, force);
            return null;
        }));
    }

    /**
     * A 404 before any operation is made for a container that does not exist (one stat: the
     * operation itself still copes with a container deleted in between).
     */
    void requireDefined(String name) {
        if (!java.nio.file.Files.isRegularFile(lxcpath.resolve(name).resolve("config"))) {
            throw new AgentException.NotFound("no container \"" + name + "\"");
        }
    }

    private void exec(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        instances.checkName(name);
        Models.ExecRequest request = parse(ctx, Models.ExecRequest.class);
        if (request.command() == null || request.command().isEmpty()) {
            throw badRequest("command is required: the program and its arguments, as a list", "command");
        }
        requireDefined(name);
        if (request.timeout() != null && request.timeout() <= 0) {
            throw badRequest("timeout is in seconds and must be positive", "timeout");
        }
        boolean streamed = Boolean.TRUE.equals(request.stream()) || Boolean.TRUE.equals(request.interactive());
        Map<String, String> env = new java.util.LinkedHashMap<>();
        if (Boolean.TRUE.equals(request.interactive())) {
            env.put("TERM", "xterm-256color");
        }
        if (request.environment() != null) {
            env.putAll(request.environment());
        }
        List<String> argv = request.command();
        boolean inApp = Boolean.TRUE.equals(request.app());
        if (inApp) {
            if (!appService.hasApp(name)) {
                throw new AgentException.NotFound("container \"" + name + "\" has no app: its profiles have no app section");
            }
            String user = request.user() == null ? null : request.user() + ":" + (request.group() == null ? request.user() : request.group());
            argv = dev.berth.agent.oci.AppRuntime.execInApp(request.command(), Boolean.TRUE.equals(request.interactive()), env,
                    request.cwd(), user);
        }
        if (streamed) {
            exec.streamed(ctx, name, request, ExecRoutes.command(request, argv, env, inApp));
            return;
        }
        exec.collected(ctx, name, request, ExecRoutes.command(request, argv, env, inApp));
    }

    private void getState(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        instances.checkName(name);
        blocking(ctx, () -> {
            Instances.LiveState live = instances.liveState(name);
            return new Models.ContainerState(live.state(), live.pid(), live.memoryUsage(), live.memoryLimit(), live.processes(),
                    live.addresses(), Views.appState(appService.view(name)));
        }, 200);
    }

    /** {@code GET .../drift}: the last drift check's report. */
    private void getDrift(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        instances.checkName(name);
        requireDefined(name);
        blocking(ctx, () -> {
            dev.berth.puppet.DriftReport report = drift.last(name);
            if (report == null) {
                throw new AgentException.NotFound("no drift check of " + name + " has run yet; run one: berth drift check " + name);
            }
            return report;
        }, 200);
    }

    /** {@code POST .../drift} {@code {"action": "check"|"reconcile"}}: a check now (reconcile: enforce whatever the policy). */
    private void checkDrift(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        instances.checkName(name);
        requireDefined(name);
        String action = ctx.body().isEmpty() ? "check" : String.valueOf(parse(ctx, Map.class).getOrDefault("action", "check"));
        if (!action.equals("check") && !action.equals("reconcile")) {
            throw badRequest("action must be check or reconcile, not " + action, "action");
        }
        Boolean enforce = action.equals("reconcile") ? Boolean.TRUE : null;
        accepted(ctx, operations.submit(new dev.berth.agent.ops.Operations.Work(
                (action.equals("check") ? "Checking drift of " : "Reconciling ") + name, name, null, false, false,
                () -> JSON.convertValue(drift.check(name, enforce), Map.class))));
    }

    /** The last drift check's one word for a list, or null when none has run. */
    private String driftSummary(String name) {
        dev.berth.puppet.DriftReport report = drift.last(name);
        return report == null ? null : report.summary();
    }

    /** The app's one-word state for a list (from the agent's cache: no process is started), or null without an app. */
    private String appSummary(String name) {
        dev.berth.agent.app.AppService.View view = appService.view(name);
        return view == null ? null : view.summary();
    }

    private void putState(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        instances.checkName(name);
        Models.StateChange change = parse(ctx, Models.StateChange.class);
        requireDefined(name);
        Instances.Action action;
        try {
            action = Instances.Action.valueOf(String.valueOf(change.action()).toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw badRequest("action must be one of start, stop, restart, freeze, unfreeze; not " + change.action(), "action");
        }
        Duration timeout = Duration.ofSeconds(change.timeout() == null ? 30 : change.timeout());
        boolean force = Boolean.TRUE.equals(change.force());
        accepted(ctx, operations.submit(action.name().toLowerCase(java.util.Locale.ROOT) + " container " + name, name,
                "container-" + lifecycleVerb(action), () -> {
            instances.changeState(name, action, force, timeout);
            appService.wake(name);
            return null;
        }));
    }

    private void listProfiles(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        blocking(ctx, () -> full ? profiles.names().stream().map(this::profileView).toList()
                : profiles.names().stream().map(n -> "/1.0/profiles/" + n).toList(), 200);
    }

    private void getProfile(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        blocking(ctx, () -> profileView(name), 200);
    }

    private void createProfile(RoutingContext ctx) {
        Models.ProfilePut put = parse(ctx, Models.ProfilePut.class);
        if (put.name() == null || put.content() == null) {
            throw badRequest("a profile needs a name and its YAML content", put.name() == null ? "name" : "content");
        }
        blocking(ctx, () -> {
            if (profiles.names().contains(put.name())) {
                throw new AgentException.Conflict("profile \"" + put.name() + "\" already exists; PUT /1.0/profiles/" + put.name() + " replaces it");
            }
            profiles.put(put.name(), put.content());
            return new Models.ProfileChanged(put.name(), List.of(), List.of());
        }, 201);
    }

    private void putProfile(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        Models.ProfilePut put = parse(ctx, Models.ProfilePut.class);
        if (put.content() == null) {
            throw badRequest("the profile's YAML content is required", "content");
        }
        blocking(ctx, () -> {
            profiles.get(name);
            profiles.put(name, put.content());
            // Each container using it, or a profile extending it, gets the changed limits live, in an
            // operation of its own (serialised with its others).
            List<String> users = instances.usedByAny(profiles.withDescendants(name));
            List<String> updates = users.stream().map(user -> "/1.0/operations/" + operations.submit(
                    "Applying profile " + name + " to " + user, user, "container-updated", () -> {
                        dev.berth.agent.container.Reconfigure.Reapplied r = instances.reapply(user);
                        return Map.of("appliedLive", r.appliedLive(), "pending", r.pending());
                    }).id()).toList();
            return new Models.ProfileChanged(name, users, updates);
        }, 200);
    }

    private void deleteProfile(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        blocking(ctx, () -> {
            List<String> users = instances.usedBy(name);
            List<String> children = profiles.extending(name);
            profiles.get(name);
            if (!users.isEmpty() || !children.isEmpty()) {
                throw new AgentException.Conflict("profile \"" + name + "\" is in use" + (users.isEmpty() ? "" : " by containers " + users)
                        + (children.isEmpty() ? "" : " and extended by profiles " + children) + "; change those first");
            }
            profiles.delete(name);
            return new Models.ProfileChanged(name, List.of(), List.of());
        }, 200);
    }

    private static String lifecycleVerb(Instances.Action action) {
        return switch (action) {
            case START -> "started";
            case STOP -> "stopped";
            case RESTART -> "restarted";
            case FREEZE -> "frozen";
            case UNFREEZE -> "unfrozen";
        };
    }

    /**
     * {@code GET /1.0/events[?type=operation,lifecycle,logging]} upgraded to a WebSocket: one JSON text
     * message per event. A listener whose connection cannot take more is disconnected (close code
     * 1008), so a slow client never makes the agent hold events for it.
     */
    private void streamEvents(RoutingContext ctx) {
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
            ws.writeTextMessage(JSON.writeValueAsString(event));
        } catch (JsonProcessingException e) {
            ws.close((short) 1011, "cannot encode an event");
        }
    }

    private Models.Profile profileView(String name) {
        var document = profiles.get(name);
        var description = document.root().get("description");
        return new Models.Profile(name,
                description instanceof dev.berth.profile.Node.ScalarNode s ? s.text() : null,
                profiles.content(name), instances.usedBy(name), profiles.extending(name));
    }

    private void listOperations(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        respond(ctx, 200, full ? operations.list().stream().map(Operations.Op::view).toList()
                : operations.list().stream().map(op -> "/1.0/operations/" + op.id()).toList());
    }

    private void cancelOperation(RoutingContext ctx) {
        Operations.Op op = operation(ctx);
        operations.cancel(op);
        respond(ctx, 200, Views.operation(op.view()));
    }

    private void getOperation(RoutingContext ctx) {
        respond(ctx, 200, Views.operation(operation(ctx).view()));
    }

    private void waitOperation(RoutingContext ctx) {
        Operations.Op op = operation(ctx);
        String timeoutParam = ctx.queryParams().get("timeout");
        Duration timeout = timeoutParam == null ? DEFAULT_WAIT : Duration.ofSeconds(number(timeoutParam, "timeout", 0, 86_400, 10));
        CompletableFuture<Models.Operation> done = op.done().handle((v, t) -> op.view())
                .completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS).thenApply(v -> Views.operation(op.view()));
        Future.fromCompletionStage(done, ctx.vertx().getOrCreateContext())
                .onSuccess(view -> respond(ctx, 200, view)).onFailure(ctx::fail);
    }

    private Operations.Op operation(RoutingContext ctx) {
        Operations.Op op = operations.get(ctx.pathParam("id"));
        if (op == null) {
            throw new AgentException.NotFound("no operation " + ctx.pathParam("id"));
        }
        return op;
    }

    private Models.Container view(String name) {
        instances.checkName(name);
        Instances.Status probe = instances.status(name);
        if (probe == null) {
            throw new AgentException.NotFound("no container \"" + name + "\"");
        }
        ContainerRecord record = null;
        try {
            record = instances.record(name);
        } catch (AgentException.NotFound e) {
            // a container liblxc knows that Berth did not make: shown, without Berth's details
        }
        return new Models.Container(name, probe.state(), record == null ? null : record.imageFingerprint(),
                record == null ? List.of() : record.profiles(), record == null ? null : record.created(), probe.pid(),
                record == null ? null : record.address(),
                record == null ? List.of() : record.forwards().stream().map(Object::toString).toList(),
                record != null && record.ephemeral(), record == null ? null : appSummary(name),
                record == null ? null : driftSummary(name), record == null || record.overrides() == null ? Map.of() : record.overrides());
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
