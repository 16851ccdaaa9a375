package dev.berth.agent.container;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Moves a container layer's owners from one id range to another (a copy of an unprivileged container
 * gets a range of its own): every uid and gid inside {@code [from, from + size)} becomes the same
 * offset from {@code to}; ids outside the range (a privileged layer's, or ones the container could
 * not map) are left as they are. Symbolic links are changed themselves, never followed. A chown drops
 * setuid and setgid bits, so a file's mode is put back after it.
 *
 * <p>Not carried over yet: file capabilities ({@code security.capability}) and POSIX ACL entries that
 * name ids; a copied file with either keeps its bits but loses those entries' meaning.
 */
final class IdShift {

    private IdShift() {
    }

    static void reshift(Path tree, long from, long to, long size) throws IOException {
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                shift(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                shift(file);
                return FileVisitResult.CONTINUE;
            }

            private void shift(Path p) throws IOException {
                int uid = (int) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                int gid = (int) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
                long newUid = moved(uid, from, to, size);
                long newGid = moved(gid, from, to, size);
                if (newUid == uid && newGid == gid) {
                    return;
                }
                boolean link = Files.isSymbolicLink(p);
                int mode = link ? 0 : (int) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:uid", (int) newUid, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", (int) newGid, LinkOption.NOFOLLOW_LINKS);
                if (!link && (mode & 06000) != 0) {
                    Files.setAttribute(p, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
                }
            }
        });
    }

    static long moved(long id, long from, long to, long size) {
        return id >= from && id < from + size ? id - from + to : id;
    }
}
