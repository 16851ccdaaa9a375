package dev.berth.profile;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Binds a {@link Node} tree to the profile records, collecting every problem with its location, field
 * path, the allowed values and, for a misspelt key, the nearest valid one. In {@code complete} mode
 * (a composed profile) it also enforces {@link Required} fields and {@link Validated} rules.
 */
final class Binder {

    private final boolean complete;
    private final List<Problem> problems = new ArrayList<>();

    private Binder(boolean complete) {
        this.complete = complete;
    }

    /** Binds {@code node} as a {@code type}, or throws with every problem found. */
    static <T> T bind(Node node, Class<T> type, boolean complete) {
        Binder binder = new Binder(complete);
        Object value = binder.value(node, type, "", null);
        if (!binder.problems.isEmpty()) {
            throw new ProfileException(binder.problems);
        }
        return type.cast(value);
    }

    /** The YAML key of a record component. */
    static String key(RecordComponent component) {
        Key key = component.getAnnotation(Key.class);
        return key != null ? key.value() : component.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** How an enum constant is written in YAML: {@code ON_FAILURE} as {@code on-failure}. */
    static String spelling(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private Object value(Node node, Type type, String path, RecordComponent component) {
        if (node instanceof Node.ScalarNode scalar && scalar.isNull()) {
            return null;
        }
        Class<?> raw = rawClass(type);
        if (raw.isRecord() && raw.isAnnotationPresent(Format.class)) {
            return parsed(node, raw, path);
        }
        if (raw.isRecord()) {
            return record(node, raw, path);
        }
        if (List.class.isAssignableFrom(raw)) {
            if (!(node instanceof Node.ListNode list)) {
                return mismatch(node, path, "a list");
            }
            Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
            List<Object> values = new ArrayList<>();
            for (int i = 0; i < list.items().size(); i++) {
                Object item = value(list.items().get(i), element, path + "[" + i + "]", component);
                if (item == null) {
                    problems.add(new Problem(list.items().get(i).location(), path + "[" + i + "]", "a list item cannot be empty", null));
                } else {
                    values.add(item);
                }
            }
            return List.copyOf(values);
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (!(node instanceof Node.MapNode map)) {
                return mismatch(node, path, "a mapping of names to values");
            }
            Type valueType = ((ParameterizedType) type).getActualTypeArguments()[1];
            Map<String, Object> values = new LinkedHashMap<>();
            map.entries().forEach((k, entry) -> {
                int bad = Text.firstForbidden(k, false);
                if (bad < 0) {
                    bad = Text.firstInvisible(k);
                }
                if (bad >= 0) {
                    problems.add(new Problem(entry.keyLocation(), path, "the key '" + k.replaceAll("\\p{Cntrl}", "?")
                            + "' contains " + Text.describe(k, bad), "keys are one word without control characters"));
                    return;
                }
                Object v = valueType == Object.class ? plain(entry.value()) : value(entry.value(), valueType, path + "." + k, component);
                if (v != null) {
                    values.put(k, v);
                }
            });
            return java.util.Collections.unmodifiableMap(values);
        }
        if (!(node instanceof Node.ScalarNode scalar)) {
            return mismatch(node, path, describe(raw));
        }
        String text = scalar.text();
        if (raw == String.class) {
            boolean multiline = component != null && component.isAnnotationPresent(Multiline.class);
            int bad = Text.firstForbidden(text, multiline);
            if (bad < 0) {
                bad = Text.firstInvisible(text);
            }
            if (bad >= 0) {
                problems.add(new Problem(scalar.location(), path, "the value contains " + Text.describe(text, bad)
                        + (multiline ? "" : "; this field is one line of text"),
                        "remove the character; values are rendered into line-based files such as the LXC config"));
                return null;
            }
            return text;
        }
        if (raw == Integer.class) {
            return integer(scalar, path, component);
        }
        if (raw == Boolean.class) {
            if (text.equals("true") || text.equals("false")) {
                return Boolean.valueOf(text);
            }
            problems.add(new Problem(scalar.location(), path, "'" + text + "' is not true or false", "write true or false"));
            return null;
        }
        if (raw.isEnum()) {
            for (Object constant : raw.getEnumConstants()) {
                if (spelling((Enum<?>) constant).equals(text)) {
                    return constant;
                }
            }
            List<String> allowed = allowed(raw);
            String near = Suggest.nearest(text, allowed);
            problems.add(new Problem(scalar.location(), path, "'" + text + "' is not one of " + String.join(", ", allowed),
                    near == null ? null : "did you mean '" + near + "'?"));
            return null;
        }
        throw new IllegalStateException("profile field type " + type + " has no YAML binding");
    }

    private Object record(Node node, Class<?> type, String path) {
        if (!(node instanceof Node.MapNode map)) {
            return mismatch(node, path, "a mapping (key: value lines)");
        }
        Shape shape = SHAPES.get(type);
        RecordComponent[] components = shape.components();
        Map<String, RecordComponent> byKey = shape.byKey();
        for (Map.Entry<String, Node.Entry> entry : map.entries().entrySet()) {
            if (!byKey.containsKey(entry.getKey())) {
                String near = Suggest.nearest(entry.getKey(), byKey.keySet());
                problems.add(new Problem(entry.getValue().keyLocation(), join(path, entry.getKey()),
                        "unknown key '" + entry.getKey() + "'; allowed here: " + String.join(", ", byKey.keySet()),
                        near == null ? null : "did you mean '" + near + "'?"));
            }
        }
        Object[] args = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent component = components[i];
            String key = shape.keys().get(i);
            Node child = map.get(key);
            if (child != null) {
                args[i] = value(child, component.getGenericType(), join(path, key), component);
            }
            if (complete && args[i] == null && component.isAnnotationPresent(Required.class)) {
                problems.add(new Problem(map.location(), join(path, key), "'" + key + "' is required here",
                        doc(component)));
            }
        }
        Object instance;
        try {
            instance = shape.constructor().newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + type.getSimpleName(), e);
        }
        if (complete && instance instanceof Validated validated) {
            validated.validate((field, message, hint) -> {
                Node.Entry entry = map.entries().get(field);
                Location at = entry != null ? entry.value().location() : map.location();
                problems.add(new Problem(at, join(path, field), message, hint));
            });
        }
        return instance;
    }

