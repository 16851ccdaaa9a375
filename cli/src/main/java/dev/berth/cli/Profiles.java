package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.AgentClient;
import dev.berth.cli.client.AgentClient.AgentException;
import dev.berth.profile.Composer;
import dev.berth.profile.ProfileDocument;
import dev.berth.profile.ProfileException;
import dev.berth.profile.Problem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth profile}: the agent's YAML profiles. */
@Command(name = "profile", description = "Manage profiles: what containers are made of.",
        footer = {"%nExamples:",
                "  berth profile validate examples/profiles/*.yaml",
                "  berth profile apply -f web.yaml",
                "  EDITOR=nano berth profile edit web"})
final class Profiles {

    @ParentCommand
    Berth berth;

    @Command(name = "list", aliases = "ls", description = "List profiles with what uses them.")
    int list(@Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json, yaml or csv (default: ${DEFAULT-VALUE}).") Output.Format format,
             @Option(names = "--no-header", description = "Leave out the header line.") boolean noHeader) {
        JsonNode all = Berth.checked(berth.client().get("/1.0/profiles?recursion=1"));
        List<Output.Column> columns = List.of(Output.Column.of("NAME", "name"), Output.Column.of("DESCRIPTION", "description"),
                Output.Column.of("USED BY", "usedBy"), Output.Column.of("EXTENDED BY", "extendedBy"));
        Output.print(berth.out(), format, withoutContent(all), columns, !noHeader);
        return 0;
    }

    private static JsonNode withoutContent(JsonNode profiles) {
        var copy = Output.array();
        for (JsonNode profile : profiles) {
            copy.add(((com.fasterxml.jackson.databind.node.ObjectNode) profile.deepCopy()).without("content"));
        }
        return copy;
    }

