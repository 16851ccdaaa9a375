package dev.berth.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;

/**
 * JSON trees (Jackson's node classes) read and written without Jackson's mapper or streaming classes:
 * in a fresh JVM, building an {@code ObjectMapper} takes a quarter of a second and the streaming
 * classes' set-up tens of milliseconds, more than the rest of {@code berth list}. The CLI only ever
 * needs trees, and JSON is small.
 */
public final class Json {

    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Json() {
    }

    public static ObjectNode object() {
        return NODES.objectNode();
    }

    public static ArrayNode array() {
        return NODES.arrayNode();
    }

    /** The tree of a JSON document; an empty input is JSON null. */
    public static JsonNode parse(byte[] bytes) throws IOException {
        return parse(new String(bytes, StandardCharsets.UTF_8));
    }

    public static JsonNode parse(String text) throws IOException {
        Reader reader = new Reader(text);
        reader.skipSpace();
        if (reader.at == text.length()) {
            return NODES.nullNode();
        }
        JsonNode node = reader.value(0);
        reader.skipSpace();
        if (reader.at != text.length()) {
            throw reader.error("unexpected content after the JSON value");
        }
        return node;
    }

    /**
     * A strict JSON reader (RFC 8259) straight to trees. Jackson's parser would do, but its classes'
     * static set-up (BigDecimal and BigInteger limits) costs more in a fresh JVM than reading the
     * agent's answer does.
     */
    private static final class Reader {
        private static final int MAX_DEPTH = 500;
        private final String text;
        int at;

        Reader(String text) {
            this.text = text;
        }

