package dev.berth.agent.instance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The files of a container's snapshots. A container's own writes live in its overlay layer
 * ({@code overlay/delta}, over the shared image); a snapshot is a copy of that layer and of the
 * container's config and record, under {@code snapshots/<name>/} in the container's directory
 * (so they go when the container goes). Copies use reflinks where the filesystem has them
 * ({@code cp --reflink=auto}): copy-on-write on btrfs and XFS, a plain copy elsewhere.
 */
final class Snapshots {

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    static final String DIR = "snapshots";

    /** Called between the steps of a restore; tests make it fail to check the rollback. */
    static volatile Runnable afterRestoreCopy = () -> { };

    private Snapshots() {
    }

    /** A snapshot as listed. */
    record Info(String name, Instant created, long bytes) {
    }

    static Path dir(Path containerDir, String snapshot) {
        if (!NAME.matcher(snapshot).matches()) {
            throw new InstanceException.Invalid("'" + snapshot + "' is not a snapshot name: letters, digits, '.', '_', '-' (at most 63),"
                    + " starting with a letter or digit");
        }
        return containerDir.resolve(DIR).resolve(snapshot);
    }

    static Path delta(Path containerDir) {
        return containerDir.resolve("overlay").resolve("delta");
    }

    /** Copies the container's layer, config and record as snapshot {@code name} (the container is stopped or frozen). */
    static Info take(Path containerDir, String name) {
        Path target = dir(containerDir, name);
        if (Files.exists(target)) {
            throw new InstanceException.Conflict("snapshot " + name + " exists; delete it first or pick another name");
        }
        Path partial = target.resolveSibling("." + name + ".partial");
        try {
            deleteTree(partial);
            Files.createDirectories(partial);
            copyTree(delta(containerDir), partial.resolve("delta"));
            Files.copy(containerDir.resolve("config"), partial.resolve("config"));
            if (Files.exists(containerDir.resolve(Instances.RECORD))) {
                Files.copy(containerDir.resolve(Instances.RECORD), partial.resolve(Instances.RECORD));
            }
            Instant created = Instant.now();
            Files.writeString(partial.resolve("created"), created.toString());
            Files.move(partial, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return new Info(name, created, size(target.resolve("delta")));
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(partial);
            } catch (IOException ignored) {
                // best effort
            }
            throw e instanceof RuntimeException r ? r : new UncheckedIOException("cannot snapshot: " + e.getMessage(), (IOException) e);
        }
    }

    static List<Info> list(Path containerDir) {
        Path root = containerDir.resolve(DIR);
        List<Info> all = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return all;
        }
        try (var dirs = Files.list(root)) {
            for (Path d : dirs.filter(d -> !d.getFileName().toString().startsWith(".")).sorted().toList()) {
                Instant created = Instant.parse(Files.readString(d.resolve("created"), StandardCharsets.UTF_8).strip());
                all.add(new Info(d.getFileName().toString(), created, size(d.resolve("delta"))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the snapshots in " + root, e);
        }
        all.sort(java.util.Comparator.comparing(Info::created));
        return all;
    }

    /**
     * Puts snapshot {@code name}'s layer and config in place of the container's (stopped). All or
     * nothing: the current layer is set aside first and put back if any step fails.
     */
    static void restore(Path containerDir, String name) {
        Path snapshot = dir(containerDir, name);
        if (!Files.isDirectory(snapshot)) {
            throw new InstanceException.NotFound("no snapshot " + name + " of " + containerDir.getFileName());
        }
        Path delta = delta(containerDir);
        Path aside = delta.resolveSibling("delta.before-restore");
        Path config = containerDir.resolve("config");
        Path configAside = containerDir.resolve("config.before-restore");
        try {
            deleteTree(aside);
            Files.move(delta, aside);
            Files.copy(config, configAside, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try {
                copyTree(snapshot.resolve("delta"), delta);
                afterRestoreCopy.run();
                Files.copy(snapshot.resolve("config"), config, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException | RuntimeException e) {
                deleteTree(delta);
                Files.move(aside, delta);
                Files.move(configAside, config, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                throw e;
            }
            deleteTree(aside);
            Files.deleteIfExists(configAside);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore snapshot " + name + ": " + e.getMessage()
                    + "; the container is as it was", e);
        }
    }

    static void delete(Path containerDir, String name) {
        Path snapshot = dir(containerDir, name);
        if (!Files.isDirectory(snapshot)) {
            throw new InstanceException.NotFound("no snapshot " + name + " of " + containerDir.getFileName());
        }
        try {
            deleteTree(snapshot);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete snapshot " + name, e);
        }
    }

    /** {@code cp -a --reflink=auto}: keeps owners, modes, xattrs (overlayfs's opaque markers) and whiteout devices. */
    static void copyTree(Path from, Path to) throws IOException {
        Process cp = new ProcessBuilder("cp", "-a", "--reflink=auto", "--no-target-directory", from.toString(), to.toString())
                .redirectErrorStream(true).start();
        String out = new String(cp.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (cp.waitFor() != 0) {
                throw new IOException("cp failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cp.destroyForcibly();
            throw new IOException("interrupted while copying " + from);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static long size(Path dir) {
        try (var walk = Files.walk(dir)) {
            return walk.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            return -1;
        }
    }
}
