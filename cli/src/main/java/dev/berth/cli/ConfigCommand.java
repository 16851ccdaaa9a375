package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.cli.client.Json;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code berth config}: a container's own settings, the ones that win over its profiles (what
 * {@code launch --set} gave it). Keys are the profile's fields, dotted.
 */
@Command(name = "config", description = "Show or change a container's own settings (they win over its profiles).",
        footer = {"%nKeys are the profile's fields, dotted: limits.memory=512MiB, limits.cpu=2, autostart=true. "
                + "Limits apply at once to a running container; other keys when it is launched anew (the answer "
                + "says which).",
                "%nExamples:",
                "  berth config show web1",
                "  berth config set web1 limits.memory=1GiB",
                "  berth config set web1 --replace limits.cpu=2",
                "  berth config unset web1 limits.memory"})
final class ConfigCommand {

    @ParentCommand
    Berth berth;

    @Command(name = "show", description = "Print a container's own settings, one dotted key per line.")
    int show(@Parameters(paramLabel = "NAME") String name,
             @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                     description = "table (key = value lines), json or yaml (default: ${DEFAULT-VALUE}).") Output.Format format) {
        Map<String, String> flat = current(name);
        if (format != Output.Format.TABLE) {
            ObjectNode object = Json.object();
            flat.forEach(object::put);
            Output.printObject(berth.out(), format, object);
        } else {
            flat.forEach((k, v) -> berth.out().println(k + " = " + v));
            berth.out().flush();
        }
        return 0;
    }

    @Command(name = "set", description = "Set some of a container's own settings (or, with --replace, all of them).")
    int set(@Parameters(paramLabel = "NAME") String name,
            @Parameters(paramLabel = "KEY=VALUE", arity = "0..*") List<String> settings,
            @Option(names = "--replace", description = "Drop the settings not given here.") boolean replace) {
        Map<String, Object> next = new TreeMap<>(replace ? Map.of() : typed(current(name)));
        next.putAll(ContainerVerbs.settings(settings));
        return patch(name, next);
    }

    @Command(name = "unset", description = "Remove some of a container's own settings (its profiles' values apply again).")
    int unset(@Parameters(paramLabel = "NAME") String name, @Parameters(paramLabel = "KEY", arity = "1..*") List<String> keys) {
        Map<String, Object> next = new TreeMap<>(typed(current(name)));
        for (String key : keys) {
            if (next.remove(key) == null) {
                throw new Berth.UsageError(name + " has no setting " + key + " of its own; berth config show " + name + " lists them");
            }
        }
        return patch(name, next);
    }

    private int patch(String name, Map<String, Object> config) {
        JsonNode op = berth.operate("Updating " + name, "PATCH", "/1.0/containers/" + Berth.encode(name), Map.of("config", config),
                Duration.ofMinutes(5));
        JsonNode m = op.path("metadata");
        StringBuilder line = new StringBuilder("Updated " + name);
        if (!m.path("appliedLive").isEmpty()) {
            line.append("; applied live: ").append(Output.text(m.path("appliedLive")));
        }
        if (!m.path("pending").isEmpty()) {
            line.append("; at the next launch: ").append(Output.text(m.path("pending")));
        }
        berth.summary(line.toString());
        return 0;
    }

    /** Values read back typed as on the command line (numbers and booleans as such). */
    private static Map<String, Object> typed(Map<String, String> flat) {
        return ContainerVerbs.settings(flat.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
    }

    /** The container's own settings as dotted keys. */
    private Map<String, String> current(String name) {
        JsonNode container = Berth.checked(berth.client().get("/1.0/containers/" + Berth.encode(name)));
        Map<String, String> flat = new TreeMap<>();
        flatten("", container.path("config"), flat);
        return flat;
    }

    static void flatten(String prefix, JsonNode node, Map<String, String> into) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), into);
            }
        } else if (!node.isMissingNode() && !node.isNull()) {
            into.put(prefix, node.isValueNode() ? node.asText() : Json.compact(node));
        }
    }
}
