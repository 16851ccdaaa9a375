package dev.berth.profile;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Reads one YAML document into a {@link Node} tree that remembers every value's location. Refuses,
 * with a located error: duplicate keys, anchors and aliases (the way to YAML bombs; profiles share
 * settings through {@code extends}), documents over 1 MiB, nesting deeper than 32 and more than
 * 20,000 values. Memory stays bounded by those limits whatever the input.
 */
public final class YamlReader {

    public static final int MAX_BYTES = 1 << 20;
    public static final int MAX_DEPTH = 32;
    public static final int MAX_NODES = 20_000;

    private static final YAMLFactory FACTORY = YAMLFactory.builder().loaderOptions(loaderOptions()).build();

    private final String source;
    private final YAMLParser parser;
    private int nodes;

    private YamlReader(String source, YAMLParser parser) {
        this.source = source;
        this.parser = parser;
    }

    /** Reads {@code file}; the file's path is the source named in errors. */
    public static Node read(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new ProfileException(new Problem(new Location(file.toString(), 1, 1), "",
                        "the file is " + size + " bytes; a profile may have at most " + MAX_BYTES, "split it with extends"));
            }
            return read(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ProfileException(new Problem(new Location(file.toString(), 0, 0), "",
                    "cannot read the file: " + e.getMessage(), null));
        }
    }

    /** Reads YAML {@code text}; {@code source} names it in errors. */
    public static Node read(String source, String text) {
        if (text.length() > MAX_BYTES) {
            throw new ProfileException(new Problem(new Location(source, 1, 1), "",
                    "the document has " + text.length() + " characters; a profile may have at most " + MAX_BYTES,
                    "split it with extends"));
        }
        try (YAMLParser parser = FACTORY.createParser(text)) {
            YamlReader reader = new YamlReader(source, parser);
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw reader.problem(parser.currentTokenLocation(), "", "the document is empty", "a profile is a mapping such as 'name: web'");
            }
            Node root = reader.value(first, "", 1);
            if (parser.nextToken() != null) {
                throw reader.problem(parser.currentTokenLocation(), "", "more than one YAML document in one file",
                        "put each profile in its own file");
            }
            return root;
        } catch (JsonParseException e) {
            JsonLocation at = e.getLocation();
            String message = e.getOriginalMessage().lines().findFirst().orElse("invalid YAML");
            throw new ProfileException(new Problem(location(source, at), "", "invalid YAML: " + message, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Node value(JsonToken token, String path, int depth) throws IOException {
        JsonLocation at = parser.currentTokenLocation();
        if (depth > MAX_DEPTH) {
            throw problem(at, path, "nested deeper than " + MAX_DEPTH + " levels", null);
        }
        if (++nodes > MAX_NODES) {
            throw problem(at, path, "more than " + MAX_NODES + " values in one document", "split it with extends");
        }
        if (parser.isCurrentAlias() || parser.getObjectId() != null) {
            throw problem(at, path, "YAML anchors and aliases (&name, *name) are not supported",
                    "share settings with 'extends' instead");
        }
        return switch (token) {
            case START_OBJECT -> map(at, path, depth);
            case START_ARRAY -> list(at, path, depth);
            case VALUE_NULL -> new Node.ScalarNode(location(source, at), null);
            case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE, VALUE_EMBEDDED_OBJECT ->
                    new Node.ScalarNode(location(source, at), parser.getText());
            default -> throw problem(at, path, "unexpected YAML " + token, null);
        };
    }

    private Node map(JsonLocation at, String path, int depth) throws IOException {
        Map<String, Node.Entry> entries = new LinkedHashMap<>();
        Map<String, Location> seen = new LinkedHashMap<>();
        JsonToken token;
        while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            Location keyAt = location(source, parser.currentTokenLocation());
            String childPath = path.isEmpty() ? key : path + "." + key;
            if (seen.containsKey(key)) {
                throw new ProfileException(new Problem(keyAt, childPath,
                        "duplicate key '" + key + "' (first at line " + seen.get(key).line() + ")", "keep one of them"));
            }
            seen.put(key, keyAt);
            entries.put(key, new Node.Entry(keyAt, value(parser.nextToken(), childPath, depth + 1)));
        }
        if (token != JsonToken.END_OBJECT) {
            throw problem(parser.currentTokenLocation(), path, "unexpected YAML " + token, null);
        }
        return new Node.MapNode(location(source, at), entries);
    }

    private Node list(JsonLocation at, String path, int depth) throws IOException {
        List<Node> items = new ArrayList<>();
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (token == null) {
                throw problem(parser.currentTokenLocation(), path, "unterminated list", null);
            }
            items.add(value(token, path + "[" + items.size() + "]", depth + 1));
        }
        return new Node.ListNode(location(source, at), items);
    }

    private ProfileException problem(JsonLocation at, String path, String message, String hint) {
        return new ProfileException(new Problem(location(source, at), path, message, hint));
    }

    private static Location location(String source, JsonLocation at) {
        return new Location(source, Math.max(at.getLineNr(), 1), Math.max(at.getColumnNr(), 1));
    }

    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_BYTES + 1);
        options.setNestingDepthLimit(MAX_DEPTH * 2);
        options.setMaxAliasesForCollections(0);
        return options;
    }
}
