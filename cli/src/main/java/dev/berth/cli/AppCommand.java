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
        description = "The application (OCI) containers inside system containers, and their images.",
        footer = {"%nImages come as files, never from a registry: an OCI image layout (a directory's tar, as",
                "skopeo copy ... oci-archive: or buildah push ... oci-archive: make) or a docker save archive.",
                "A profile names one with app: {image: web:2}, or pins it: app: {image: web:2@sha256:...}."})
final class AppCommand {

    @ParentCommand
    Berth berth;

    /** sha256:0123456789ab... as its first 12 hex digits. */
    static String shortDigest(String digest) {
        String hex = digest.startsWith("sha256:") ? digest.substring(7) : digest;
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
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
                footer = {"%nEvery layer's and the config's sha256 is checked against the archive's manifest, and layers",
                        "that would write outside the image's root are refused: the whole image is refused then."})
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
