package dev.berth.agent.api;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.api.model.Models;
import dev.berth.agent.image.DebianRecipe;
import dev.berth.agent.image.Image;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Operations;
import io.vertx.core.file.OpenOptions;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code /1.0/images}: list, get, build (debootstrap recipe, busybox), import (a rootfs archive
 * streamed as the request body), delete, and aliases. Builds and imports are operations; a build
 * reports its progress (debootstrap's stage and package count) in the operation and as events.
 */
final class ImageRoutes {

    /** The content types of an archive upload; any other request body is JSON. */
    static final java.util.Set<String> ARCHIVE_TYPES = java.util.Set.of("application/octet-stream", "application/x-tar",
            "application/gzip", "application/x-xz");

    /** The largest archive the agent takes in one upload: 16 GiB, or the system property {@code berth.upload.max} (bytes). */
    static long maxUpload() {
        return Long.getLong("berth.upload.max", 16L << 30);
    }

    private final ApiServer api;
    private final ImageStore images;
    private final ContainerSpecs specs;
    private final Operations operations;
    private final AgentLog log;

    ImageRoutes(ApiServer api, ImageStore images, ContainerSpecs specs, Operations operations, AgentLog log) {
        this.api = api;
        this.images = images;
        this.specs = specs;
        this.operations = operations;
        this.log = log;
    }

    void list(RoutingContext ctx) {
        boolean full = "1".equals(ctx.queryParams().get("recursion"));
        api.blocking(ctx, () -> full ? images.list().stream().map(this::view).toList()
                : images.list().stream().map(i -> "/1.0/images/" + i.fingerprint()).toList(), 200);
    }

    void get(RoutingContext ctx) {
        String ref = ctx.pathParam("fingerprint");
        api.blocking(ctx, () -> view(images.get(ref)), 200);
    }

    /** {@code POST /1.0/images} with JSON: build from a recipe, or make the busybox image. */
    void create(RoutingContext ctx) {
        Models.ImageCreate request = ApiServer.parse(ctx, Models.ImageCreate.class);
        if (request.source() == null || request.source().type() == null) {
            throw ApiServer.badRequest("source.type is required: debootstrap (with a recipe) or busybox; to import an"
                    + " archive, send it as the body with Content-Type: application/octet-stream", "source.type");
        }
        List<String> aliases = request.aliases() == null ? List.of() : request.aliases();
        ImageStore.checkAliases(aliases);
        switch (request.source().type()) {
            case "debootstrap" -> {
                Models.Recipe r = request.source().recipe() == null ? new Models.Recipe(null, null, null, null) : request.source().recipe();
                DebianRecipe recipe = new DebianRecipe(r.suite(), r.variant(), r.packages(), r.mirror());
                api.accepted(ctx, operations.submit(new Operations.Work("Building image " + recipe.suite() + " " + aliases, null,
                        null, true, () -> {
                    boolean cached = images.findByRecipe(recipe.asMap()).isPresent();
                    Image image = images.build(recipe, aliases, this::progress);
                    return result(image, cached);
                })));
            }
            case "busybox" -> api.accepted(ctx, operations.submit(new Operations.Work("Preparing the busybox image", null, null,
                    false, () -> result(images.addAliases(images.busybox(), aliases), false))));
            default -> throw ApiServer.badRequest("source.type must be debootstrap or busybox, not \""
                    + request.source().type() + "\"", "source.type");
        }
    }

    /**
     * {@code POST /1.0/images} with a rootfs archive as the body ({@code .tar}, {@code .tar.gz},
     * {@code .tar.xz}) and Content-Type {@code application/octet-stream} (or a tar, gzip or xz type);
     * aliases in {@code X-Berth-Aliases: a,b}. The body streams to a file beside the store (never
     * held in memory), then an operation imports it. Other requests pass on to {@link #create}.
     */
    void upload(RoutingContext ctx) {
        String type = Objects.requireNonNullElse(ctx.request().getHeader("Content-Type"), "");
        if (!ARCHIVE_TYPES.contains(type.split(";")[0].strip())) {
            ctx.next();
            return;
        }
        receive(ctx, api, operations, images.directory(), () -> {
            List<String> aliases = Arrays.stream(Objects.requireNonNullElse(ctx.request().getHeader("X-Berth-Aliases"), "").split(","))
                    .map(String::strip).filter(a -> !a.isEmpty()).toList();
            ImageStore.checkAliases(aliases);
            String source = Objects.requireNonNullElse(ctx.request().getHeader("X-Berth-Filename"), "upload");
            return new Upload("Importing image " + source + " " + aliases, file -> result(images.importArchive(file, source, aliases), false));
        });
    }

    /** What an archive upload becomes: its operation's description, and the work on the received file. */
    record Upload(String description, Importer importer) {
    }

    /** Imports a received archive file (deleted afterwards either way). */
    interface Importer {
        Object importFile(Path file) throws Exception;
    }

    /**
     * Receives an archive as the request body: checks the request first ({@code check}, with the body
     * paused and unread), streams the body to a new file in {@code dir} (never into memory), then
     * answers 202 with an operation that imports it; the file is deleted afterwards, and on any failure.
     */
    static void receive(RoutingContext ctx, ApiServer api, Operations operations, Path dir,
                        java.util.function.Supplier<Upload> check) {
        ctx.request().pause(); // until the file is open to take the body
        ctx.put(ApiServer.UNREAD_UPLOAD, true);
        String length = ctx.request().getHeader("Content-Length");
        if (length != null && ApiServer.number(length, "Content-Length", 0, Long.MAX_VALUE, 10) > maxUpload()) {
            throw new AgentException.TooLarge("the archive is larger than " + sizeOf(maxUpload()));
        }
        Upload upload = check.get();
        Path file = dev.berth.agent.store.Scratch.name(dir, "upload");
        ctx.vertx().fileSystem().mkdirs(dir.toString())
                .compose(v -> ctx.vertx().fileSystem().open(file.toString(), new OpenOptions().setCreateNew(true).setWrite(true)))
                .compose(open -> receiveAtMost(ctx, open, maxUpload()).map(v -> open))
                .onSuccess(v -> api.accepted(ctx, operations.submit(new Operations.Work(upload.description(), null, null, false, () -> {
                    try {
                        if (Files.size(file) == 0) {
                            throw ApiServer.badRequest("the request body is empty: send the archive as the body", null);
                        }
                        return upload.importer().importFile(file);
                    } finally {
                        Files.deleteIfExists(file);
                    }
                }))))
                .onFailure(t -> {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException e) {
                        t.addSuppressed(e);
                    }
                    ctx.fail(t);
                });
    }

    private static String sizeOf(long bytes) {
        return bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? (bytes >> 30) + " GiB" : bytes + " bytes";
    }

    /**
     * Streams the request body into {@code file}, counting as it goes: a body larger than {@code max}
     * (a missing or false Content-Length) fails with 413 as soon as it passes the limit, not once it
     * is on disk. Back-pressure as a pipe has it: the request pauses while the file's queue is full.
     */
    private static io.vertx.core.Future<Void> receiveAtMost(RoutingContext ctx, io.vertx.core.file.AsyncFile file, long max) {
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        io.vertx.core.http.HttpServerRequest request = ctx.request();
        long[] received = {0};
        file.drainHandler(v -> request.resume());
        request.handler(chunk -> {
            received[0] += chunk.length();
            if (received[0] > max) {
                request.handler(null);
                file.close();
                done.tryFail(new AgentException.TooLarge("the archive is larger than " + sizeOf(max)));
                return;
            }
            file.write(chunk);
            if (file.writeQueueFull()) {
                request.pause();
            }
        });
        request.exceptionHandler(done::tryFail);
        request.endHandler(v -> file.close().onComplete(done));
        request.resume();
        return done.future();
    }

    void delete(RoutingContext ctx) {
        String ref = ctx.pathParam("fingerprint");
        api.blocking(ctx, () -> {
            Image image = images.get(ref);
            images.delete(image, specs.usingImage(image.fingerprint()));
            log.info("Deleted image " + image.fingerprint().substring(0, 12) + " " + image.aliases());
            return new Models.Deleted(image.fingerprint());
        }, 200);
    }

    void listAliases(RoutingContext ctx) {
        api.blocking(ctx, () -> {
            List<Models.ImageAlias> aliases = new java.util.ArrayList<>();
            for (Image image : images.list()) {
                image.aliases().forEach(a -> aliases.add(new Models.ImageAlias(a, image.fingerprint())));
            }
            aliases.sort(java.util.Comparator.comparing(Models.ImageAlias::name));
            return aliases;
        }, 200);
    }

    void addAlias(RoutingContext ctx) {
        Models.ImageAlias alias = ApiServer.parse(ctx, Models.ImageAlias.class);
        if (alias.name() == null || alias.target() == null) {
            throw ApiServer.badRequest("an alias needs a name and a target (an alias or fingerprint)",
                    alias.name() == null ? "name" : "target");
        }
        api.blocking(ctx, () -> view(images.addAliases(images.get(alias.target()), List.of(alias.name()))), 201);
    }

    void removeAlias(RoutingContext ctx) {
        String alias = ctx.pathParam("alias");
        api.blocking(ctx, () -> view(images.removeAlias(alias)), 200);
    }

    private void progress(Map<String, Object> values) {
        Operations.current().ifPresent(op -> op.progress(values));
        log.debug("image build: " + values.get("line"));
    }

    private Models.Image view(Image image) {
        return new Models.Image(image.fingerprint(), image.aliases(), image.size(), image.created(), image.recipe(),
                image.packages().size(), specs.usingImage(image.fingerprint()));
    }

    private static Models.ImageBuilt result(Image image, boolean cached) {
        return new Models.ImageBuilt(image.fingerprint(), image.aliases(), image.size(), cached);
    }
}
