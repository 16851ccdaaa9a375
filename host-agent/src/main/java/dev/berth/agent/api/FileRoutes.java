package dev.berth.agent.api;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.files.Tar;
import dev.berth.agent.api.model.Models;
import dev.berth.agent.container.ContainerFiles;
import dev.berth.agent.ops.AgentLog;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * {@code /1.0/containers/{name}/files?path=P}: pull ({@code GET}) and push ({@code POST}) a file, or
 * a directory as a tar stream, in a running container. Headers carry the metadata both ways:
 * {@code X-Berth-Type} ({@code file} or {@code directory}), {@code X-Berth-Mode} (octal),
 * {@code X-Berth-Uid}, {@code X-Berth-Gid} (ids inside the container). Every path is resolved inside
 * the container's root ({@link ContainerRoot}): one that leaves it through {@code ..} or a symlink
 * is a 403. Contents stream; nothing is held whole in memory.
 */
final class FileRoutes {

    private final Vertx vertx;
    private final ContainerFiles files;
    private final AgentLog log;

    FileRoutes(Vertx vertx, ContainerFiles files, AgentLog log) {
        this.vertx = vertx;
        this.files = files;
        this.log = log;
    }

    void pull(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        String path = ctx.queryParams().get("path");
        vertx.executeBlocking(() -> {
            try {
                files.pull(name, path, stat -> {
                    HttpServerResponse response = ctx.response();
                    response.putHeader("X-Berth-Mode", String.format("%04o", stat.mode()))
                            .putHeader("X-Berth-Uid", Integer.toString(stat.uid()))
                            .putHeader("X-Berth-Gid", Integer.toString(stat.gid()));
                    if (stat.type() == Tar.Type.DIRECTORY) {
                        response.putHeader("X-Berth-Type", "directory").putHeader("Content-Type", "application/x-tar");
                    } else {
                        response.putHeader("X-Berth-Type", "file").putHeader("Content-Type", "application/octet-stream");
                    }
                    return BlockingStreams.output(response);
                });
                return null;
            } catch (RuntimeException e) {
                if (ctx.response().headWritten()) {
                    log.warn("pull of " + path + " from " + name + " broke off: " + e.getMessage());
                    ctx.response().reset();
                    return null;
                }
                throw e;
            }
        }, false).onFailure(ctx::fail);
    }

    /** Push: the body is streamed, so this runs before the router's body handler. */
    void push(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        String path = ctx.queryParams().get("path");
        ctx.request().pause();
        ctx.put(ApiServer.UNREAD_UPLOAD, true);
        String type = header(ctx, "X-Berth-Type", "file");
        int mode = (int) ApiServer.number(header(ctx, "X-Berth-Mode", type.equals("directory") ? "0755" : "0644"), "X-Berth-Mode", 0, 07777, 8);
        // ids inside the container: what a 32-bit id may be, less -1 (no id)
        int uid = (int) ApiServer.number(header(ctx, "X-Berth-Uid", "0"), "X-Berth-Uid", 0, Integer.MAX_VALUE, 10);
        int gid = (int) ApiServer.number(header(ctx, "X-Berth-Gid", "0"), "X-Berth-Gid", 0, Integer.MAX_VALUE, 10);
        if (!type.equals("file") && !type.equals("directory")) {
            throw ApiServer.badRequest("X-Berth-Type must be file or directory (a tar stream), not " + type, "X-Berth-Type");
        }
        InputStream body = BlockingStreams.input(ctx.request());
        vertx.executeBlocking(() -> {
            try (body) {
                ContainerFiles.Pushed pushed = files.push(name, path, type.equals("directory") ? Tar.Type.DIRECTORY : Tar.Type.FILE,
                        body, mode, uid, gid);
                return new Models.Pushed(pushed.path(), type, pushed.entries());
            } finally {
                // A refused push still reads what the client sends, so that it gets the answer rather than a reset.
                body.transferTo(OutputStream.nullOutputStream());
            }
        }, false).onSuccess(result -> ApiServer.respond(ctx, 200, result)).onFailure(ctx::fail);
    }

    private static String header(RoutingContext ctx, String header, String fallback) {
        String value = ctx.request().getHeader(header);
        if (value == null) {
            return fallback;
        }
        if (!header.equals("X-Berth-Type") && !value.matches("[0-9]{1,10}")) {
            throw ApiServer.badRequest(header + " must be a number, not " + value, header);
        }
        return value;
    }
}
