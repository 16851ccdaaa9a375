package dev.berth.profile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Map;

/**
 * The JSON Schema (2020-12) of a profile file, generated from the {@link ProfileSpec} records, the
 * same model the loader binds to, so the two cannot disagree. Editors use it for completion and
 * checking; the build keeps the checked-in copy ({@link #RESOURCE}) current.
 */
public final class ProfileSchema {

    /** Where the generated schema is checked in, on the class path. */
    public static final String RESOURCE = "/dev/berth/profile/profile.schema.json";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private ProfileSchema() {
    }

    public static ObjectNode generate() {
        ObjectNode schema = JSON.objectNode();
        schema.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.put("$id", "https://berth.dev/schema/profile.schema.json");
        schema.put("title", "Berth profile");
        schema.setAll(record(ProfileSpec.class, true));
        schema.set("required", JSON.arrayNode().add("name"));
        return schema;
    }

    /** The schema as the pretty-printed text that is checked in. */
    public static String text() {
        try {
            return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(generate()) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode record(Class<?> type, boolean topLevel) {
        ObjectNode node = JSON.objectNode();
        node.put("type", "object");
        Doc doc = type.getAnnotation(Doc.class);
        if (doc != null) {
            node.put("description", doc.value());
        }
        node.put("additionalProperties", false);
        ObjectNode properties = node.putObject("properties");
        ArrayNode required = JSON.arrayNode();
        for (RecordComponent component : type.getRecordComponents()) {
            ObjectNode property = JSON.objectNode();
            ArrayNode anyOf = property.putArray("anyOf");
            anyOf.add(type(component.getGenericType(), component));
            // null removes an inherited value
            anyOf.add(JSON.objectNode().put("type", "null"));
            Doc componentDoc = component.getAnnotation(Doc.class);
            if (componentDoc != null) {
                property.put("description", componentDoc.value());
            }
            properties.set(Binder.key(component), property);
            if (!topLevel && component.isAnnotationPresent(Required.class) && isListItem(type)) {
                required.add(Binder.key(component));
            }
        }
        if (!required.isEmpty()) {
            node.set("required", required);
        }
        return node;
    }

    private static JsonNode type(Type type, RecordComponent component) {
        Class<?> raw = Binder.rawClass(type);
        Format format = raw.getAnnotation(Format.class);
        if (format != null) {
            ObjectNode node = JSON.objectNode();
            node.set("type", JSON.arrayNode().add("string").add("number"));
            node.put("pattern", format.pattern());
            node.put("description", format.description());
            return node;
        }
        if (raw.isRecord()) {
            return record(raw, false);
        }
        if (List.class.isAssignableFrom(raw)) {
            ObjectNode node = JSON.objectNode().put("type", "array");
            node.set("items", type(((ParameterizedType) type).getActualTypeArguments()[0], component));
            return node;
        }
        if (Map.class.isAssignableFrom(raw)) {
            ObjectNode node = JSON.objectNode().put("type", "object");
            if (((ParameterizedType) type).getActualTypeArguments()[1] == String.class) {
                node.set("additionalProperties", JSON.objectNode().set("type",
                        JSON.arrayNode().add("string").add("number").add("boolean").add("null")));
            }
            return node;
        }
        if (raw == String.class) {
            return JSON.objectNode().put("type", "string");
        }
        if (raw == Boolean.class) {
            return JSON.objectNode().put("type", "boolean");
        }
        if (raw == Integer.class) {
            ObjectNode node = JSON.objectNode().put("type", "integer");
            Range range = component.getAnnotation(Range.class);
            if (range != null) {
                node.put("minimum", range.min()).put("maximum", range.max());
            }
            return node;
        }
        if (raw.isEnum()) {
            ArrayNode values = JSON.arrayNode();
            Binder.allowed(raw).forEach(values::add);
            return JSON.objectNode().set("enum", values);
        }
        throw new IllegalStateException("no schema for " + type);
    }

    /** Records that appear as list items are replaced whole by composition, so their required keys hold per file. */
    private static boolean isListItem(Class<?> type) {
        return type == ProfileSpec.Forward.class || type == ProfileSpec.Mount.class;
    }
}
