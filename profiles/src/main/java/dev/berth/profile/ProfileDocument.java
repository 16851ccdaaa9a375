package dev.berth.profile;

import java.nio.file.Path;
import java.util.List;

/**
 * One profile file as loaded: its name, its parents and its tree, checked for syntax, unknown keys,
 * types and formats. Rules that need the whole chain (required fields, cross-field rules) are
 * checked when it is composed.
 */
public record ProfileDocument(String name, List<String> parents, Node.MapNode root) {

    /** Loads and checks one profile file. */
    public static ProfileDocument load(Path file) {
        return of(YamlReader.read(file));
    }

    /** Loads and checks one profile from YAML text; {@code source} names it in errors. */
    public static ProfileDocument parse(String source, String yaml) {
        return of(YamlReader.read(source, yaml));
    }

    private static ProfileDocument of(Node node) {
        if (!(node instanceof Node.MapNode root)) {
            throw new ProfileException(new Problem(node.location(), "", "a profile is a mapping of keys to values",
                    "start with 'name: my-profile'"));
        }
        ProfileSpec spec = Binder.bind(root, ProfileSpec.class, false);
        if (spec.name() == null) {
            throw new ProfileException(new Problem(root.location(), "name", "'name' is required in every profile file",
                    "add name: followed by the profile's name"));
        }
        if (!ProfileSpec.NAME.matcher(spec.name()).matches()) {
            throw new ProfileException(new Problem(root.get("name").location(), "name", "'" + spec.name()
                    + "' is not a profile name: use lower-case letters, digits and '-', 1-63 characters", null));
        }
        return new ProfileDocument(spec.name(), spec.parents() == null ? List.of() : spec.parents(), root);
    }

    /** The file this profile came from. */
    public Path file() {
        return Path.of(root.location().file());
    }
}
