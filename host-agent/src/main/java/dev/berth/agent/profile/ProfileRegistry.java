package dev.berth.agent.profile;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.store.AtomicFiles;
import dev.berth.profile.Composer;
import dev.berth.profile.Location;
import dev.berth.profile.Problem;
import dev.berth.profile.ProfileDocument;
import dev.berth.profile.ProfileException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The agent's profiles: one YAML file each under {@code <state-dir>/profiles}, kept as the operator
 * wrote them (comments included). Every change is checked before it is written (syntax, fields,
 * parents that exist, no cycles) and written atomically; readers get immutable snapshots.
 */
public final class ProfileRegistry {

    private final Path dir;
    private volatile Map<String, ProfileDocument> profiles;
    /** Over {@link #profiles}, replaced with them: the same instance until a profile changes (callers cache by it). */
    private volatile Composer composer;

    public ProfileRegistry(Path dir) {
        this(dir, load(dir));
    }

    private ProfileRegistry(Path dir, Map<String, ProfileDocument> profiles) {
        this.dir = dir;
        set(profiles);
    }

    /** Fixed profiles held in memory (tests of logic); a change is refused. */
    public static ProfileRegistry of(List<ProfileDocument> profiles) {
        Map<String, ProfileDocument> byName = new TreeMap<>();
        profiles.forEach(p -> byName.put(p.name(), p));
        return new ProfileRegistry(null, byName);
    }

    private void set(Map<String, ProfileDocument> next) {
        Map<String, ProfileDocument> copy = Map.copyOf(next);
        composer = new Composer(copy);
        profiles = copy;
    }

    /**
     * A composer over the profiles as they are now: the same instance until a profile is put or
     * deleted, so that what is composed from it can be cached against it.
     */
    public Composer composer() {
        return composer;
    }

    public List<String> names() {
        return List.copyOf(profiles.keySet());
    }

    /** The YAML of profile {@code name}, as written. */
    public String content(String name) {
        ProfileDocument document = require(name);
        try {
            return Files.readString(document.file());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public ProfileDocument get(String name) {
        return require(name);
    }

    /** Profiles that name {@code name} in their {@code extends}. */
    public List<String> extending(String name) {
        return profiles.values().stream().filter(p -> p.parents().contains(name)).map(ProfileDocument::name).sorted().toList();
    }

    /** {@code name} and every profile that extends it, directly or through others: what a change of it reaches. */
    public Set<String> withDescendants(String name) {
        Set<String> reached = new java.util.LinkedHashSet<>(List.of(name));
        boolean grew = true;
        while (grew) {
            grew = false;
            for (ProfileDocument profile : profiles.values()) {
                if (!reached.contains(profile.name()) && profile.parents().stream().anyMatch(reached::contains)) {
                    grew |= reached.add(profile.name());
                }
            }
        }
        return reached;
    }

    /** Creates or replaces profile {@code name} with {@code yaml}, after checking it against the others. */
    public synchronized ProfileDocument put(String name, String yaml) {
        writable();
        Path file = dir.resolve(name + ".yaml");
        ProfileDocument document = ProfileDocument.parse(file.toString(), yaml);
        if (!document.name().equals(name)) {
            throw new ProfileException(new Problem(document.root().get("name").location(), "name",
                    "the profile says name: " + document.name() + " but is stored as " + name, "make them agree"));
        }
        Map<String, ProfileDocument> next = new TreeMap<>(profiles);
        next.put(name, document);
        checkParents(document, next);
        try {
            AtomicFiles.write(file, yaml.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        set(next);
        return document;
    }

    /** Deletes profile {@code name}; the caller has checked that nothing uses it. */
    public synchronized void delete(String name) {
        writable();
        ProfileDocument document = require(name);
        try {
            Files.deleteIfExists(document.file());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, ProfileDocument> next = new TreeMap<>(profiles);
        next.remove(name);
        set(next);
    }

    private void writable() {
        if (dir == null) {
            throw new IllegalStateException("these profiles are fixed in memory");
        }
    }

    private ProfileDocument require(String name) {
        ProfileDocument document = profiles.get(name);
        if (document == null) {
            throw new AgentException.NotFound("no profile \"" + name + "\"");
        }
        return document;
    }

    private static void checkParents(ProfileDocument document, Map<String, ProfileDocument> all) {
        for (String parent : document.parents()) {
            if (!all.containsKey(parent)) {
                throw new ProfileException(new Problem(location(document), "extends",
                        "profile '" + document.name() + "' extends '" + parent + "', which does not exist", "create it first"));
            }
        }
        // A cycle through the new document: walk up from it.
        List<String> path = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        if (cycles(document.name(), all, path, seen)) {
            throw new ProfileException(new Problem(location(document), "extends", "extends cycle: " + String.join(" -> ", path),
                    "remove one of these extends"));
        }
    }

    private static boolean cycles(String name, Map<String, ProfileDocument> all, List<String> path, Set<String> done) {
        if (path.contains(name)) {
            path.add(name);
            return true;
        }
        if (!done.add(name) || !all.containsKey(name)) {
            return false;
        }
        path.add(name);
        for (String parent : all.get(name).parents()) {
            if (cycles(parent, all, path, done)) {
                return true;
            }
        }
        path.removeLast();
        return false;
    }

    private static Location location(ProfileDocument document) {
        return document.root().get("extends") != null ? document.root().get("extends").location() : document.root().location();
    }

    private static Map<String, ProfileDocument> load(Path dir) {
        Map<String, ProfileDocument> loaded = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                ProfileDocument document = ProfileDocument.load(file);
                loaded.put(document.name(), document);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read profiles in " + dir, e);
        }
        return Map.copyOf(loaded);
    }
}
