package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.berth.cli.client.AgentClient;
import dev.berth.cli.client.AgentClient.AgentException;
import java.io.IOException;
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

/** {@code berth image}: the agent's image store. */
@Command(name = "image", subcommands = Images.Aliases.class, description = "Manage images: the root filesystems containers run on.",
        footer = {"%nExamples:",
                "  berth image import rootfs.tar.xz --alias mybase",
                "  berth image build debian.yaml --alias debian12   (debian.yaml: suite, variant, packages, mirror)",
                "  berth image alias add web-base mybase"})
final class Images {

    private static final List<String> RECIPE_FIELDS = List.of("suite", "variant", "packages", "mirror");

    @ParentCommand
    Berth berth;

    @Command(name = "list", aliases = "ls", description = "List images.")
    int list(@Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json, yaml or csv (default: ${DEFAULT-VALUE}).") Output.Format format,
             @Option(names = "--no-header", description = "Leave out the header line.") boolean noHeader) {
        JsonNode all = Berth.checked(berth.client().get("/1.0/images?recursion=1"));
        List<Output.Column> columns = List.of(
                new Output.Column("FINGERPRINT", i -> Berth.shortFingerprint(i.path("fingerprint"))),
                Output.Column.of("ALIASES", "aliases"),
                new Output.Column("SIZE", i -> Output.size(i.path("size").asLong())),
                new Output.Column("SOURCE", i -> describe(i.path("recipe"))),
                Output.Column.of("PACKAGES", "packages"),
                Output.Column.of("USED BY", "usedBy"),
                Output.Column.of("CREATED", "created"));
        Output.print(berth.out(), format, all, format == Output.Format.TABLE ? columns
                : List.of(Output.Column.of("fingerprint", "fingerprint"), Output.Column.of("aliases", "aliases"),
                Output.Column.of("size", "size"), Output.Column.of("created", "created")), !noHeader);
        return 0;
    }

    private static String describe(JsonNode recipe) {
        String kind = recipe.path("kind").asText("");
        return switch (kind) {
            case "debootstrap" -> "debootstrap " + recipe.path("suite").asText() + "/" + recipe.path("variant").asText();
            case "" -> "-";
            default -> kind + (recipe.has("source") ? " " + recipe.path("source").asText() : "");
        };
    }

