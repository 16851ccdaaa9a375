package dev.berth.agent.api;

import dev.berth.agent.api.model.Models;
import dev.berth.agent.app.AppService;
import dev.berth.agent.container.ContainerRecord;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.container.Launcher;
import dev.berth.agent.container.Lifecycle;
import dev.berth.agent.container.Reconfigure;
import dev.berth.agent.drift.DriftService;
import dev.berth.agent.error.AgentException;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Operations;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code /1.0/containers}: list, get, create (launch or copy), patch, delete, state, exec, drift.
 * Checked before answering, so that bad input is a 4xx; the work is an operation (202).
 */
final class ContainerRoutes {

    /**
     * Each container's view costs a round trip to its monitor (see StateProbe); a listing asks them all at once on
     * a small pool of platform threads (a native call blocked on a monitor would pin a virtual one).
     */
    private final java.util.concurrent.ExecutorService viewPool = java.util.concurrent.Executors.newFixedThreadPool(8,
            Thread.ofPlatform().daemon().name("berth-view-", 0).factory());

    private final ApiServer api;
    private final Vertx vertx;
    private final Lifecycle lifecycle;
    private final Launcher launcher;
    private final ContainerSpecs specs;
    private final Reconfigure reconfigure;
    private final Operations operations;
    private final AppService appService;
    private final DriftService drift;
    private final ExecRoutes execRoutes;
    private final AgentLog log;

    ContainerRoutes(ApiServer api, Vertx vertx, ApiServer.Services services, ExecRoutes execRoutes) {
        this.api = api;
        this.vertx = vertx;
        this.lifecycle = services.lifecycle();
        this.launcher = services.launcher();
        this.specs = services.specs();
        this.reconfigure = services.reconfigure();
        this.operations = services.operations();
        this.appService = services.apps();
        this.drift = services.drift();
        this.execRoutes = execRoutes;
        this.log = services.log();
    }

