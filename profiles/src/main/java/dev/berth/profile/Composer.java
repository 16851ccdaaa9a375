package dev.berth.profile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Composition as a pure function: a profile is its parents ({@code extends}, in order) merged, then
 * its own keys on top; a container is its profiles in order, then its own overrides. Merging follows
 * JSON Merge Patch (RFC 7396): mappings merge key by key, lists and scalars replace, and a key set to
 * {@code null} (or {@code ~}) removes what was inherited.
 */
public final class Composer {

    private final Map<String, ProfileDocument> profiles;

    public Composer(Map<String, ProfileDocument> profiles) {
        this.profiles = Map.copyOf(profiles);
    }

    /** A composer over {@code documents}, keyed by their names. */
    public static Composer of(List<ProfileDocument> documents) {
        Map<String, ProfileDocument> byName = new LinkedHashMap<>();
        for (ProfileDocument document : documents) {
            ProfileDocument previous = byName.put(document.name(), document);
            if (previous != null) {
                throw new ProfileException(new Problem(document.root().get("name").location(), "name",
                        "profile '" + document.name() + "' is defined twice (also in " + previous.file() + ")", null));
            }
        }
        return new Composer(byName);
    }

    /** A profile with everything it extends, checked completely. */
    public ComposedProfile profile(String name) {
        return compose(List.of(name), null);
    }

    /**
     * Profiles {@code names} applied in order, then {@code overrides} (may be null), as one checked
     * profile. The result's name is the last profile's.
     */
    public ComposedProfile compose(List<String> names, Node.MapNode overrides) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("compose needs at least one profile");
        }
        List<String> applied = new ArrayList<>();
        Node.MapNode merged = null;
        for (String name : names) {
            ProfileDocument document = profiles.get(name);
            if (document == null) {
                throw new ProfileException(new Problem(new Location("<request>", 1, 1), "profiles",
                        "no profile named '" + name + "'", hintFor(name)));
            }
            Node.MapNode expanded = expand(document, new ArrayList<>(), applied);
            merged = merged == null ? expanded : merge(merged, expanded);
        }
        if (overrides != null) {
            merged = merge(merged, overrides);
        }
        ProfileSpec spec = Binder.bind(merged, ProfileSpec.class, true);
        return new ComposedProfile(List.copyOf(applied), spec, merged);
    }

    private Node.MapNode expand(ProfileDocument document, List<String> stack, List<String> applied) {
        if (stack.contains(document.name())) {
            List<String> cycle = new ArrayList<>(stack.subList(stack.indexOf(document.name()), stack.size()));
            cycle.add(document.name());
            ProfileDocument closer = profiles.get(stack.getLast());
            throw new ProfileException(new Problem(closer.root().get("extends").location(), "extends",
                    "extends cycle: " + String.join(" -> ", cycle), "remove one of these extends"));
        }
        stack.add(document.name());
        Node.MapNode result = null;
        Node.ListNode parentNodes = document.root().get("extends") instanceof Node.ListNode list ? list : null;
        for (int i = 0; i < document.parents().size(); i++) {
            String parentName = document.parents().get(i);
            ProfileDocument parent = profiles.get(parentName);
            if (parent == null) {
                Location at = parentNodes == null ? document.root().location() : parentNodes.items().get(i).location();
                throw new ProfileException(new Problem(at, "extends[" + i + "]", "profile '" + document.name()
                        + "' extends '" + parentName + "', which does not exist (chain: " + String.join(" -> ", stack)
                        + ")", hintFor(parentName)));
            }
            Node.MapNode expanded = expand(parent, stack, applied);
            result = result == null ? expanded : merge(result, expanded);
        }
        stack.removeLast();
        if (!applied.contains(document.name())) {
            applied.add(document.name());
        }
        Node.MapNode own = without(document.root(), "extends");
        return result == null ? own : merge(result, own);
    }

    /** RFC 7396 merge of {@code patch} onto {@code base}, keeping each winning value's location. */
    static Node.MapNode merge(Node.MapNode base, Node.MapNode patch) {
        Map<String, Node.Entry> entries = new LinkedHashMap<>(base.entries());
        patch.entries().forEach((key, entry) -> {
            Node value = entry.value();
            if (value instanceof Node.ScalarNode scalar && scalar.isNull()) {
                entries.remove(key);
            } else if (value instanceof Node.MapNode patchMap && entries.get(key) != null
                    && entries.get(key).value() instanceof Node.MapNode baseMap) {
                entries.put(key, new Node.Entry(entry.keyLocation(), merge(baseMap, patchMap)));
            } else {
                entries.put(key, new Node.Entry(entry.keyLocation(), withoutNulls(value)));
            }
        });
        return new Node.MapNode(patch.location(), entries);
    }

    /** A patch's nested nulls mean nothing once there is nothing under them to remove. */
    private static Node withoutNulls(Node node) {
        if (!(node instanceof Node.MapNode map)) {
            return node;
        }
        Map<String, Node.Entry> entries = new LinkedHashMap<>();
        map.entries().forEach((k, e) -> {
            if (!(e.value() instanceof Node.ScalarNode s && s.isNull())) {
                entries.put(k, new Node.Entry(e.keyLocation(), withoutNulls(e.value())));
            }
        });
        return new Node.MapNode(map.location(), entries);
    }

    private static Node.MapNode without(Node.MapNode map, String key) {
        Map<String, Node.Entry> entries = new LinkedHashMap<>(map.entries());
        entries.remove(key);
        return new Node.MapNode(map.location(), entries);
    }

    private String hintFor(String name) {
        String near = Suggest.nearest(name, profiles.keySet());
        return near != null ? "did you mean '" + near + "'?" : "known profiles: " + String.join(", ", profiles.keySet());
    }
}
