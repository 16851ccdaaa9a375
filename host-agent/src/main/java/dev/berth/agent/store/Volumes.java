package dev.berth.agent.store;

import dev.berth.agent.error.AgentException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Named persistent volumes: directories under the state dir that containers mount (a profile's
 * {@code mounts: [{volume: NAME, path: ...}]}) and that outlive them. A volume's users are read from
 * the containers' own configs, so the answer is what is mounted, not what was meant.
 */
public final class Volumes {

    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private final Path dir;
    private final Path lxcpath;

    public Volumes(Path dir, Path lxcpath) {
        this.dir = dir;
        this.lxcpath = lxcpath;
    }

    /** A volume as the API shows it. */
    public record Volume(String name, Instant created, long bytes, List<String> usedBy) {
    }

    public Volume create(String name) {
        check(name);
        Path volume = dir.resolve(name);
        if (Files.exists(volume)) {
            throw new AgentException.Conflict("volume " + name + " exists");
        }
        try {
            Files.createDirectories(volume);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create volume " + name, e);
        }
        return get(name);
    }

    public List<Volume> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var dirs = Files.list(dir)) {
            return dirs.filter(Files::isDirectory).map(d -> get(d.getFileName().toString())).sorted(
                    java.util.Comparator.comparing(Volume::name)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    public Volume get(String name) {
        check(name);
        Path volume = dir.resolve(name);
        if (!Files.isDirectory(volume)) {
            throw new AgentException.NotFound("no volume " + name);
        }
        try (var walk = Files.walk(volume)) {
            long bytes = walk.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .mapToLong(p -> p.toFile().length()).sum();
            Instant created = Files.readAttributes(volume, java.nio.file.attribute.BasicFileAttributes.class).creationTime().toInstant();
            return new Volume(name, created, bytes, usedBy(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read volume " + name, e);
        }
    }

    /** Deletes a volume and its data; refused while any container mounts it. */
    public void delete(String name) {
        Volume volume = get(name);
        if (!volume.usedBy().isEmpty()) {
            throw new AgentException.Conflict("volume " + name + " is mounted by " + volume.usedBy() + "; delete those containers first"
                    + " (the data stays until the volume is deleted)");
        }
        try (var walk = Files.walk(dir.resolve(name))) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete volume " + name, e);
        }
    }

    /** The containers whose config mounts volume {@code name}. */
    public List<String> usedBy(String name) {
        String source = "lxc.mount.entry = " + dir.resolve(name) + " ";
        List<String> users = new ArrayList<>();
        if (!Files.isDirectory(lxcpath)) {
            return users;
        }
        try (var containers = Files.list(lxcpath)) {
            for (Path c : containers.sorted().toList()) {
                Path config = c.resolve("config");
                // an unprivileged container's volumes are staged: their sources are listed beside its config
                Path staged = c.resolve("overlay/binds");
                if (Files.isRegularFile(config) && Files.readAllLines(config).stream().anyMatch(l -> l.startsWith(source))
                        || Files.isRegularFile(staged) && Files.readAllLines(staged).stream().anyMatch(l -> l.endsWith("\t" + dir.resolve(name)))) {
                    users.add(c.getFileName().toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the containers' configs", e);
        }
        return users;
    }

    private static void check(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new AgentException.Invalid("'" + name + "' is not a volume name: lower-case letters, digits and '-', 1-63 characters");
        }
    }
}