    void list(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        api.blocking(ctx, () -> {
            List<String> names = lifecycle.names();
            if (!full) {
                return names.stream().map(n -> "/1.0/containers/" + n).toList();
            }
            List<java.util.concurrent.Future<Models.Container>> views = names.stream()
                    .map(n -> viewPool.submit(() -> view(n))).toList();
            List<Models.Container> result = new java.util.ArrayList<>(views.size());
            for (var view : views) {
                try {
                    result.add(view.get(ApiServer.STATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof AgentException.NotFound)) { // deleted while we listed
                        throw e;
                    }
                }
            }
            return result;
        }, 200);
    }
    void get(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        api.blocking(ctx, () -> view(name), 200);
    }
    private Models.Container view(String name) {
        lifecycle.checkName(name);
        Lifecycle.Status probe = lifecycle.status(name);
        if (probe == null) {
            throw new AgentException.NotFound("no container \"" + name + "\"");
        }
        ContainerRecord record = null;
        try {
            record = specs.record(name);
        } catch (AgentException.NotFound e) {
            // a container liblxc knows that Berth did not make: shown, without Berth's details
        }
        return new Models.Container(name, probe.state(), record == null ? null : record.imageFingerprint(),
                record == null ? List.of() : record.profiles(), record == null ? null : record.created(), probe.pid(),
                record == null ? null : record.address(),
                record == null ? List.of() : record.forwards().stream().map(Object::toString).toList(),
                record != null && record.ephemeral(), record == null ? null : appSummary(name),
                record == null ? null : driftSummary(name), record == null || record.overrides() == null ? Map.of() : record.overrides(),
                record == null ? null : specs.privilegedOf(name));
    }
    /** {@code PATCH}: replaces the container's own overrides; changed limits apply live. */
    void patch(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        Models.ContainerPatch patch = ApiServer.parse(ctx, Models.ContainerPatch.class);
        api.accepted(ctx, operations.submit("Updating container " + name, name, "container-updated", () -> {
            return Views.reapplied(reconfigure.update(name, patch.config()));
        }));
    }
    void create(RoutingContext ctx) {
        Models.ContainerCreate request = ApiServer.parse(ctx, Models.ContainerCreate.class);
        if (request.name() == null) {
            throw ApiServer.badRequest("name is required", "name");
        }
        lifecycle.checkName(request.name());
        List<String> profiles = request.profiles() == null || request.profiles().isEmpty() ? List.of("default") : request.profiles();
        // Checked and claimed before answering, so that bad input is a 4xx and of concurrent creates of one
        // name exactly one gets 202.
        if (request.source() != null) {
            copy(ctx, request);
            return;
        }
        vertx.executeBlocking(() -> {
            Launcher.LaunchRequest launch = new Launcher.LaunchRequest(profiles, request.config(), request.image(),
                    Boolean.TRUE.equals(request.ephemeral()));
            launcher.check(launch);
            Launcher.Reservation reservation = launcher.reserve(request.name());
            return operations.submit("Creating container " + request.name(), request.name(), "container-created", () -> {
                launcher.launch(reservation, launch);
                appService.wake(request.name()); // its app's first health check now, not at the next status read
                try {
                    drift.applyOnce(request.name()); // the profile's Puppet manifest, once; its failures go to the drift report
                } catch (RuntimeException e) {
                    log.warn("The first Puppet run in " + request.name() + " could not be made: " + e.getMessage());
                }
                return null;
            });
        }, false).onSuccess(op -> api.accepted(ctx, op)).onFailure(ctx::fail);
    }
    /** {@code POST /1.0/containers} with a {@code source}: a copy of a container or of one of its snapshots. */
    private void copy(RoutingContext ctx, Models.ContainerCreate request) {
        Models.CopySource source = request.source();
        if (source.container() == null) {
            throw ApiServer.badRequest("source.container names the container to copy", "source.container");
        }
        lifecycle.checkName(source.container());
        lifecycle.requireDefined(source.container());
        vertx.executeBlocking(() -> {
            Launcher.Reservation reservation = launcher.reserve(request.name());
            String from = source.container() + (source.snapshot() == null ? "" : "/" + source.snapshot());
            return operations.submit("Copying " + from + " to " + request.name(), request.name(), "container-created",
                    () -> {
                        launcher.copy(reservation, source.container(), source.snapshot(), Boolean.TRUE.equals(request.ephemeral()));
                        return null;
                    });
        }, false).onSuccess(op -> api.accepted(ctx, op)).onFailure(ctx::fail);
    }
    /** {@code DELETE}: stops the container cleanly first, or with {@code ?force=true} kills it at once. */
    void delete(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        boolean force = "true".equals(ctx.queryParams().get("force")) || "1".equals(ctx.queryParams().get("force"));
        lifecycle.requireDefined(name);
        api.accepted(ctx, operations.submit("Deleting container " + name, name, "container-deleted", () -> {
            lifecycle.delete(name, force);
            return null;
        }));
    }
    void exec(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        Models.ExecRequest request = ApiServer.parse(ctx, Models.ExecRequest.class);
        if (request.command() == null || request.command().isEmpty()) {
            throw ApiServer.badRequest("command is required: the program and its arguments, as a list", "command");
        }
        lifecycle.requireDefined(name);
        if (request.timeout() != null && request.timeout() <= 0) {
            throw ApiServer.badRequest("timeout is in seconds and must be positive", "timeout");
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
            execRoutes.streamed(ctx, name, request, ExecRoutes.command(request, argv, env, inApp));
            return;
        }
        execRoutes.collected(ctx, name, request, ExecRoutes.command(request, argv, env, inApp));
    }
    void getState(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        api.blocking(ctx, () -> {
            Lifecycle.LiveState live = lifecycle.liveState(name);
            return new Models.ContainerState(live.state(), live.pid(), live.memoryUsage(), live.memoryLimit(), live.processes(),
                    live.addresses(), Views.appState(appService.view(name)));
        }, 200);
    }
    void putState(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        Models.StateChange change = ApiServer.parse(ctx, Models.StateChange.class);
        lifecycle.requireDefined(name);
        Lifecycle.Action action;
        try {
            action = Lifecycle.Action.valueOf(String.valueOf(change.action()).toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiServer.badRequest("action must be one of start, stop, restart, freeze, unfreeze; not " + change.action(), "action");
        }
        Duration timeout = Duration.ofSeconds(change.timeout() == null ? 30 : change.timeout());
        boolean force = Boolean.TRUE.equals(change.force());
        api.accepted(ctx, operations.submit(action.name().toLowerCase(java.util.Locale.ROOT) + " container " + name, name,
                "container-" + lifecycleVerb(action), () -> {
            lifecycle.changeState(name, action, force, timeout);
            appService.wake(name);
            return null;
        }));
    }
    private static String lifecycleVerb(Lifecycle.Action action) {
        return switch (action) {
            case START -> "started";
            case STOP -> "stopped";
            case RESTART -> "restarted";
            case FREEZE -> "frozen";
            case UNFREEZE -> "unfrozen";
        };
    }
    /** {@code GET .../drift}: the last drift check's report. */
    void getDrift(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        lifecycle.requireDefined(name);
        api.blocking(ctx, () -> {
            dev.berth.puppet.DriftReport report = drift.last(name);
            if (report == null) {
                throw new AgentException.NotFound("no drift check of " + name + " has run yet; run one: berth drift check " + name);
            }
            return report;
        }, 200);
    }
    /** {@code POST .../drift} {@code {"action": "check"|"reconcile"}}: a check now (reconcile: enforce whatever the policy). */
    void checkDrift(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        lifecycle.requireDefined(name);
        String action = ctx.body().isEmpty() ? "check" : String.valueOf(ApiServer.parse(ctx, Map.class).getOrDefault("action", "check"));
        if (!action.equals("check") && !action.equals("reconcile")) {
            throw ApiServer.badRequest("action must be check or reconcile, not " + action, "action");
        }
        Boolean enforce = action.equals("reconcile") ? Boolean.TRUE : null;
        api.accepted(ctx, operations.submit(new dev.berth.agent.ops.Operations.Work(
                (action.equals("check") ? "Checking drift of " : "Reconciling ") + name, name, null, false, false,
                () -> drift.check(name, enforce))));
    }
    /** The last drift check's one word for a list, or null when none has run. */
    private String driftSummary(String name) {
        dev.berth.puppet.DriftReport report = drift.last(name);
        return report == null ? null : report.summary();
    }
    /** The app's one-word state for a list (from the agent's cache: no process is started), or null without an app. */
    private String appSummary(String name) {
        dev.berth.agent.app.AppMonitor.View view = appService.view(name);
        return view == null ? null : view.summary();
    }

    void close() {
        viewPool.shutdownNow();
    }
}
