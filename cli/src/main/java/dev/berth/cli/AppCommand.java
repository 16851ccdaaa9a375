package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.AgentClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth app}: the one application container in each system container. */
@Command(name = "app", subcommands = AppCommand.ImageCommand.class,
        description = "The application (OCI) container inside each system container, and app images.",
        footer = {"%nThe app runs with crun inside its system container, under catatonit (which reaps zombies), "
                + "restarted by the profile's app.restart policy. An upgrade unpacks the new revision beside the "
                + "running one; one that does not get healthy is rolled back by itself. The profile's app.keep "
                + "previous revisions stay for berth app rollback. Volumes are never touched.",
                "%nImages come as files, never from a registry: an OCI image layout (a directory's tar, as skopeo "
                + "or buildah make with oci-archive:) or a docker save archive. A profile names one with app: "
                + "{image: web:2}, or pins it:",
                "app: {image: web:2@sha256:...}.",
                "%nExamples:",
                "  berth app status web1",
                "  berth app logs web1 -f",
                "  berth app exec web1 -- sh",
                "  berth app upgrade web1 --image web:3",
                "  berth app rollback web1"})
final class AppCommand {

    @ParentCommand
    Berth berth;

    /** sha256:0123456789ab... as its first 12 hex digits. */
    static String shortDigest(String digest) {
        String hex = digest.startsWith("sha256:") ? digest.substring(7) : digest;
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
    }

