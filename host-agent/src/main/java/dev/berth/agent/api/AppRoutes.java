package dev.berth.agent.api;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.oci.AppRuntime;
import dev.berth.agent.app.AppService;
import dev.berth.agent.container.Lifecycle;
import dev.berth.agent.api.model.Models;
import dev.berth.agent.ops.Operations;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The app container of a system container: {@code GET /1.0/containers/{name}/app} (its state, health
 * and revisions), {@code PUT .../app/state} (start, stop, restart), {@code POST .../app/upgrade} and
 * {@code POST .../app/rollback}. The changes are operations, like every other change.
 */
final class AppRoutes {

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final ApiServer api;
    private final AppService apps;
    private final Lifecycle lifecycle;
    private final Operations operations;

    AppRoutes(ApiServer api, AppService apps, Lifecycle lifecycle, Operations operations) {
        this.api = api;
        this.apps = apps;
        this.lifecycle = lifecycle;
        this.operations = operations;
    }

    /** {@code PUT .../app/state}. */
    record AppAction(String action, Integer timeout) {
    }

    /** {@code POST .../app/upgrade}: the image to run; {@code timeout} in seconds to reach healthy. */
    record AppUpgrade(String image, Integer timeout) {
    }

    /** {@code POST .../app/rollback}: the revision to go back to (default: the one before the current). */
    record AppRollback(Integer revision, Integer timeout) {
    }

    void get(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        api.blocking(ctx, () -> {
            dev.berth.agent.app.AppMonitor.View view = view(name);
            return Views.appDetail(view, apps.detail(name));
        }, 200);
    }

    /** 404 unless container {@code name} exists and has an app; cheap enough for the event loop (no file is read). */
    private void requireApp(String name) {
        lifecycle.requireDefined(name);
        if (!apps.hasApp(name)) {
            throw new AgentException.NotFound("container \"" + name + "\" has no app: its profiles have no app section");
        }
    }

    private dev.berth.agent.app.AppMonitor.View view(String name) {
        if (lifecycle.status(name) == null) {
            throw new AgentException.NotFound("no container \"" + name + "\"");
        }
        dev.berth.agent.app.AppMonitor.View view = apps.view(name);
        if (view == null) {
            throw new AgentException.NotFound("container \"" + name + "\" has no app: its profiles have no app section");
        }
        return view;
    }

    void state(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        AppAction request = ApiServer.parse(ctx, AppAction.class);
        String action = String.valueOf(request.action()).toLowerCase(Locale.ROOT);
        if (!List.of("start", "stop", "restart").contains(action)) {
            throw ApiServer.badRequest("action must be one of start, stop, restart; not " + request.action(), "action");
        }
        requireApp(name);
        Duration timeout = timeout(request.timeout());
        api.accepted(ctx, operations.submit(new Operations.Work(action.substring(0, 1).toUpperCase(Locale.ROOT) + action.substring(1)
                + " the app in " + name, name, "app-" + action, false, () -> result(apps.change(name, action, timeout)))));
    }

    void upgrade(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        AppUpgrade request = ApiServer.parse(ctx, AppUpgrade.class);
        if (request.image() == null || request.image().isBlank()) {
            throw ApiServer.badRequest("image is required: the app image to upgrade to (name:tag or name@sha256:...)", "image");
        }
        requireApp(name);
        Duration timeout = timeout(request.timeout());
        api.accepted(ctx, operations.submit(new Operations.Work("Upgrade the app in " + name + " to " + request.image(), name,
                "app-upgrade", false, () -> result(apps.upgrade(name, request.image(), timeout)))));
    }

    void rollback(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        AppRollback request = ctx.body().isEmpty() ? new AppRollback(null, null) : ApiServer.parse(ctx, AppRollback.class);
        requireApp(name);
        Duration timeout = timeout(request.timeout());
        api.accepted(ctx, operations.submit(new Operations.Work("Roll back the app in " + name
                + (request.revision() == null ? "" : " to revision " + request.revision()), name, "app-rollback", false,
                () -> result(apps.rollback(name, request.revision(), timeout)))));
    }

    private static Models.AppOutcome result(AppService.Outcome o) {
        return new Models.AppOutcome(o.container(), o.revision(), o.image(), o.digest(), o.health(), o.note());
    }

    private static Duration timeout(Integer seconds) {
        if (seconds != null && seconds <= 0) {
            throw ApiServer.badRequest("timeout is in seconds and must be positive", "timeout");
        }
        return seconds == null ? DEFAULT_TIMEOUT : Duration.ofSeconds(seconds);
    }
}
