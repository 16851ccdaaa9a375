package dev.berth.agent.api;

import dev.berth.agent.api.model.Models;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.oci.AppImageStore;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.container.Lifecycle;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Operations;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * {@code /1.0/app-images}: the app containers' OCI images. {@code POST} with an OCI image layout tar
 * or a {@code docker save} archive as the body (Content-Type application/octet-stream; optional
 * {@code X-Berth-Name: name[:tag]}) imports it as an operation; {@code GET} lists or shows one
 * (by name[:tag], digest or digest prefix, URL-encoded); {@code DELETE} removes one no container's
 * profile names.
 */
final class AppImageRoutes {

    private final ApiServer api;
    private final AppImageStore images;
    private final Lifecycle lifecycle;
    private final ContainerSpecs specs;
    private final Operations operations;
    private final AgentLog log;

    /** The app service, made after these routes: asked for when an image is deleted. */
    private final dev.berth.agent.app.AppService apps;

    AppImageRoutes(ApiServer api, AppImageStore images, Lifecycle lifecycle, ContainerSpecs specs, Operations operations, AgentLog log,
                   dev.berth.agent.app.AppService apps) {
        this.apps = apps;
        this.api = api;
        this.images = images;
        this.lifecycle = lifecycle;
        this.specs = specs;
        this.operations = operations;
        this.log = log;
    }

    void list(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        api.blocking(ctx, () -> full ? images.list().stream().map(AppImageRoutes::view).toList()
                : images.list().stream().map(i -> "/1.0/app-images/" + i.digest()).toList(), 200);
    }

    void get(RoutingContext ctx) {
        String ref = ctx.pathParam("ref");
        api.blocking(ctx, () -> view(images.get(ref)), 200);
    }

    void delete(RoutingContext ctx) {
        String ref = ctx.pathParam("ref");
        api.blocking(ctx, () -> {
            AppImageStore.AppImage image = images.get(ref);
            // in use: named by a container's profile, or running in one (an upgrade's revision)
            java.util.Set<String> users = new java.util.TreeSet<>(specs.usingAppImage(written -> names(written, image)));
            for (String name : lifecycle.names()) {
                dev.berth.agent.app.AppMonitor.View view = apps.view(name);
                if (view != null && image.digest().equals(view.digest())) {
                    users.add(name);
                }
            }
            images.delete(image, java.util.List.copyOf(users));
            log.info("Deleted app image " + image.reference() + " " + image.digest());
            return new Models.Deleted(image.digest());
        }, 200);
    }

    /** Whether a profile's {@code app.image} (as written) names {@code image}. */
    private boolean names(String written, AppImageStore.AppImage image) {
        try {
            return images.find(written).map(found -> found.digest().equals(image.digest())).orElse(false);
        } catch (AgentException e) {
            return false;
        }
    }

    /** {@code POST /1.0/app-images}: the archive streams to a file beside the store, then an operation imports it. */
    void upload(RoutingContext ctx) {
        String type = Objects.requireNonNullElse(ctx.request().getHeader("Content-Type"), "");
        if (!ImageRoutes.ARCHIVE_TYPES.contains(type.split(";")[0].strip())) {
            ctx.put(ApiServer.UNREAD_UPLOAD, true); // no body handler before this route: answer, then close
            throw ApiServer.badRequest("send the image archive (an OCI image layout tar or a docker save archive) as the body,"
                    + " with Content-Type: application/octet-stream", null);
        }
        ImageRoutes.receive(ctx, api, operations, images.directory(), () -> {
            String name = ctx.request().getHeader("X-Berth-Name");
            if (name != null && !name.isBlank()) {
                AppImageStore.Reference.parse(name); // a bad name fails now, before the upload
            }
            String source = Objects.requireNonNullElse(ctx.request().getHeader("X-Berth-Filename"), "upload");
            return new ImageRoutes.Upload("Importing app image " + source, file -> {
                AppImageStore.AppImage image = images.importArchive(file, name, source);
                log.info("Imported app image " + image.reference() + " " + image.digest() + " from " + source);
                return view(image);
            });
        });
    }

    static Models.AppImage view(AppImageStore.AppImage image) {
        AppImageStore.Config c = image.config();
        return new Models.AppImage(image.name(), image.tag(), image.reference(), image.digest(), image.size(), image.layers().size(),
                image.imported(), image.source(),
                new Models.AppImageConfig(c.entrypoint(), c.cmd(), c.env(), c.workdir(), c.user(), c.exposedPorts()),
                image.layers().stream().map(AppImageStore.Layer::digest).toList());
    }

}