    @Command(name = "status", aliases = "info", description = "Show an app: its image and revision, state, health, restarts, and the revisions kept.")
    int status(@Parameters(paramLabel = "NAME", description = "The system container.") String name,
               @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                       description = "table, json or yaml (default: ${DEFAULT-VALUE}).") Output.Format format) {
        JsonNode app = Berth.checked(berth.client().get("/1.0/containers/" + Berth.encode(name) + "/app"));
        if (format != Output.Format.TABLE) {
            Output.printObject(berth.out(), format, app);
            return 0;
        }
        var out = berth.out();
        out.println("Container:  " + name);
        out.println("Image:      " + app.path("image").asText() + " (revision " + app.path("revision").asInt() + ", "
                + app.path("digest").asText() + ")");
        out.println("State:      " + app.path("status").asText() + (app.hasNonNull("exitCode") ? " (last exit code "
                + app.path("exitCode").asInt() + ")" : "") + (app.hasNonNull("since") ? " since " + app.path("since").asText() : ""));
        out.println("Health:     " + app.path("health").asText() + (app.hasNonNull("healthOutput") && !app.path("health").asText().equals("none")
                ? " (" + app.path("healthOutput").asText() + ")" : ""));
        out.println("Restarts:   " + app.path("restarts").asInt());
        if (app.hasNonNull("pid")) {
            out.println("PID:        " + app.path("pid").asInt() + " (its init, in the system container)");
        }
        if (app.hasNonNull("revisions")) {
            out.println("Revisions:");
            for (JsonNode r : app.path("revisions")) {
                out.println("  " + (r.path("current").asBoolean() ? "* " : "  ") + r.path("revision").asInt() + "  "
                        + r.path("image").asText() + "  " + shortDigest(r.path("digest").asText()) + "  " + r.path("installed").asText());
            }
        }
        out.flush();
        return 0;
    }

    @Command(name = "logs", description = "Print the app's output (standard output and error, and the supervisor's notes).")
    int logs(@Parameters(paramLabel = "NAME", description = "The system container.") String name,
             @Option(names = {"-f", "--follow"}, description = "Keep printing new output until interrupted.") boolean follow,
             @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "100",
                     description = "How many of the last lines (default: ${DEFAULT-VALUE}; all: -n all).") String lines) throws Exception {
        if (!lines.equals("all") && !lines.matches("[0-9]{1,9}")) {
            throw new Berth.UsageError("--lines takes a number or 'all', not '" + lines + "'");
        }
        List<String> command = new java.util.ArrayList<>(List.of("tail", "-n", lines.equals("all") ? "+1" : lines));
        if (follow) {
            command.add("-f");
        }
        command.add(LOG);
        return ExecVerbs.run(berth, name, command, null, null, null, false, false, true, null);
    }

    /** Where the supervisor writes the app's output, inside the system container. */
    static final String LOG = "/var/lib/berth/app/app.log";

    @Command(name = "exec", description = "Run a command inside the app (crun exec): its files, its processes, its user.",
            footer = {"%nExamples:",
                "  berth app exec web1 -- ls /www",
                "  berth app exec -t web1 -- sh"})
    int exec(@Parameters(index = "0", paramLabel = "NAME", description = "The system container.") String name,
             @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments (after --).")
             List<String> command,
             @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE", description = "An environment variable (repeat).") List<String> env,
             @Option(names = "--cwd", paramLabel = "DIR", description = "The working directory (default: the app's).") String cwd,
             @Option(names = "--user", paramLabel = "UID[:GID]", description = "Run as this user (default: the app's).") String user,
             @Option(names = {"-i", "--stdin"}, description = "Send standard input to the command.") boolean stdin,
             @Option(names = {"-t", "--tty"}, description = "Run on a pseudo-terminal (the default when this is a terminal).") boolean tty,
             @Option(names = {"-T", "--no-tty"}, description = "Never a pseudo-terminal.") boolean noTty) throws Exception {
        return ExecVerbs.run(berth, name, command, env, cwd, user, stdin, tty, noTty, null, true);
    }

    @Command(name = "start", description = "Start the app (its system container must be running).")
    int start(@Parameters(paramLabel = "NAME", arity = "1..*") List<String> names,
              @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
                      description = "How long to wait for it to get healthy (default: ${DEFAULT-VALUE}).") int timeout) {
        return change(names, "start", timeout);
    }

    @Command(name = "stop", description = "Stop the app; the system container keeps running, and the app stays stopped until started.")
    int stop(@Parameters(paramLabel = "NAME", arity = "1..*") List<String> names) {
        return change(names, "stop", 60);
    }

    @Command(name = "restart", description = "Stop the app (its stop signal, then SIGKILL after its stop grace) and start it again.")
    int restart(@Parameters(paramLabel = "NAME", arity = "1..*") List<String> names,
                @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
                        description = "How long to wait for it to get healthy (default: ${DEFAULT-VALUE}).") int timeout) {
        return change(names, "restart", timeout);
    }

    private static final Map<String, String> DOING = Map.of("start", "Starting", "stop", "Stopping", "restart", "Restarting");
    private static final Map<String, String> DONE = Map.of("start", "Started", "stop", "Stopped", "restart", "Restarted");

    private int change(List<String> names, String action, int timeout) {
        return berth.forEach(names, name -> berth.operate(DOING.get(action) + " the app in " + name, "PUT",
                "/1.0/containers/" + Berth.encode(name) + "/app/state", Map.of("action", action, "timeout", timeout),
                Duration.ofSeconds(timeout + 60L)), DONE.get(action) + " the app in");
    }

    @Command(name = "upgrade", description = "Run another image: unpacked beside the running revision, switched to, and rolled back by itself if it does not get healthy.",
            footer = {"%nExit status 1 when the new revision failed and the previous one runs again."})
    int upgrade(@Parameters(paramLabel = "NAME", description = "The system container.") String name,
                @Option(names = "--image", required = true, paramLabel = "IMAGE", description = "The app image: name:tag or name@sha256:...") String image,
                @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
                        description = "How long the new revision has to get healthy (default: ${DEFAULT-VALUE}).") int timeout) {
        long start = System.nanoTime();
        JsonNode op = berth.operate("Upgrading the app in " + name + " to " + image, "POST", "/1.0/containers/" + Berth.encode(name)
                + "/app/upgrade", Map.of("image", image, "timeout", timeout), Duration.ofSeconds(timeout * 2L + 120));
        JsonNode m = op.path("metadata");
        berth.summary("Upgraded the app in " + name + " to " + image + " (revision " + m.path("revision").asInt() + ", "
                + m.path("health").asText() + ") in " + Output.elapsed(System.nanoTime() - start));
        return 0;
    }

    @Command(name = "rollback", description = "Switch the app back to the revision before the current one (or --to a kept revision).")
    int rollback(@Parameters(paramLabel = "NAME", description = "The system container.") String name,
                 @Option(names = "--to", paramLabel = "REVISION", description = "The revision to run (see berth app status).") Integer to,
                 @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
                         description = "How long to wait for it to get healthy (default: ${DEFAULT-VALUE}).") int timeout) {
        long start = System.nanoTime();
        Map<String, Object> body = new LinkedHashMap<>();
        if (to != null) {
            body.put("revision", to);
        }
        body.put("timeout", timeout);
        JsonNode op = berth.operate("Rolling back the app in " + name, "POST", "/1.0/containers/" + Berth.encode(name) + "/app/rollback",
                body, Duration.ofSeconds(timeout + 120L));
        JsonNode m = op.path("metadata");
        berth.summary("Rolled back the app in " + name + " to revision " + m.path("revision").asInt() + " (" + m.path("image").asText()
                + ", " + m.path("health").asText() + ") in " + Output.elapsed(System.nanoTime() - start));
        return 0;
    }

    /** {@code berth app image}. */
    @Command(name = "image", description = "Import, list and delete app images (OCI layout or docker save archives).")
    static final class ImageCommand {

        @ParentCommand
        AppCommand app;

        @Command(name = "list", aliases = "ls", description = "List app images.")
        int list(@Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                description = "table, json, yaml or csv (default: ${DEFAULT-VALUE}).") Output.Format format) {
            JsonNode all = Berth.checked(app.berth.client().get("/1.0/app-images?recursion=1"));
            Output.print(app.berth.out(), format, all, List.of(Output.Column.of("REFERENCE", "reference"),
                    new Output.Column("DIGEST", i -> shortDigest(i.path("digest").asText())),
                    new Output.Column("SIZE", i -> Output.size(i.path("size").asLong())), Output.Column.of("LAYERS", "layers"),
                    Output.Column.of("IMPORTED", "imported")), true);
            return 0;
        }

        @Command(name = "import", description = "Import an image archive: an OCI image layout tar, or a docker save archive.",
                footer = {"%nEvery layer's and the config's sha256 is checked against the archive's manifest, and layers "
                + "that would write outside the image's root are refused: the whole image is refused then."})
        int importArchive(@Parameters(paramLabel = "ARCHIVE") Path archive,
                          @Option(names = {"-n", "--name"}, paramLabel = "NAME[:TAG]",
                                  description = "Its name (default: the archive's own; needed when it has none).") String name) {
            if (!Files.isRegularFile(archive)) {
                throw new Berth.UsageError("no such file: " + archive);
            }
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("X-Berth-Filename", archive.getFileName().toString());
            if (name != null) {
                headers.put("X-Berth-Name", name);
            }
            long start = System.nanoTime();
            AgentClient client = app.berth.client();
            AgentClient.Response accepted = client.upload("/1.0/app-images", headers, archive);
            Berth.checked(accepted);
            JsonNode op = client.await(accepted.operation(), Duration.ofMinutes(30));
            if (!"success".equals(op.path("status").asText())) {
                throw new Berth.OperationFailed("import of " + archive + " refused: " + op.path("error").asText(op.path("status").asText()));
            }
            JsonNode image = op.path("metadata");
            app.berth.summary("Imported app image " + image.path("reference").asText() + " " + image.path("digest").asText()
                    + " in " + Output.elapsed(System.nanoTime() - start));
            return 0;
        }

        @Command(name = "delete", aliases = "rm", description = "Delete app images no container's profile names.")
        int delete(@Parameters(paramLabel = "IMAGE", arity = "1..*", description = "name[:tag], a digest or its first 12 digits.")
                   List<String> refs) {
            return app.berth.forEach(refs, ref -> Berth.checked(app.berth.client().call("DELETE", "/1.0/app-images/" + Berth.encode(ref), null)),
                    "Deleted app image");
        }
    }
}
