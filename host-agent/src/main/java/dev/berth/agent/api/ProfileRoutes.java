package dev.berth.agent.api;

import dev.berth.agent.api.model.Models;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.container.Reconfigure;
import dev.berth.agent.error.AgentException;
import dev.berth.agent.ops.Operations;
import dev.berth.agent.profile.ProfileRegistry;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * {@code /1.0/profiles}: list, get, create, replace, delete. A replaced profile is applied to every
 * container that uses it (or a profile extending it), each in an operation of its own; a profile in
 * use cannot be deleted.
 */
final class ProfileRoutes {

    private final ApiServer api;
    private final ProfileRegistry profiles;
    private final ContainerSpecs specs;
    private final Reconfigure reconfigure;
    private final Operations operations;

    ProfileRoutes(ApiServer api, ApiServer.Services services) {
        this.api = api;
        this.profiles = services.profiles();
        this.specs = services.specs();
        this.reconfigure = services.reconfigure();
        this.operations = services.operations();
    }

    void list(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        api.blocking(ctx, () -> full ? profiles.names().stream().map(this::view).toList()
                : profiles.names().stream().map(n -> "/1.0/profiles/" + n).toList(), 200);
    }
    void get(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        api.blocking(ctx, () -> view(name), 200);
    }
    void create(RoutingContext ctx) {
        Models.ProfilePut put = ApiServer.parse(ctx, Models.ProfilePut.class);
        if (put.name() == null || put.content() == null) {
            throw ApiServer.badRequest("a profile needs a name and its YAML content", put.name() == null ? "name" : "content");
        }
        api.blocking(ctx, () -> {
            if (profiles.names().contains(put.name())) {
                throw new AgentException.Conflict("profile \"" + put.name() + "\" already exists; PUT /1.0/profiles/" + put.name() + " replaces it");
            }
            profiles.put(put.name(), put.content());
            return new Models.ProfileChanged(put.name(), List.of(), List.of());
        }, 201);
    }
    void put(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        Models.ProfilePut put = ApiServer.parse(ctx, Models.ProfilePut.class);
        if (put.content() == null) {
            throw ApiServer.badRequest("the profile's YAML content is required", "content");
        }
        api.blocking(ctx, () -> {
            profiles.get(name);
            profiles.put(name, put.content());
            // Each container using it, or a profile extending it, gets the changed limits live, in an
            // operation of its own (serialised with its others).
            List<String> users = specs.usedByAny(profiles.withDescendants(name));
            List<String> updates = users.stream().map(user -> "/1.0/operations/" + operations.submit(
                    "Applying profile " + name + " to " + user, user, "container-updated", () -> {
                        return Views.reapplied(reconfigure.reapply(user));
                    }).id()).toList();
            return new Models.ProfileChanged(name, users, updates);
        }, 200);
    }
    void delete(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        api.blocking(ctx, () -> {
            List<String> users = specs.usedBy(name);
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
    private Models.Profile view(String name) {
        var document = profiles.get(name);
        var description = document.root().get("description");
        return new Models.Profile(name,
                description instanceof dev.berth.profile.Node.ScalarNode s ? s.text() : null,
                profiles.content(name), specs.usedBy(name), profiles.extending(name));
    }
}
