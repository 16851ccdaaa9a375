package dev.berth.agent.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An unprivileged container's root filesystem, mounted by the agent (liblxc's own overlay cannot be
 * id-mapped): the image, shared by every container made from it, as an id-mapped read-only lower
 * ({@code overlay/lower}), the container's own layer as the upper ({@code overlay/delta}, owned by
 * its mapped root, in the same place and format as a privileged container's), a work dir beside it,
 * and the overlay at {@code rootfs}, which the container's config names ({@code dir:}). The image's
 * path is kept in {@code overlay/source}.
 *
 * <p>The mounts exist only for the length of a start: liblxc copies them into the container's own
 * mount namespace, and the agent detaches them from the host's as soon as the container runs, so a
 * running or stopped container leaves nothing mounted on the host. An agent killed inside that
 * window leaves them behind; {@link #strays} finds them at the next start.
 */
final class IdmappedRootfs {

    static final String SOURCE = "overlay/source";
    /** The container's bind mounts staged for its start: one "KEY TAB SOURCE" per line, mounted at {@code binds/KEY}. */
    static final String BINDS = "overlay/binds";

    private IdmappedRootfs() {
    }

    static boolean isIdmapped(Path containerDir) {
        return Files.isRegularFile(containerDir.resolve(SOURCE));
    }

    static Path rootfs(Path containerDir) {
        return containerDir.resolve("rootfs");
    }

    static Path bind(Path containerDir, String key) {
        return containerDir.resolve("binds").resolve(key);
    }

    /** The staged binds: key to host source, in order. */
    static java.util.Map<String, Path> binds(Path containerDir) throws IOException {
        java.util.Map<String, Path> binds = new java.util.LinkedHashMap<>();
        Path file = containerDir.resolve(BINDS);
        if (Files.isRegularFile(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int tab = line.indexOf('\t');
                if (tab > 0) {
                    binds.put(line.substring(0, tab), Path.of(line.substring(tab + 1)));
                }
            }
        }
        return binds;
    }

    /**
     * Records the host directories bind-mounted into the container (volumes, host paths), staged under its own
     * directory: its root reaches {@code binds/KEY} (the container directory lets it through), while the sources
     * may sit in directories only host root may enter (the volumes directory is 0700).
     */
    static void stageBinds(Path containerDir, java.util.Map<String, Path> binds, long shift) throws IOException {
        if (binds.isEmpty()) {
            Files.deleteIfExists(containerDir.resolve(BINDS));
            return;
        }
        StringBuilder text = new StringBuilder();
        binds.forEach((key, source) -> text.append(key).append('\t').append(source.toAbsolutePath()).append('\n'));
        Files.writeString(containerDir.resolve(BINDS), text, StandardCharsets.UTF_8);
        Path dir = Files.createDirectories(containerDir.resolve("binds"));
        Files.setAttribute(dir, "unix:uid", (int) shift);
        Files.setAttribute(dir, "unix:gid", (int) shift);
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("r-x------"));
        for (String key : binds.keySet()) {
            Files.createDirectories(bind(containerDir, key));
        }
    }

    /** Lays out a new container's directories: the upper and work dirs owned by its root ({@code shift}). */
    static void prepare(Path containerDir, Path lower, long shift) throws IOException {
        Path overlay = containerDir.resolve("overlay");
        for (Path dir : List.of(overlay.resolve("delta"), overlay.resolve("work"), overlay.resolve("lower"), rootfs(containerDir))) {
            Files.createDirectories(dir);
        }
        for (Path dir : List.of(overlay.resolve("delta"), overlay.resolve("work"))) {
            Files.setAttribute(dir, "unix:uid", (int) shift);
            Files.setAttribute(dir, "unix:gid", (int) shift);
        }
        Files.writeString(containerDir.resolve(SOURCE), lower.toAbsolutePath() + "\n", StandardCharsets.UTF_8);
    }

    /** Mounts the rootfs for a start: the image id-mapped by {@code usernsFd} under the container's layer. */
    static void mount(Path containerDir, int usernsFd) throws IOException {
        Path overlay = containerDir.resolve("overlay");
        String source = Files.readString(containerDir.resolve(SOURCE), StandardCharsets.UTF_8).strip();
        Path lower = overlay.resolve("lower");
        detach(containerDir); // a mount left by an agent killed mid-start
        // the upper's owner is the container's root: a work dir left by a crash is emptied by overlay itself
        int tree = Mounts.openTreeClone(source);
        try {
            Mounts.idmapReadOnly(tree, usernsFd, source);
            Mounts.moveMount(tree, lower.toString());
        } finally {
            Mounts.close(tree);
        }
        try {
            Mounts.overlay(rootfs(containerDir).toString(), lower.toString(), overlay.resolve("delta").toString(),
                    overlay.resolve("work").toString());
            for (var bind : binds(containerDir).entrySet()) {
                Mounts.bind(bind.getValue().toString(), bind(containerDir, bind.getKey()).toString());
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                detach(containerDir); // never leave the image mounted where a delete of the directory would walk into it
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Detaches the rootfs and the id-mapped image from the host (a running container keeps its own copy). */
    static boolean detach(Path containerDir) throws IOException {
        boolean any = false;
        for (String key : binds(containerDir).keySet()) {
            any |= Mounts.detach(bind(containerDir, key).toString());
        }
        any |= Mounts.detach(rootfs(containerDir).toString());
        return Mounts.detach(containerDir.resolve("overlay/lower").toString()) || any;
    }

    /** The containers under {@code lxcpath} with a rootfs or image mount on the host, from /proc/self/mountinfo. */
    static List<Path> strays(Path lxcpath) throws IOException {
        List<Path> dirs = new ArrayList<>();
        String prefix = lxcpath.toAbsolutePath().normalize() + "/";
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            if (fields.length < 5) {
                continue;
            }
            String point = fields[4].replace("\\040", " ");
            if (!point.startsWith(prefix)) {
                continue;
            }
            Path p = Path.of(point);
            Path dir = p.endsWith("rootfs") ? p.getParent() : p.endsWith("overlay/lower") ? p.getParent().getParent()
                    : p.getParent() != null && p.getParent().endsWith("binds") ? p.getParent().getParent() : null;
            if (dir != null && dir.getParent().equals(lxcpath.toAbsolutePath().normalize()) && !dirs.contains(dir)) {
                dirs.add(dir);
            }
        }
        return dirs;
    }
}
