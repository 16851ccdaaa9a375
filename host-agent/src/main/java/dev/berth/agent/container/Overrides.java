package dev.berth.agent.container;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.profile.Node;
import dev.berth.profile.YamlReader;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A container's own overrides of its profiles, as the API takes them ({@code {"limits.memory":
 * "1GiB"}} or nested maps) and as the record keeps them (nested maps, so that lists and nesting
 * survive a round trip), and as the composer takes them (a profile fragment).
 */
public final class Overrides {

    private static final ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;

    private Overrides() {
    }

    /** Nested maps, with dotted keys ({@code limits.memory}) expanded; null or empty gives an empty map. */
    public static Map<String, Object> expand(Map<String, Object> config) {
        Map<String, Object> nested = new LinkedHashMap<>();
        if (config == null) {
            return nested;
        }
        config.forEach((key, value) -> {
            String[] parts = key.split("\\.");
            Map<String, Object> at = nested;
            for (int i = 0; i < parts.length - 1; i++) {
                Object next = at.get(parts[i]);
                if (!(next instanceof Map<?, ?>)) {
                    next = new LinkedHashMap<String, Object>();
                    at.put(parts[i], next);
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> map = (Map<String, Object>) next;
                at = map;
            }
            Object leaf = value instanceof Map<?, ?> m ? expand(cast(m)) : value;
            if (leaf instanceof Map<?, ?> inner && at.get(parts[parts.length - 1]) instanceof Map<?, ?> existing) {
                Map<String, Object> merged = new LinkedHashMap<>(cast(existing));
                merged.putAll(cast(inner));
                leaf = merged;
            }
            at.put(parts[parts.length - 1], leaf);
        });
        return nested;
    }

    /** The overrides as a profile fragment for the composer, or null when there are none. */
    public static Node.MapNode toNode(String source, Map<String, Object> nested) {
        if (nested == null || nested.isEmpty()) {
            return null;
        }
        try {
            return (Node.MapNode) YamlReader.read(source, JSON.writeValueAsString(nested));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode overrides: " + e.getOriginalMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> map) {
        return (Map<String, Object>) map;
    }
}
