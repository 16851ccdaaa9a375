package dev.berth.agent.files;

import dev.berth.agent.error.AgentException;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A running container's root filesystem as the host sees it ({@code /proc/<init pid>/root}, its own
 * mounts included), with every path resolved by the kernel under that root: {@code openat2} with
 * {@code RESOLVE_BENEATH} refuses a path that would leave it through {@code ..} or a symlink (an
 * absolute one, or one climbing above the root), so that nothing a container's owner puts in its
 * files can make the agent touch the host's. The final component of a write is never followed.
 *
 * <p>Owners are given as the container sees them and shifted by {@code idShift} (the start of an
 * unprivileged container's idmap; 0 for a privileged one).
 */
public final class ContainerRoot implements AutoCloseable {

    private static final long RESOLVE = Native.RESOLVE_BENEATH | Native.RESOLVE_NO_MAGICLINKS;
    static final int MAX_DEPTH = 64;

    private final int rootFd;
    private final String container;
    private final int idShift;

    private ContainerRoot(int rootFd, String container, int idShift) {
        this.rootFd = rootFd;
        this.container = container;
        this.idShift = idShift;
    }

    /** The root of the container whose init is {@code initPid}. */
    public static ContainerRoot ofProcess(String container, int initPid, int idShift) {
        return of(container, Path.of("/proc/" + initPid + "/root"), idShift);
    }

    /** A host directory taken as a container's root (a stopped container's rootfs, a volume). */
    public static ContainerRoot of(String container, Path root, int idShift) {
        int fd = Native.open(root.toString(), Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC);
        if (fd < 0) {
            throw new AgentException.NotFound("cannot open the root of " + container + " (" + root + "): errno " + -fd
                    + "; is it running?");
        }
        return new ContainerRoot(fd, container, idShift);
    }

    /** What is at a path. */
    public record Stat(Tar.Type type, int mode, int uid, int gid, long size, long mtime, String linkTarget) {
    }

    /** Follows symlinks inside the root to what {@code path} names. */
    public Stat stat(String path) {
        int fd = resolve(path, Native.O_PATH | Native.O_CLOEXEC);
        try {
            return statOf(proc(fd), path, false); // the descriptor's magic link is followed to what it resolved
        } finally {
            Native.close(fd);
        }
    }

    /** A regular file's content; the caller closes the stream. */
    public InputStream read(String path) {
        int fd = resolve(path, Native.O_PATH | Native.O_CLOEXEC); // O_PATH: a FIFO must not block the open
        try {
            Path p = proc(fd);
            if (!Files.isRegularFile(p)) {
                throw new AgentException.Invalid(describe(path) + " is a directory or special file: pull a directory as an archive");
            }
            return new FileInputStream(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            Native.close(fd);
        }
    }

    /**
     * Replaces (or creates) a regular file with {@code content}: written beside it and renamed over
     * it, so readers see the old or the new file whole. A symlink at {@code path} is replaced, not
     * followed. Missing parent directories are an error.
     */
    public void write(String path, InputStream content, int mode, int uid, int gid) {
        String[] split = parentAndName(path);
        int dir = resolve(split[0], Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC);
        try {
            writeIn(dir, split[0], split[1], content, mode, uid, gid);
        } finally {
            Native.close(dir);
        }
    }

    private void writeIn(int dir, String dirPath, String name, InputStream content, int mode, int uid, int gid) {
        String temp = ".berth-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp";
        int fd = Native.openat2(dir, temp, Native.O_WRONLY | Native.O_CREAT | Native.O_EXCL | Native.O_NOFOLLOW | Native.O_CLOEXEC,
                mode & 07777, RESOLVE);
        check(fd, dirPath + "/" + name);
        boolean done = false;
        try {
            try (OutputStream out = new FileOutputStream(proc(fd).toFile())) {
                content.transferTo(out);
            }
            check(Native.fchownat(fd, "", shift(uid), shift(gid), Native.AT_EMPTY_PATH), dirPath + "/" + name);
            check(Native.fchmod(fd, mode & 07777), dirPath + "/" + name); // after chown, which clears set-id bits
            int rc = Native.renameat(dir, temp, dir, name);
            if (rc == -Native.EISDIR || rc == -21 || rc == -39) {
                throw new AgentException.Invalid(describe(dirPath + "/" + name) + " is a directory; push a directory as an archive");
            }
            check(rc, dirPath + "/" + name);
            done = true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + describe(dirPath + "/" + name) + ": " + e.getMessage(), e);
        } finally {
            Native.close(fd);
            if (!done) {
                Native.unlinkat(dir, temp, 0);
            }
        }
    }

    /**
     * Points symlink {@code path} at {@code target} (a relative target stays inside the root): made
     * beside it and renamed over it, so that a reader sees the old or the new link, never none.
     */
    public void symlink(String path, String target, int uid, int gid) {
        String[] split = parentAndName(path);
        int dir = resolve(split[0], Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC);
        try {
            String temp = ".berth-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp";
            check(Native.symlinkat(target, dir, temp), path);
            Native.fchownat(dir, temp, shift(uid), shift(gid), Native.AT_SYMLINK_NOFOLLOW);
            int rc = Native.renameat(dir, temp, dir, split[1]);
            if (rc != 0) {
                Native.unlinkat(dir, temp, 0);
            }
            check(rc, path);
        } finally {
            Native.close(dir);
        }
    }

    /** Where symlink {@code path} points (its target as written), or null when {@code path} is no symlink. */
    public String readLink(String path) {
        String[] split = parentAndName(path);
        int dir;
        try {
            dir = resolve(split[0], Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC);
        } catch (AgentException.NotFound e) {
            return null;
        }
        try {
            Path link = proc(dir).resolve(split[1]);
            return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).toString() : null;
        } catch (IOException e) {
            return null;
        } finally {
            Native.close(dir);
        }
    }

    /** Deletes {@code path} (a file, a link or a whole directory tree), following no symlink; nothing there is no error. */
    public void delete(String path) {
        String[] split = parentAndName(path);
        int dir = resolve(split[0], Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC);
        try {
            removeTree(proc(dir).resolve(split[1]));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + describe(path) + ": " + e.getMessage(), e);
        } finally {
            Native.close(dir);
        }
    }

    /** The names in directory {@code path} (empty when there is no such directory). */
    public List<String> list(String path) {
        int dir;
        try {
            dir = resolve(path, Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC);
        } catch (AgentException.NotFound e) {
            return List.of();
        }
        try (var names = Files.list(proc(dir))) {
            return names.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + describe(path) + ": " + e.getMessage(), e);
        } finally {
            Native.close(dir);
        }
    }

    /** Creates directory {@code path} and its missing parents (each with {@code mode}, {@code uid}, {@code gid}). */
    public void mkdirs(String path, int mode, int uid, int gid) {
        List<String> parts = parts(path);
        int dir = dup();
        try {
            StringBuilder walked = new StringBuilder();
            for (String part : parts) {
                walked.append('/').append(part);
                directory(dir, part, walked.toString(), mode, uid, gid, false);
                int next = Native.openat2(dir, part, Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC, 0, RESOLVE);
                if (next == -Native.ENOTDIR) {
                    throw new AgentException.Invalid(describe(walked.toString()) + " exists and is not a directory");
                }
                check(next, walked.toString());
                Native.close(dir);
                dir = next;
            }
        } finally {
            Native.close(dir);
        }
    }

    /**
     * Writes directory {@code path}'s tree (not following symlinks) as a tar stream, names relative to it.
     */
    public void archive(String path, OutputStream out) {
        RootArchive.write(this, path, out);
    }

    /**
     * Unpacks a tar stream into directory {@code path} (made if missing). Every entry is resolved
     * under that directory: an entry named with {@code ..} or an absolute path, or one that would be
     * reached through a symlink leading out (even one the archive itself made), is refused.
     *
     * @return the number of entries written
     */
    public int extract(String path, InputStream in, int uid, int gid) {
        return extract(path, in, uid, gid, false);
    }

    /**
     * Applies an OCI image layer (a tar stream) to directory {@code path}, as {@link #extract} does,
     * with the layer rules on top: a whiteout ({@code .wh.NAME}) deletes NAME from what the layers
     * below made, an opaque marker ({@code .wh..wh..opq}) empties its directory, an entry replaces
     * whatever is at its name (a file where a directory was, and the reverse), and hard links are
     * made (their targets resolved under {@code path} too). Devices and fifos are not made.
     */
    public int extractLayer(String path, InputStream in) {
        return extract(path, in, 0, 0, true);
    }

    private int extract(String path, InputStream in, int uid, int gid, boolean layer) {
        mkdirs(path, 0755, uid, gid);
        int target = resolve(path, Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC);
        int count = 0;
        try {
            Tar.Reader tar = new Tar.Reader(in);
            for (Tar.Entry entry = tar.next(); entry != null; entry = tar.next()) {
                if (entry.name().isEmpty() || entry.name().equals(".")) {
                    continue;
                }
                String name = entry.name();
                if (name.startsWith("/") || parts(name).contains("..") || name.contains("\0")) {
                    throw new AgentException.Forbidden("archive entry " + name + " points outside " + describe(path) + ": refused");
                }
                String[] split = parentAndName(name);
                int dir = split[0].isEmpty() ? Native.openat2(target, ".", Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC, 0, RESOLVE)
                        : Native.openat2(target, split[0], Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC, 0, RESOLVE);
                check(dir, path + "/" + split[0]);
                try {
                    if (layer && split[1].startsWith(".wh.")) {
                        if (split[1].equals(".wh..wh..opq")) {
                            try (var children = Files.list(proc(dir))) {
                                for (Path child : children.toList()) {
                                    removeTree(child);
                                }
                            }
                        } else {
                            removeTree(proc(dir).resolve(split[1].substring(4)));
                        }
                        continue;
                    }
                    if (layer) {
                        replace(dir, split[1], entry.type());
                    }
                    switch (entry.type()) {
                        case DIRECTORY -> directory(dir, split[1], path + "/" + name, entry.mode(), entry.uid(), entry.gid(), true);
                        case FILE -> writeIn(dir, path + "/" + split[0], split[1], tar.data(), entry.mode(), entry.uid(), entry.gid());
                        case SYMLINK -> {
                            Native.unlinkat(dir, split[1], 0);
                            check(Native.symlinkat(entry.linkTarget(), dir, split[1]), path + "/" + name);
                            Native.fchownat(dir, split[1], shift(entry.uid()), shift(entry.gid()), Native.AT_SYMLINK_NOFOLLOW);
                        }
                        case HARDLINK -> {
                            if (!layer) {
                                continue; // not carried by file pushes
                            }
                            List<String> linkParts = parts(entry.linkTarget());
                            int existing = Native.openat2(target, String.join("/", linkParts), Native.O_PATH | Native.O_NOFOLLOW
                                    | Native.O_CLOEXEC, 0, RESOLVE);
                            check(existing, path + "/" + entry.linkTarget());
                            try {
                                check(Native.linkat(existing, "", dir, split[1], Native.AT_EMPTY_PATH), path + "/" + name);
                            } finally {
                                Native.close(existing);
                            }
                        }
                        case OTHER -> {
                            continue; // devices, fifos: not carried
                        }
                    }
                    count++;
                } finally {
                    Native.close(dir);
                }
            }
            return count;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the archive into " + describe(path) + ": " + e.getMessage(), e);
        } finally {
            Native.close(target);
        }
    }

    /** Clears the way for a layer entry of {@code type} at {@code name}: what is there goes unless both are directories. */
    private void replace(int dir, String name, Tar.Type type) throws IOException {
        Path at = proc(dir).resolve(name);
        if (!Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (type == Tar.Type.DIRECTORY && Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        removeTree(at);
    }

    /** Deletes a file, link or directory tree, never following a symlink. */
    private static void removeTree(Path at) throws IOException {
        if (!Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) {
            try (var walk = Files.walk(at)) { // walk follows no links
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        } else {
            Files.delete(at);
        }
    }

    /**
     * Makes directory {@code name} in {@code dir} with {@code mode} and owner; one that exists keeps
     * its own mode and owner unless {@code always}. Never follows a symlink at {@code name}.
     */
    private void directory(int dir, String name, String path, int mode, int uid, int gid, boolean always) {
        int rc = Native.mkdirat(dir, name, mode & 07777);
        if (rc != 0 && rc != -Native.EEXIST) {
            check(rc, path);
        }
        if (rc == 0 || always) {
            int made = Native.openat2(dir, name, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_NOFOLLOW | Native.O_CLOEXEC, 0, RESOLVE);
            check(made, path);
            Native.fchownat(made, "", shift(uid), shift(gid), Native.AT_EMPTY_PATH);
            Native.fchmod(made, mode & 07777);
            Native.close(made);
        }
    }

    Stat statOf(Path p, String path, boolean noFollow) {
        try {
            Map<String, Object> a = noFollow
                    ? Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime,isDirectory,isRegularFile,isSymbolicLink",
                    LinkOption.NOFOLLOW_LINKS)
                    : Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime,isDirectory,isRegularFile,isSymbolicLink");
            Tar.Type type = (Boolean) a.get("isDirectory") ? Tar.Type.DIRECTORY : (Boolean) a.get("isRegularFile") ? Tar.Type.FILE
                    : (Boolean) a.get("isSymbolicLink") ? Tar.Type.SYMLINK : Tar.Type.OTHER;
            return new Stat(type, (Integer) a.get("mode") & 07777, unshift((Integer) a.get("uid")), unshift((Integer) a.get("gid")),
                    type == Tar.Type.FILE ? (Long) a.get("size") : 0,
                    ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toMillis() / 1000,
                    type == Tar.Type.SYMLINK ? Files.readSymbolicLink(p).toString() : null);
        } catch (IOException e) {
            throw new AgentException.NotFound("cannot read " + describe(path) + ": " + e.getMessage());
        }
    }

    int resolve(String path, int flags) {
        // "" is the root itself: the parent of a top-level path such as /atroot
        List<String> parts = path.isEmpty() ? List.of() : parts(path);
        String relative = parts.isEmpty() ? "." : String.join("/", parts);
        int fd = Native.openat2(rootFd, relative, flags, 0, RESOLVE);
        check(fd, path);
        return fd;
    }

    private void check(int rc, String path) {
        if (rc >= 0) {
            return;
        }
        switch (-rc) {
            case Native.ENOENT -> throw new AgentException.NotFound("no " + describe(path));
            case Native.EXDEV -> throw new AgentException.Forbidden(describe(path)
                    + " leads outside the container's root (through '..' or an absolute or climbing symlink): refused;"
                    + " name the path the link points to instead");
            case Native.ELOOP -> throw new AgentException.Forbidden(describe(path) + " is a symlink (or too many): refused");
            case Native.ENOTDIR -> throw new AgentException.Invalid("a part of " + describe(path) + " is not a directory");
            default -> throw new AgentException.Invalid("cannot use " + describe(path) + ": errno " + -rc);
        }
    }

    /** The path's parts, after checking it: absolute, no NUL, no {@code ..}. */
    static List<String> parts(String path) {
        if (path == null || path.isEmpty()) {
            throw new AgentException.Invalid("a path inside the container is required, for example /etc/hosts");
        }
        if (path.indexOf('\0') >= 0 || path.length() > 4096) {
            throw new AgentException.Invalid("not a usable path: " + path.length() + " characters or a NUL byte");
        }
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new AgentException.Forbidden("path " + path + " contains '..': refused; name the path inside the container directly");
            }
            parts.add(part);
        }
        return parts;
    }

    private static String[] parentAndName(String path) {
        List<String> parts = parts(path);
        if (parts.isEmpty()) {
            throw new AgentException.Invalid("the container's root directory is not a file");
        }
        return new String[] {String.join("/", parts.subList(0, parts.size() - 1)), parts.getLast()};
    }

    private int dup() {
        int fd = Native.openat2(rootFd, ".", Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC, 0, RESOLVE);
        check(fd, "/");
        return fd;
    }

    private int shift(int id) {
        return id < 0 ? -1 : id + idShift;
    }

    private int unshift(int id) {
        return id >= idShift ? id - idShift : id;
    }

    private String describe(String path) {
        return (path.startsWith("/") ? path : "/" + path) + " in " + container;
    }

    static Path proc(int fd) {
        return Path.of("/proc/self/fd/" + fd);
    }

    @Override
    public void close() {
        Native.close(rootFd);
    }
}
