package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.cli.client.Json;
import java.io.DataInputStream;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What berth's fast start rests on: the command table, the mapper-free JSON, the picocli rewrite. */
class StartupTest {

    @Test
    void commandTableMatchesTheAnnotations() {
        List<String> fromAnnotations = new ArrayList<>();
        for (Object command : Berth.allCommands()) {
            CommandLine model = new CommandLine(command); // from its annotations, or the model it built in code
            fromAnnotations.add(model.getCommandName());
            fromAnnotations.addAll(List.of(model.getCommandSpec().aliases()));
        }
        assertThat(Berth.commandNames()).containsExactlyElementsOf(fromAnnotations);
    }

    @Test
    void aRunBuildsOnlyTheCommandItRuns() {
        assertThat(Berth.commandLine("--socket", "/x", "list").getSubcommands().keySet()).containsExactlyInAnyOrder("list", "ls");
        assertThat(Berth.commandLine("--version").getSubcommands()).isEmpty();
        // help, completion and mistakes see every command (picocli suggests the nearest name)
        assertThat(Berth.commandLine("--help").getSubcommands().keySet()).containsAll(Berth.commandNames());
        assertThat(Berth.commandLine("completion", "bash").getSubcommands().keySet()).containsAll(Berth.commandNames());
        assertThat(Berth.commandLine("lsit").getSubcommands().keySet()).containsAll(Berth.commandNames());
    }

    @Test
    void jsonTreesRoundTripAsJacksonsMapperReadsAndWritesThem() throws Exception {
        String text = """
                {"name":"c1","pid":4294967297,"big":123456789012345678901234567890,"ratio":0.25,"ok":true,"none":null,\
                "list":[1,"two",{"three":[]}],"text":"quote \\" and \\u00e9"}""";
        ObjectMapper mapper = new ObjectMapper();
        JsonNode ours = Json.parse(text);
        assertThat(ours).isEqualTo(mapper.readTree(text));
        assertThat(mapper.readTree(Json.compact(ours))).isEqualTo(mapper.readTree(text));
        assertThat(Json.pretty(ours)).isEqualTo(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(mapper.readTree(text)));
        assertThat(Json.parse("  [ ]  ")).isEqualTo(mapper.readTree("[]"));
        assertThat(Json.parse("\"\\ud83d\\ude00 \\t\\n\\/\"").textValue()).isEqualTo("\ud83d\ude00 \t\n/");
        assertThat(Json.compact(Json.tree("tab\there \"q\" \\ \u0001"))).isEqualTo(mapper.writeValueAsString("tab\there \"q\" \\ \u0001"));
        for (String bad : List.of("{", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "\"\\x\"", "\"\\u12g4\"", "[1] 2", "\"a\u0001\"", "-")) {
            assertThatThrownBy(() -> Json.parse(bad)).as(bad).isInstanceOf(java.io.IOException.class).hasMessageContaining("bad JSON");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", "web1");
        body.put("profiles", List.of("default", "web"));
        body.put("config", Map.of("limits.cpu", 2L, "autostart", true));
        body.put("nothing", null);
        assertThat(mapper.readTree(Json.bytes(body))).isEqualTo(mapper.readTree(mapper.writeValueAsBytes(body)));
        assertThat(Json.parse(new byte[0]).isNull()).isTrue();
    }

    @Test
    void picocliRewrittenForTheCacheStillWorks(@TempDir Path dir) throws Exception {
        Path original = Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertThat(major(original, "picocli/CommandLine.class")).isEqualTo(49); // Java 5: an AOT cache keeps none
        Path rewritten = dir.resolve("picocli.jar");
        StartupCache.upgrade(original, rewritten);
        try (ZipFile before = new ZipFile(original.toFile()); ZipFile after = new ZipFile(rewritten.toFile())) {
            assertThat(after.size()).isEqualTo(before.size());
        }
        assertThat(major(rewritten, "picocli/CommandLine.class")).isEqualTo(52);
        assertThat(major(rewritten, "picocli/CommandLine$Model$CommandSpec.class")).isEqualTo(52);
        // every class loads and verifies (initialised in a loader of its own), and it parses a command line
        try (URLClassLoader loader = new URLClassLoader(new URL[] {rewritten.toUri().toURL()}, null);
             ZipFile zip = new ZipFile(rewritten.toFile())) {
            for (var entries = zip.entries(); entries.hasMoreElements(); ) {
                String name = entries.nextElement().getName();
                if (name.endsWith(".class") && !name.contains("module-info")) {
                    Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), true, loader);
                }
            }
            Class<?> spec = loader.loadClass("picocli.CommandLine$Model$CommandSpec");
            Class<?> option = loader.loadClass("picocli.CommandLine$Model$OptionSpec");
            Object builder = call(option, null, "builder", new Class<?>[] {String[].class}, (Object) new String[] {"--count"});
            call(builder.getClass(), builder, "type", new Class<?>[] {Class.class}, int.class);
            Object built = call(builder.getClass(), builder, "build", new Class<?>[0]);
            Object created = call(spec, null, "create", new Class<?>[0]);
            call(spec, created, "addOption", new Class<?>[] {option}, built);
            Class<?> commandLine = loader.loadClass("picocli.CommandLine");
            Object cmd = commandLine.getConstructor(Object.class).newInstance(created);
            Object result = call(commandLine, cmd, "parseArgs", new Class<?>[] {String[].class}, (Object) new String[] {"--count", "7"});
            assertThat(call(result.getClass(), result, "matchedOptionValue", new Class<?>[] {String.class, Object.class}, "--count", 0))
                    .isEqualTo(7);
        }
    }

    private static Object call(Class<?> type, Object target, String name, Class<?>[] parameters, Object... args) throws Exception {
        var method = type.getMethod(name, parameters);
        method.setAccessible(true);
        return method.invoke(target, args);
    }

    private static int major(Path jar, String entry) throws Exception {
        try (ZipFile zip = new ZipFile(jar.toFile()); InputStream in = zip.getInputStream(zip.getEntry(entry))) {
            DataInputStream data = new DataInputStream(in);
            data.readInt();
            data.readUnsignedShort();
            return data.readUnsignedShort();
        }
    }
}
