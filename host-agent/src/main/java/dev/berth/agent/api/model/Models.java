package dev.berth.agent.api.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The REST API's request and response shapes, shared by the agent, the CLI and the Puppet module. */
public final class Models {

    private Models() {
    }

    /** {@code GET /1.0}. */
    public record ServerInfo(String api, String version, String hostname, String liblxc, String cgroups, String lxcpath,
                             int containers) {
    }

    /** Every error body: the HTTP status, what went wrong and what to do, and the field at fault if any. */
    public record ErrorBody(String type, int status, String error, String field) {
    }

    /**
     * {@code POST /1.0/containers} (with a {@code source}: a copy); an {@code ephemeral} container is deleted (its address released,
     * its volumes kept) when it stops.
     */
    public record ContainerCreate(String name, String image, List<String> profiles, Map<String, Object> config, Boolean ephemeral,
                                  CopySource source) {
    }

    /** What a copy is made from: a container, or one of its snapshots. */
    public record CopySource(String container, String snapshot) {
    }

    /** A container as the API shows it: {@code address} on its bridge, {@code forwards} as "tcp 127.0.0.1:8080 -> 80". */
    /** {@code privileged}: root inside is root on the host (the profile says so); null for a container Berth did not make. */
    public record Container(String name, String status, String image, List<String> profiles, Instant created, Integer pid,
                            String address, List<String> forwards, boolean ephemeral, String app, String drift,
                            Map<String, Object> config, Boolean privileged) {
    }

    /** {@code GET /1.0/containers/{name}/state}: live figures. */
    public record ContainerState(String status, Integer pid, Long memoryUsage, Long memoryLimit, Integer processes,
                                 List<String> addresses, AppState app) {
    }

    /**
     * The app container: the image its profile names, the digest and revision that run, its state as
     * the supervisor reports it (running, restarting, exited, stopped), its health (starting, healthy,
     * unhealthy; none without a check), restarts since the supervisor started, the last exit code,
     * since when it runs, and the last health check's words. Null without an app.
     */
    public record AppState(String image, String digest, int revision, String status, String health, int restarts, Integer exitCode,
                           java.time.Instant since, String healthOutput, String summary) {
    }

    /** {@code PUT /1.0/containers/{name}/state}: start, stop, restart, freeze or unfreeze. */
    public record StateChange(String action, Boolean force, Integer timeout) {
    }

    /** A profile as the API shows it: its YAML as written, and what uses it. */
    public record Profile(String name, String description, String content, List<String> usedBy, List<String> extendedBy) {
    }

    /**
     * {@code POST /1.0/containers/{name}/exec}: run a command inside, as {@code user}/{@code group}
     * (ids inside the container, root by default) in {@code cwd}, with {@code environment}, killed
     * after {@code timeout} seconds if given. By default the output is collected into the operation's
     * metadata (exit code, and up to 1 MiB of each stream; {@code truncated} says if more was
     * dropped), with {@code stdin} as its input. With {@code stream} or {@code interactive} (a
     * pseudo-terminal of {@code width} x {@code height}) the operation names a WebSocket that carries
     * the streams both ways instead.
     */
    public record ExecRequest(List<String> command, Map<String, String> environment, String cwd, Integer user, Integer group,
                              String stdin, Integer timeout, Boolean stream, Boolean interactive, Integer width, Integer height,
                              Boolean app) {
    }

    /** {@code POST /1.0/profiles} and {@code PUT /1.0/profiles/{name}}: the profile's YAML. */
    public record ProfilePut(String name, String content) {
    }

    /** The answer to a profile change: which containers it affects, and the operations applying it to them. */
    public record ProfileChanged(String name, List<String> affects, List<String> operations) {
    }

    /** {@code PATCH /1.0/containers/{name}}: the container's own overrides, replacing the previous ones. */
    public record ContainerPatch(Map<String, Object> config) {
    }

    /**
     * {@code POST /1.0/images} with a JSON body: build an image. {@code source.type} is
     * {@code debootstrap} (with {@code recipe}) or {@code busybox}.
     */
    public record ImageCreate(ImageSource source, List<String> aliases) {
    }

    /** Where an image comes from. */
    public record ImageSource(String type, Recipe recipe) {
    }

    /** A debootstrap recipe; null fields take the defaults (bookworm, minbase, the default packages, deb.debian.org). */
    public record Recipe(String suite, String variant, List<String> packages, String mirror) {
    }

    /** An image as the API shows it. */
    public record Image(String fingerprint, List<String> aliases, long size, Instant created, Map<String, Object> recipe,
                        int packages, List<String> usedBy) {
    }

    /** {@code POST /1.0/images/aliases}: point an alias at an image. */
    public record ImageAlias(String name, String target) {
    }

    /**
     * An operation: {@code pending} (waiting for its container), {@code running}, {@code success},
     * {@code failure} or {@code cancelled}; {@code metadata} holds its progress and, once it has
     * succeeded, what it produced.
     */
    public record Operation(String id, String description, String status, Instant created, Instant finished,
                            String error, Map<String, List<String>> resources, Map<String, Object> metadata,
                            boolean mayCancel) {
    }

    /** The body of a 202: where to follow the operation. */
    public record Accepted(String type, int status, String operation, Operation metadata) {
    }

    /** The result of an operation that changed a container's config: what took effect live, what waits for a restart. */
    public record Reapplied(List<String> appliedLive, List<String> pending) {
    }

    /** The result of a snapshot restore. */
    public record Restored(String restored) {
    }

    /** The answer to a file push: the path written, file or directory, and a directory's entries. */
    public record Pushed(String path, String type, Integer entries) {
    }

    /** The result of a delete: what is gone (a digest, fingerprint or name). */
    public record Deleted(String deleted) {
    }

    /** An app image in the agent's store. */
    public record AppImage(String name, String tag, String reference, String digest, long size, int layers, Instant imported,
                           String source, AppImageConfig config, List<String> layerDigests) {
    }

    /** An app image's run-time defaults, from its OCI config. */
    public record AppImageConfig(List<String> entrypoint, List<String> cmd, List<String> env, String workdir, String user,
                                 List<String> exposedPorts) {
    }

    /** {@code GET .../app}: the app's state, with crun's pid for it and the revisions unpacked while the container runs. */
    public record AppDetail(String image, String digest, int revision, String status, String health, int restarts, Integer exitCode,
                            Instant since, String healthOutput, String summary, Integer pid, List<AppRevision> revisions) {
    }

    /** One unpacked revision of an app. */
    public record AppRevision(int revision, String image, String digest, Instant installed, boolean current) {
    }

    /** What an app operation did: the revision running after it, and a note (a rollback's reason). */
    public record AppOutcome(String container, int revision, String image, String digest, String health, String note) {
    }

    /** An image build or import: the image, and whether a cached one with the same recipe was used. */
    public record ImageBuilt(String fingerprint, List<String> aliases, long size, boolean cached) {
    }

    /** A collected command's result: its exit code and up to 1 MiB of each stream. */
    public record ExecOutput(int exitCode, String stdout, String stderr, boolean truncated, boolean timedOut) {
    }

    /** A streamed command's result. */
    public record ExecExit(int exitCode, boolean timedOut, boolean clientDisconnected) {
    }

    /** The last message on a streamed command's WebSocket. */
    public record ExitMessage(String type, int exitCode, boolean timedOut) {
    }
}