    private Object parsed(Node node, Class<?> type, String path) {
        if (!(node instanceof Node.ScalarNode scalar)) {
            return mismatch(node, path, type.getAnnotation(Format.class).description());
        }
        try {
            Method parse = type.getMethod("parse", String.class);
            return parse.invoke(null, scalar.text());
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException invalid) {
                problems.add(new Problem(scalar.location(), path, invalid.getMessage(), null));
                return null;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(type + " needs a public static parse(String)", e);
        }
    }

    private Integer integer(Node.ScalarNode scalar, String path, RecordComponent component) {
        long value;
        try {
            value = Long.parseLong(scalar.text());
        } catch (NumberFormatException e) {
            problems.add(new Problem(scalar.location(), path, "'" + scalar.text() + "' is not a whole number", null));
            return null;
        }
        Range range = component == null ? null : component.getAnnotation(Range.class);
        long min = range == null ? Integer.MIN_VALUE : range.min();
        long max = range == null ? Integer.MAX_VALUE : range.max();
        if (value < min || value > max) {
            problems.add(new Problem(scalar.location(), path, value + " is out of range: allowed " + min + " to " + max, null));
            return null;
        }
        return (int) value;
    }

    private Object mismatch(Node node, String path, String expected) {
        String found = switch (node) {
            case Node.MapNode m -> "a mapping";
            case Node.ListNode l -> "a list";
            case Node.ScalarNode s -> "'" + s.text() + "'";
        };
        problems.add(new Problem(node.location(), path, "expected " + expected + ", found " + found, null));
        return null;
    }

    /** A node as plain Java values (for free-form facts and data). */
    static Object plain(Node node) {
        return switch (node) {
            case Node.ScalarNode s -> s.text();
            case Node.ListNode l -> l.items().stream().map(Binder::plain).toList();
            case Node.MapNode m -> {
                Map<String, Object> out = new LinkedHashMap<>();
                m.entries().forEach((k, e) -> out.put(k, plain(e.value())));
                yield java.util.Collections.unmodifiableMap(out);
            }
        };
    }

    static List<String> allowed(Class<?> enumType) {
        List<String> allowed = new ArrayList<>();
        for (Object constant : enumType.getEnumConstants()) {
            allowed.add(spelling((Enum<?>) constant));
        }
        return allowed;
    }

    private static String describe(Class<?> raw) {
        if (raw == Integer.class) {
            return "a whole number";
        }
        if (raw == Boolean.class) {
            return "true or false";
        }
        if (raw.isEnum()) {
            return "one of " + String.join(", ", allowed(raw));
        }
        return "a single value";
    }

    private static String doc(RecordComponent component) {
        Doc doc = component.getAnnotation(Doc.class);
        return doc == null ? null : doc.value();
    }

    /** A record type's components, YAML keys and canonical constructor, looked up once per type. */
    private record Shape(RecordComponent[] components, List<String> keys, Map<String, RecordComponent> byKey,
                         Constructor<?> constructor) {
    }

    private static final ClassValue<Shape> SHAPES = new ClassValue<>() {
        @Override
        protected Shape computeValue(Class<?> type) {
            RecordComponent[] components = type.getRecordComponents();
            List<String> keys = new ArrayList<>();
            Map<String, RecordComponent> byKey = new LinkedHashMap<>();
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                keys.add(key(components[i]));
                byKey.put(keys.get(i), components[i]);
                types[i] = components[i].getType();
            }
            try {
                Constructor<?> constructor = type.getDeclaredConstructor(types);
                if (!Modifier.isPublic(constructor.getModifiers())) {
                    constructor.setAccessible(true);
                }
                return new Shape(components, List.copyOf(keys), java.util.Collections.unmodifiableMap(byKey), constructor);
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(type + " has no canonical constructor", e);
            }
        }
    };

    static Class<?> rawClass(Type type) {
        return type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }
}