    @Command(name = "show", description = "Print a profile's YAML as it was written (comments included).")
    int show(@Parameters(paramLabel = "NAME") String name,
             @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                     description = "table (the YAML itself), json or yaml (the agent's object).") Output.Format format) {
        JsonNode profile = Berth.checked(berth.client().get("/1.0/profiles/" + Berth.encode(name)));
        if (format == Output.Format.TABLE) {
            berth.out().print(profile.path("content").asText());
            berth.out().flush();
        } else {
            Output.printObject(berth.out(), format, profile);
        }
        return 0;
    }

    @Command(name = "create", description = "Create a profile, empty or from a file.")
    int create(@Parameters(paramLabel = "NAME") String name,
               @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "The profile's YAML (its name: must be NAME).") Path file)
            throws IOException {
        String content = file == null ? "name: " + name + "\n" : Files.readString(file);
        JsonNode created = Berth.checked(berth.client().call("POST", "/1.0/profiles", Map.of("name", name, "content", content)));
        berth.summary("Created profile " + created.path("name").asText(name));
        return 0;
    }

    @Command(name = "apply", description = "Create or replace profiles from files; running containers get changed limits at once.")
    int apply(@Option(names = {"-f", "--file"}, required = true, arity = "1..*", paramLabel = "FILE",
            description = "Profile files (repeat, or several after -f).") List<Path> files) throws IOException {
        int result = 0;
        for (Path file : files) {
            String content = Files.readString(file);
            ProfileDocument document;
            try {
                document = ProfileDocument.parse(file.toString(), content);
            } catch (ProfileException e) {
                printProblems(e);
                result = Berth.USAGE;
                continue;
            }
            save(document.name(), content, true);
        }
        return result;
    }

    /** Creates or replaces {@code name}; returns the agent's answer. */
    private JsonNode save(String name, String content, boolean createIfMissing) {
        AgentClient client = berth.client();
        AgentClient.Response response = client.call("PUT", "/1.0/profiles/" + Berth.encode(name), Map.of("name", name, "content", content));
        if (response.status() == 404 && createIfMissing) {
            JsonNode created = Berth.checked(client.call("POST", "/1.0/profiles", Map.of("name", name, "content", content)));
            berth.summary("Created profile " + name);
            return created;
        }
        JsonNode changed = Berth.checked(response);
        List<String> affects = new ArrayList<>();
        changed.path("affects").forEach(a -> affects.add(a.asText()));
        for (JsonNode operation : changed.path("operations")) {
            JsonNode op = client.await(operation.asText(), Duration.ofMinutes(2));
            if (!"success".equals(op.path("status").asText())) {
                berth.err().println("warning: applying " + name + " to " + op.path("resources").path("containers").path(0).asText()
                        + " failed: " + op.path("error").asText());
                berth.err().flush();
            }
        }
        berth.summary("Updated profile " + name + (affects.isEmpty() ? "" : "; applied to " + String.join(", ", affects)));
        return changed;
    }

    /** The marker lines around the error note that {@code edit} puts at the top of the file. */
    static final String NOTE_START = "# ---- berth: this profile was NOT saved ----";
    static final String NOTE_END = "# ---- fix it and save, or quit without saving to give up ----";

    @Command(name = "edit", description = "Edit a profile in $VISUAL or $EDITOR (default vi); an invalid edit re-opens the editor with the error.")
    int edit(@Parameters(paramLabel = "NAME") String name) throws IOException, InterruptedException {
        String original = Berth.checked(berth.client().get("/1.0/profiles/" + Berth.encode(name))).path("content").asText();
        Path file = Files.createTempFile("berth-profile-" + name + "-", ".yaml");
        try {
            String shown = original;
            while (true) {
                Files.writeString(file, shown);
                runEditor(file);
                String edited = Files.readString(file);
                if (edited.equals(shown)) {
                    if (shown.equals(original)) {
                        berth.summary("Profile " + name + " unchanged");
                        return 0;
                    }
                    Path kept = Files.createTempFile("berth-profile-" + name + "-rejected-", ".yaml");
                    Files.writeString(kept, stripNote(edited));
                    berth.err().println("error: edit abandoned; profile " + name + " is unchanged. Your version is in " + kept);
                    berth.err().flush();
                    return Berth.USAGE;
                }
                String content = stripNote(edited);
                if (content.equals(original)) {
                    berth.summary("Profile " + name + " unchanged");
                    return 0;
                }
                List<String> problems = new ArrayList<>();
                try {
                    ProfileDocument document = ProfileDocument.parse(name + ".yaml", content);
                    if (!document.name().equals(name)) {
                        problems.add("name: the file says '" + document.name() + "' but this is profile '" + name
                                + "'; to make a copy, save it to a file and use berth profile create");
                    }
                } catch (ProfileException e) {
                    e.problems().forEach(p -> problems.add(p.toString()));
                }
                if (problems.isEmpty()) {
                    try {
                        save(name, content, false);
                        return 0;
                    } catch (AgentException e) {
                        if (e.status() != 400 && e.status() != 409) {
                            throw e;
                        }
                        problems.add(Berth.message(e));
                    }
                }
                problems.forEach(p -> berth.err().println("error: " + p));
                berth.err().flush();
                StringBuilder note = new StringBuilder(NOTE_START).append('\n');
                for (String problem : problems) {
                    for (String line : problem.split("\n")) {
                        note.append("# ").append(line).append('\n');
                    }
                }
                note.append(NOTE_END).append('\n');
                shown = note + content;
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    static String stripNote(String text) {
        if (!text.startsWith(NOTE_START)) {
            return text;
        }
        int end = text.indexOf(NOTE_END);
        return end < 0 ? text : text.substring(text.indexOf('\n', end) + 1);
    }

    private void runEditor(Path file) throws IOException, InterruptedException {
        String editor = System.getenv("VISUAL");
        if (editor == null || editor.isBlank()) {
            editor = System.getenv("EDITOR");
        }
        if (editor == null || editor.isBlank()) {
            editor = "vi";
        }
        // As git does: the editor variable is a shell command line, the file its last argument.
        Process process = new ProcessBuilder("sh", "-c", editor + " \"$@\"", editor, file.toString()).inheritIO().start();
        int code = process.waitFor();
        if (code != 0) {
            throw new IllegalStateException("the editor (" + editor + ") exited with " + code + "; profile not changed");
        }
    }

    @Command(name = "delete", aliases = "rm", description = "Delete profiles that no container uses and no profile extends.")
    int delete(@Parameters(paramLabel = "NAME", arity = "1..*") List<String> names) {
        return berth.forEach(names, name -> Berth.checked(berth.client().call("DELETE", "/1.0/profiles/" + Berth.encode(name), null)),
                "Deleted profile");
    }

    @Command(name = "validate", description = "Check profile files offline (no agent needed): syntax, fields, values and composition.",
            footer = {"%nErrors are printed as file:line:column: field: problem (hint). Parents named in extends are "
                + "looked up among the files given; one not given is reported as a note (the agent checks it on "
                + "apply)."})
    int validate(@Parameters(paramLabel = "FILE", arity = "1..*") List<Path> files) {
        Map<String, ProfileDocument> documents = new LinkedHashMap<>();
        Map<String, Path> sources = new LinkedHashMap<>();
        int bad = 0;
        for (Path file : files) {
            try {
                ProfileDocument document = ProfileDocument.load(file);
                documents.put(document.name(), document);
                sources.put(document.name(), file);
            } catch (ProfileException e) {
                printProblems(e);
                bad++;
            } catch (java.io.UncheckedIOException e) {
                berth.err().println(file + ": cannot read: " + e.getCause().getMessage());
                bad++;
            }
        }
        Composer composer = new Composer(documents);
        for (var entry : documents.entrySet()) {
            List<String> missing = entry.getValue().parents().stream().filter(p -> !documents.containsKey(p)).toList();
            if (!missing.isEmpty()) {
                berth.err().println(sources.get(entry.getKey()) + ": note: extends " + missing
                        + ", not among the files given; composition not checked");
                continue;
            }
            try {
                composer.profile(entry.getKey());
                berth.summary("OK " + sources.get(entry.getKey()) + " (profile " + entry.getKey() + ")");
            } catch (ProfileException e) {
                // A profile that sets no image is a fragment: fine, as long as a launch composes it with one.
                List<Problem> real = e.problems().stream()
                        .filter(p -> !(p.path().equals("image") && p.message().startsWith("no profile in the chain"))).toList();
                if (real.isEmpty()) {
                    berth.summary("OK " + sources.get(entry.getKey()) + " (profile " + entry.getKey()
                            + "; sets no image, so launch it with one that does, or with --image)");
                } else {
                    printProblems(new ProfileException(real));
                    bad++;
                }
            }
        }
        berth.err().flush();
        berth.out().flush();
        if (bad > 0) {
            berth.err().println(bad + " of " + files.size() + " file" + (files.size() == 1 ? "" : "s") + " invalid");
            berth.err().flush();
            return Berth.USAGE;
        }
        return 0;
    }

    private void printProblems(ProfileException e) {
        for (Problem problem : e.problems()) {
            berth.err().println(problem);
        }
        berth.err().flush();
    }
}
