package dev.berth.agent.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.api.model.Models;
import dev.berth.agent.container.Lifecycle;
import dev.berth.agent.container.Snapshotting;
import dev.berth.agent.ops.Operations;
import dev.berth.agent.store.Volumes;
import io.vertx.ext.web.RoutingContext;

/**
 * Snapshots ({@code /1.0/containers/{name}/snapshots}: list, create, restore, delete; the changes
 * are operations serialised with the container's others) and volumes ({@code /1.0/volumes}: list
 * with their users, create, get, delete; deleting one in use is a 409).
 */
final class StorageRoutes {

    private final ApiServer api;
    private final Lifecycle lifecycle;
    private final Snapshotting snapshots;
    private final Volumes volumes;
    private final Operations operations;

    StorageRoutes(ApiServer api, Lifecycle lifecycle, Snapshotting snapshots, Volumes volumes, Operations operations) {
        this.api = api;
        this.lifecycle = lifecycle;
        this.snapshots = snapshots;
        this.volumes = volumes;
        this.operations = operations;
    }

    void listSnapshots(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        api.blocking(ctx, () -> snapshots.list(name), 200);
    }

    void createSnapshot(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        lifecycle.checkName(name);
        JsonNode body = ctx.body() == null || ctx.body().buffer() == null || ctx.body().length() <= 0 ? ApiServer.JSON.createObjectNode() : ApiServer.parse(ctx, JsonNode.class);
        String snapshot = body.hasNonNull("name") ? body.get("name").asText() : null;
        if (snapshot != null) {
            Snapshotting.checkName(snapshot); // before the operation, which freezes the container
        }
        api.accepted(ctx, operations.submit("Snapshotting " + name, name, "container-snapshot-created",
                () -> snapshots.take(name, snapshot)));
    }

    void restoreSnapshot(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        String snapshot = ctx.pathParam("snapshot");
        lifecycle.checkName(name);
        Snapshotting.checkName(snapshot);
        api.accepted(ctx, operations.submit("Restoring " + name + " to snapshot " + snapshot, name, "container-restored", () -> {
            snapshots.restore(name, snapshot);
            return new Models.Restored(snapshot);
        }));
    }

    void deleteSnapshot(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        String snapshot = ctx.pathParam("snapshot");
        lifecycle.checkName(name);
        Snapshotting.checkName(snapshot);
        api.accepted(ctx, operations.submit("Deleting snapshot " + snapshot + " of " + name, name, "container-snapshot-deleted", () -> {
            snapshots.delete(name, snapshot);
            return null;
        }));
    }

    void listVolumes(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        api.blocking(ctx, () -> full ? volumes.list() : volumes.list().stream().map(v -> "/1.0/volumes/" + v.name()).toList(), 200);
    }

    void createVolume(RoutingContext ctx) {
        JsonNode body = ApiServer.parse(ctx, JsonNode.class);
        if (!body.hasNonNull("name")) {
            throw ApiServer.badRequest("a volume needs a name", "name");
        }
        api.blocking(ctx, () -> volumes.create(body.get("name").asText()), 201);
    }

    void getVolume(RoutingContext ctx) {
        api.blocking(ctx, () -> volumes.get(ctx.pathParam("name")), 200);
    }

    void deleteVolume(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        api.blocking(ctx, () -> {
            volumes.delete(name);
            return new Models.Deleted(name);
        }, 200);
    }
}