        JsonNode value(int depth) throws IOException {
            if (depth > MAX_DEPTH) {
                throw error("nested deeper than " + MAX_DEPTH);
            }
            skipSpace();
            if (at >= text.length()) {
                throw error("unexpected end of the JSON text");
            }
            char c = text.charAt(at);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> NODES.textNode(string());
                case 't' -> literal("true", NODES.booleanNode(true));
                case 'f' -> literal("false", NODES.booleanNode(false));
                case 'n' -> literal("null", NODES.nullNode());
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw error("unexpected character '" + c + "'");
                }
            };
        }

        private JsonNode object(int depth) throws IOException {
            ObjectNode object = NODES.objectNode();
            at++;
            skipSpace();
            if (peek() == '}') {
                at++;
                return object;
            }
            while (true) {
                skipSpace();
                if (peek() != '"') {
                    throw error("expected a field name");
                }
                String name = string();
                skipSpace();
                expect(':');
                object.set(name, value(depth + 1));
                skipSpace();
                char next = next();
                if (next == '}') {
                    return object;
                }
                if (next != ',') {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private JsonNode array(int depth) throws IOException {
            ArrayNode array = NODES.arrayNode();
            at++;
            skipSpace();
            if (peek() == ']') {
                at++;
                return array;
            }
            while (true) {
                array.add(value(depth + 1));
                skipSpace();
                char next = next();
                if (next == ']') {
                    return array;
                }
                if (next != ',') {
                    throw error("expected ',' or ']'");
                }
            }
        }

        private String string() throws IOException {
            at++; // the opening quote
            int start = at;
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c == '"') {
                    return text.substring(start, at++);
                }
                if (c == '\\' || c < 0x20) {
                    break;
                }
                at++;
            }
            StringBuilder out = new StringBuilder().append(text, start, at);
            while (true) {
                char c = next();
                if (c == '"') {
                    return out.toString();
                }
                if (c < 0x20) {
                    throw error("control character in a string");
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escaped = next();
                switch (escaped) {
                    case '"', '\\', '/' -> out.append(escaped);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        if (at + 4 > text.length()) {
                            throw error("short \\u escape");
                        }
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int digit = Character.digit(text.charAt(at++), 16);
                            if (digit < 0) {
                                throw error("bad \\u escape");
                            }
                            code = code * 16 + digit;
                        }
                        out.append((char) code);
                    }
                    default -> throw error("bad escape '\\" + escaped + "'");
                }
            }
        }

        private JsonNode number() throws IOException {
            int start = at;
            if (peek() == '-') {
                at++;
            }
            boolean integral = true;
            if (peek() == '0') {
                at++;
            } else if (!digits()) {
                throw error("expected a digit");
            }
            if (peek() == '.') {
                integral = false;
                at++;
                if (!digits()) {
                    throw error("expected a digit after '.'");
                }
            }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                at++;
                if (peek() == '+' || peek() == '-') {
                    at++;
                }
                if (!digits()) {
                    throw error("expected a digit in the exponent");
                }
            }
            String number = text.substring(start, at);
            if (!integral) {
                return NODES.numberNode(Double.parseDouble(number));
            }
            if (at - start <= 18) {
                long value = Long.parseLong(number);
                return value == (int) value ? NODES.numberNode((int) value) : NODES.numberNode(value);
            }
            BigInteger big = new BigInteger(number);
            return big.bitLength() < 64 ? NODES.numberNode(big.longValue()) : NODES.numberNode(big);
        }

        private boolean digits() {
            int start = at;
            while (at < text.length() && text.charAt(at) >= '0' && text.charAt(at) <= '9') {
                at++;
            }
            return at > start;
        }

        private JsonNode literal(String word, JsonNode node) throws IOException {
            if (!text.startsWith(word, at)) {
                throw error("unexpected word");
            }
            at += word.length();
            return node;
        }

        void skipSpace() {
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                    return;
                }
                at++;
            }
        }

        private char peek() {
            return at < text.length() ? text.charAt(at) : 0;
        }

        private char next() throws IOException {
            if (at >= text.length()) {
                throw error("unexpected end of the JSON text");
            }
            return text.charAt(at++);
        }

        private void expect(char c) throws IOException {
            if (next() != c) {
                at--;
                throw error("expected '" + c + "'");
            }
        }

        IOException error(String what) {
            return new IOException("bad JSON from the agent at character " + at + ": " + what);
        }
    }

    /** A value as a tree: maps, collections, text, numbers, booleans, null and trees. */
    public static JsonNode tree(Object value) {
        return switch (value) {
            case null -> NODES.nullNode();
            case JsonNode node -> node;
            case Map<?, ?> map -> {
                ObjectNode object = NODES.objectNode();
                map.forEach((key, item) -> object.set(String.valueOf(key), tree(item)));
                yield object;
            }
            case Collection<?> items -> {
                ArrayNode array = NODES.arrayNode();
                items.forEach(item -> array.add(tree(item)));
                yield array;
            }
            case Object[] items -> tree(java.util.Arrays.asList(items));
            case Boolean b -> NODES.booleanNode(b);
            case Integer i -> NODES.numberNode(i);
            case Long l -> NODES.numberNode(l);
            case Double d -> NODES.numberNode(d);
            case BigInteger b -> NODES.numberNode(b);
            case BigDecimal b -> NODES.numberNode(b);
            case Number n -> NODES.numberNode(n.longValue());
            default -> NODES.textNode(value.toString());
        };
    }

    /** Compact JSON of a value (see {@link #tree}). */
    public static byte[] bytes(Object value) {
        return write(tree(value), false).getBytes(StandardCharsets.UTF_8);
    }

    /** Compact JSON text, one line. */
    public static String compact(JsonNode node) {
        return write(node, false);
    }

    /** Indented JSON text for people and scripts alike. */
    public static String pretty(JsonNode node) {
        return write(node, true);
    }

    private static String write(JsonNode node, boolean pretty) {
        StringBuilder out = new StringBuilder();
        write(out, node, pretty, 0);
        return out.toString();
    }

    /** JSON text; indented as Jackson's default pretty printer does (two spaces, " : "). */
    private static void write(StringBuilder out, JsonNode node, boolean pretty, int depth) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                if (node.isEmpty()) {
                    out.append(pretty ? "{ }" : "{}");
                    return;
                }
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, JsonNode> field : node.properties()) {
                    out.append(first ? "" : ",");
                    first = false;
                    if (pretty) {
                        out.append('\n').append("  ".repeat(depth + 1));
                    }
                    quote(out, field.getKey());
                    out.append(pretty ? " : " : ":");
                    write(out, field.getValue(), pretty, depth + 1);
                }
                if (pretty) {
                    out.append('\n').append("  ".repeat(depth));
                }
                out.append('}');
            }
            case ARRAY -> {
                if (node.isEmpty()) {
                    out.append(pretty ? "[ ]" : "[]");
                    return;
                }
                out.append(pretty ? "[ " : "[");
                boolean first = true;
                for (JsonNode item : node) {
                    out.append(first ? "" : pretty ? ", " : ",");
                    first = false;
                    write(out, item, pretty, depth);
                }
                out.append(pretty ? " ]" : "]");
            }
            case STRING -> quote(out, node.textValue());
            case NUMBER, BOOLEAN -> out.append(node.asText());
            case BINARY -> quote(out, java.util.Base64.getEncoder().encodeToString(binary(node)));
            default -> out.append("null");
        }
    }

    private static byte[] binary(JsonNode node) {
        try {
            return node.binaryValue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
