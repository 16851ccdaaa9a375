package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.berth.cli.client.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * How commands print: rows as a table for people, or the agent's JSON objects as JSON, YAML or CSV
 * for scripts. Tables and progress are for people; JSON, YAML and CSV never carry decoration.
 */
public final class Output {

    /** {@code --format} values. */
    public enum Format { TABLE, JSON, YAML, CSV }

    /** YAML output; made on first use (a Jackson mapper is slow to build, and most commands print none). */
    private static final class Yaml {
        static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));
    }

    /** A table column: its heading, and how to get its text from an object. */
    public record Column(String name, Function<JsonNode, String> value) {
        public static Column of(String name, String field) {
            return new Column(name, node -> text(node.path(field)));
        }
    }

    private Output() {
    }

    /** Prints {@code items} (a JSON array of the agent's objects) in {@code format}, with {@code columns}. */
    public static void print(PrintWriter out, Format format, JsonNode items, List<Column> columns, boolean header) {
        switch (format) {
            case JSON -> out.println(json(items));
            case YAML -> out.print(yaml(items));
            case CSV -> {
                if (header) {
                    out.println(String.join(",", columns.stream().map(c -> csv(c.name().toLowerCase(Locale.ROOT))).toList()));
                }
                for (JsonNode item : items) {
                    out.println(String.join(",", columns.stream().map(c -> csv(c.value().apply(item))).toList()));
                }
            }
            case TABLE -> table(out, items, columns, header);
        }
        out.flush();
    }

    /** A single object, as JSON or YAML; a table format shows it as YAML, which reads well. */
    public static void printObject(PrintWriter out, Format format, JsonNode object) {
        out.print(format == Format.JSON ? json(object) + "\n" : yaml(object));
        out.flush();
    }

    static void table(PrintWriter out, JsonNode items, List<Column> columns, boolean header) {
        List<String[]> rows = new ArrayList<>();
        if (header) {
            rows.add(columns.stream().map(Column::name).toArray(String[]::new));
        }
        for (JsonNode item : items) {
            rows.add(columns.stream().map(c -> c.value().apply(item)).toArray(String[]::new));
        }
        int[] widths = new int[columns.size()];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(row[i]);
                if (i < row.length - 1) {
                    line.append(" ".repeat(widths[i] - row[i].length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** A field as text: "-" for nothing, lists joined by commas. */
    public static String text(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return "-";
        }
        if (node.isArray()) {
            List<String> parts = new ArrayList<>();
            node.forEach(n -> parts.add(n.asText()));
            return parts.isEmpty() ? "-" : String.join(",", parts);
        }
        return node.isValueNode() ? node.asText() : Json.compact(node);
    }

    static String json(JsonNode node) {
        return Json.pretty(node);
    }

    static String yaml(JsonNode node) {
        try {
            return Yaml.MAPPER.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String csv(String value) {
        if (value.contains(",") || value.contains("\"") || value.contains("\n")) {
            return "\"" + value.replace("\"", "\"\"") + "\"";
        }
        return value;
    }

    /** An empty JSON array to fill. */
    static ArrayNode array() {
        return Json.array();
    }

    /** "0.21 s" or "45 ms". */
    static String elapsed(long nanos) {
        double ms = nanos / 1e6;
        return ms < 1000 ? String.format(Locale.ROOT, "%.0f ms", ms) : String.format(Locale.ROOT, "%.2f s", ms / 1000);
    }

    /** Bytes for people: 368 MiB. */
    static String size(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
