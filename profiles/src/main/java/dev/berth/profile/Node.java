package dev.berth.profile;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML value with the place it came from, so that every error, even one found after composing
 * several files, can name the file, line and column of the value at fault.
 */
public sealed interface Node {

    Location location();

    /** A mapping; keys keep their own locations, entries keep file order. */
    record MapNode(Location location, Map<String, Entry> entries) implements Node {
        public MapNode {
            entries = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(entries));
        }

        public Node get(String key) {
            Entry entry = entries.get(key);
            return entry == null ? null : entry.value();
        }
    }

    /** One key of a mapping and its value. */
    record Entry(Location keyLocation, Node value) {
    }

    record ListNode(Location location, List<Node> items) implements Node {
        public ListNode {
            items = List.copyOf(items);
        }
    }

    /** A scalar as written; {@code text} is null for YAML's null ({@code ~}, {@code null}, empty). */
    record ScalarNode(Location location, String text) implements Node {

        public boolean isNull() {
            return text == null;
        }
    }
}