    @Command(name = "import", description = "Import a root filesystem archive (.tar, .tar.gz, .tar.xz; LXD's metadata.yaml + rootfs/ layout too).")
    int importArchive(@Parameters(paramLabel = "ARCHIVE") Path archive,
                      @Option(names = {"-a", "--alias"}, paramLabel = "ALIAS", description = "An alias for the image (repeat).") List<String> aliases) {
        if (!Files.isRegularFile(archive)) {
            throw new Berth.UsageError("no such file: " + archive);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Berth-Filename", archive.getFileName().toString());
        if (aliases != null && !aliases.isEmpty()) {
            headers.put("X-Berth-Aliases", String.join(",", aliases));
        }
        long start = System.nanoTime();
        AgentClient client = berth.client();
        AgentClient.Response accepted = client.upload("/1.0/images", headers, archive);
        Berth.checked(accepted);
        JsonNode op = client.await(accepted.operation(), Duration.ofMinutes(30));
        if (!"success".equals(op.path("status").asText())) {
            throw new Berth.OperationFailed("import of " + archive + " failed: " + op.path("error").asText(op.path("status").asText()));
        }
        berth.summary("Imported image " + Berth.shortFingerprint(op.path("metadata").path("fingerprint")) + " "
                + Output.text(op.path("metadata").path("aliases")) + " in " + Output.elapsed(System.nanoTime() - start));
        return 0;
    }

    @Command(name = "build", description = "Build a Debian image with debootstrap from a recipe file, or the busybox image.",
            footer = {"%nA recipe is YAML with suite (default bookworm), variant (default minbase), packages (default "
                + "systemd-sysv iproute2 puppet crun catatonit) and mirror. The same recipe gives the same image: "
                + "if the store has it, it is reused. Use 'busybox' instead of a file for the tiny test image."})
    int build(@Parameters(paramLabel = "RECIPE", description = "A recipe file, or busybox.") String recipe,
              @Option(names = {"-a", "--alias"}, paramLabel = "ALIAS", description = "An alias for the image (repeat).") List<String> aliases)
            throws IOException {
        Map<String, Object> source = new LinkedHashMap<>();
        if (recipe.equals("busybox")) {
            source.put("type", "busybox");
        } else {
            Path file = Path.of(recipe);
            if (!Files.isRegularFile(file)) {
                throw new Berth.UsageError("no such recipe file: " + recipe
                        + " (or say busybox for the busybox image)");
            }
            JsonNode fields = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
            if (fields == null || !fields.isObject()) {
                throw new AgentException(file + ": a recipe is a mapping with " + String.join(", ", RECIPE_FIELDS), 400);
            }
            fields.fieldNames().forEachRemaining(name -> {
                if (!RECIPE_FIELDS.contains(name)) {
                    throw new AgentException(file + ": unknown recipe field '" + name + "'; the fields are "
                            + String.join(", ", RECIPE_FIELDS), 400);
                }
            });
            source.put("type", "debootstrap");
            source.put("recipe", fields);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("source", source);
        body.put("aliases", aliases == null ? List.of() : aliases);
        long start = System.nanoTime();
        JsonNode op = berth.operate("Building image " + recipe, "POST", "/1.0/images", body, Duration.ofHours(1));
        JsonNode image = op.path("metadata");
        berth.summary("Built image " + Berth.shortFingerprint(image.path("fingerprint")) + " " + Output.text(image.path("aliases"))
                + (image.path("cached").asBoolean() ? " (reused: the store had this recipe)" : "")
                + " in " + Output.elapsed(System.nanoTime() - start));
        return 0;
    }

    @Command(name = "delete", aliases = "rm", description = "Delete images no container uses.")
    int delete(@Parameters(paramLabel = "IMAGE", arity = "1..*", description = "Aliases or fingerprints.") List<String> refs) {
        return berth.forEach(refs, ref -> Berth.checked(berth.client().call("DELETE", "/1.0/images/" + Berth.encode(ref), null)),
                "Deleted image");
    }

    /** {@code berth image alias}: names for images. */
    @Command(name = "alias", description = "Manage image aliases (an alias moves like a tag).")
    static final class Aliases {

        @ParentCommand
        Images images;

        @Command(name = "list", aliases = "ls", description = "List aliases and the images they name.")
        int list(@Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                description = "table, json, yaml or csv.") Output.Format format) {
            JsonNode all = Berth.checked(images.berth.client().get("/1.0/images/aliases"));
            Output.print(images.berth.out(), format, all, List.of(Output.Column.of("ALIAS", "name"),
                    new Output.Column("FINGERPRINT", a -> format == Output.Format.TABLE ? Berth.shortFingerprint(a.path("target"))
                            : a.path("target").asText())), true);
            return 0;
        }

        @Command(name = "add", description = "Point ALIAS at IMAGE, taking it from any image that had it.")
        int add(@Parameters(index = "0", paramLabel = "ALIAS") String alias,
                @Parameters(index = "1", paramLabel = "IMAGE", description = "An alias or fingerprint.") String target) {
            JsonNode image = Berth.checked(images.berth.client().call("POST", "/1.0/images/aliases", Map.of("name", alias, "target", target)));
            images.berth.summary("Alias " + alias + " -> " + Berth.shortFingerprint(image.path("fingerprint")));
            return 0;
        }

        @Command(name = "remove", aliases = "rm", description = "Remove an alias (the image stays).")
        int remove(@Parameters(paramLabel = "ALIAS") String alias) {
            Berth.checked(images.berth.client().call("DELETE", "/1.0/images/aliases/" + Berth.encode(alias), null));
            images.berth.summary("Removed alias " + alias);
            return 0;
        }
    }
}
