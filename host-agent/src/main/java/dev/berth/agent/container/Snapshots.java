package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
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
        checkName(snapshot);
        return containerDir.resolve(DIR).resolve(snapshot);
    }

    /** @throws AgentException.Invalid unless {@code snapshot} is a snapshot name */
    static void checkName(String snapshot) {
        if (!NAME.matcher(snapshot).matches()) {
            throw new AgentException.Invalid("'" + snapshot + "' is not a snapshot name: letters, digits, '.', '_', '-' (at most 63),"
                    + " starting with a letter or digit");
        }
    }

    static Path delta(Path containerDir) {
        return containerDir.resolve("overlay").resolve("delta");
    }

    /** Copies the container's layer, config and record as snapshot {@code name} (the container is stopped or frozen). */
    static Info take(Path containerDir, String name) {
        Path target = dir(containerDir, name);
        if (Files.exists(target)) {
            throw new AgentException.Conflict("snapshot " + name + " exists; delete it first or pick another name");
        }
        Path partial = target.resolveSibling("." + name + ".partial");
        try {
            deleteTree(partial);
            Files.createDirectories(partial);
            copyTree(delta(containerDir), partial.resolve("delta"));
            Files.copy(containerDir.resolve("config"), partial.resolve("config"));
            if (Files.exists(containerDir.resolve(ContainerRecords.FILE))) {
                Files.copy(containerDir.resolve(ContainerRecords.FILE), partial.resolve(ContainerRecords.FILE));
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

    /** A restore under way, on disk in the container's directory until it has finished. */
    record RestoreIntent(String snapshot, boolean wasRunning, Phase phase) {
        enum Phase { COPYING, SWITCHING }
    }

    static final String RESTORE_INTENT = "restore.json";
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;

    /**
     * Records that snapshot {@code name} is about to be restored over the container, before anything
     * is touched, so that an agent killed at any later step finishes or undoes it on its next start
     * ({@link #recoverRestore}) and starts the container again if it was running.
     */
    static void beginRestore(Path containerDir, String name, boolean wasRunning) {
        if (!Files.isDirectory(dir(containerDir, name))) {
            throw new AgentException.NotFound("no snapshot " + name + " of " + containerDir.getFileName());
        }
        writeIntent(containerDir, new RestoreIntent(name, wasRunning, RestoreIntent.Phase.COPYING));
    }

    /**
     * Puts snapshot {@code name}'s layer and config in place of the container's (stopped), after
     * {@link #beginRestore}. The snapshot is copied beside the current layer first (the slow step:
     * the current layer is untouched until the copy is whole); then the intent says "switching" and
     * two renames put the copy in place. A failure while copying leaves the container as it was.
     */
    static void restore(Path containerDir, String name) {
        Path snapshot = dir(containerDir, name);
        Path delta = delta(containerDir);
        Path staged = delta.resolveSibling("delta.restoring");
        Path stagedConfig = containerDir.resolve("config.restoring");
        RestoreIntent intent = readIntent(containerDir);
        try {
            try {
                deleteTree(staged);
                copyTree(snapshot.resolve("delta"), staged);
                Files.copy(snapshot.resolve("config"), stagedConfig, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                afterRestoreCopy.run();
                Failpoints.hit("restore-after-copy");
            } catch (IOException | RuntimeException e) {
                deleteTree(staged);
                Files.deleteIfExists(stagedConfig);
                throw e;
            }
            writeIntent(containerDir, new RestoreIntent(name, intent.wasRunning(), RestoreIntent.Phase.SWITCHING));
            switchTo(containerDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore snapshot " + name + ": " + e.getMessage()
                    + "; the container is as it was", e);
        }
    }

    /** The restore is over (the container is started again if it was running): the intent goes. */
    static void endRestore(Path containerDir) throws IOException {
        Files.deleteIfExists(containerDir.resolve(RESTORE_INTENT));
    }

    /**
     * After a crash: a restore killed while copying is undone (the staged copy deleted, the layer was
     * never touched); one killed while switching is finished. Every step is idempotent, so a crash
     * during recovery is recovered the same way.
     *
     * @return the intent found (what was done is in its phase), or null if no restore was under way
     */
    static RestoreIntent recoverRestore(Path containerDir) throws IOException {
        if (!Files.exists(containerDir.resolve(RESTORE_INTENT))) {
            return null;
        }
        RestoreIntent intent;
        try {
            intent = readIntent(containerDir);
        } catch (UncheckedIOException e) {
            // Torn before its first write completed: nothing had been touched yet.
            intent = new RestoreIntent("?", false, RestoreIntent.Phase.COPYING);
        }
        if (intent.phase() == RestoreIntent.Phase.COPYING) {
            deleteTree(delta(containerDir).resolveSibling("delta.restoring"));
            Files.deleteIfExists(containerDir.resolve("config.restoring"));
        } else {
            switchTo(containerDir);
        }
        return intent;
    }

    /** The staged layer and config in place of the container's; each step safe to repeat. */
    private static void switchTo(Path containerDir) throws IOException {
        Path delta = delta(containerDir);
        Path staged = delta.resolveSibling("delta.restoring");
        Path replaced = delta.resolveSibling("delta.replaced");
        Path stagedConfig = containerDir.resolve("config.restoring");
        if (Files.exists(staged)) {
            if (Files.exists(delta)) {
                deleteTree(replaced);
                Files.move(delta, replaced);
            }
            Failpoints.hit("restore-layer-aside");
            Files.move(staged, delta);
        }
        if (Files.exists(stagedConfig)) {
            Files.move(stagedConfig, containerDir.resolve("config"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        deleteTree(replaced);
    }

    private static void writeIntent(Path containerDir, RestoreIntent intent) {
        Path file = containerDir.resolve(RESTORE_INTENT);
        Path tmp = containerDir.resolve(RESTORE_INTENT + ".tmp");
        try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            out.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(intent)));
            out.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the restore's intent in " + containerDir, e);
        }
        try {
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the restore's intent in " + containerDir, e);
        }
    }

    private static RestoreIntent readIntent(Path containerDir) {
        try {
            return JSON.readValue(containerDir.resolve(RESTORE_INTENT).toFile(), RestoreIntent.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the restore's intent in " + containerDir, e);
        }
    }

    static void delete(Path containerDir, String name) {
        Path snapshot = dir(containerDir, name);
        if (!Files.isDirectory(snapshot)) {
            throw new AgentException.NotFound("no snapshot " + name + " of " + containerDir.getFileName());
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

    /**
     * Deletes {@code dir} and everything in it, on its own filesystem only: a directory below it with
     * something mounted on it (an image mounted for a start, a host path) is an error, never walked into.
     */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object device = Files.getAttribute(dir, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        java.util.Set<String> mounted = mountPointsUnder(dir);
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult preVisitDirectory(Path d, java.nio.file.attribute.BasicFileAttributes attrs)
                    throws IOException {
                if (!device.equals(Files.getAttribute(d, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS))
                        || mounted.contains(d.toAbsolutePath().normalize().toString())) {
                    throw new IOException(d + " has a filesystem mounted on it: not deleting through it (unmount it first)");
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(f);
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
    }

    /** Mount points at or below {@code dir}: a bind or id-mapped mount of the same filesystem keeps its device number. */
    private static java.util.Set<String> mountPointsUnder(Path dir) throws IOException {
        String root = dir.toAbsolutePath().normalize().toString();
        try (var lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
            return lines.map(l -> l.split(" ", 6)).filter(f -> f.length > 4).map(f -> f[4].replace("\\040", " "))
                    .filter(p -> p.equals(root) || p.startsWith(root + "/")).collect(java.util.stream.Collectors.toSet());
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
