package dev.berth.profile;

import java.nio.file.Path;

/**
 * Berth's other YAML files (the agent's config, image recipes) read with the same rules and the same
 * file:line:column errors as profiles: records as the model, kebab-case keys, unknown keys refused
 * with the nearest valid one, {@link Required}, {@link Range} and {@link Format} enforced.
 */
public final class YamlBinding {

    private YamlBinding() {
    }

    /** Reads {@code file} as a {@code type}, or throws {@link ProfileException} with every problem. */
    public static <T extends Record> T load(Path file, Class<T> type) {
        return bind(YamlReader.read(file), type);
    }

    /** Reads YAML {@code text} as a {@code type}; {@code source} names it in errors. */
    public static <T extends Record> T parse(String source, String text, Class<T> type) {
        return bind(YamlReader.read(source, text), type);
    }

    private static <T extends Record> T bind(Node node, Class<T> type) {
        if (!(node instanceof Node.MapNode)) {
            throw new ProfileException(new Problem(node.location(), "", "expected a mapping of keys to values",
                    "write one 'key: value' per line"));
        }
        return Binder.bind(node, type, true);
    }
}
