package dev.berth.agent.files;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** A directory of a container's root written as a tar stream: {@link ContainerRoot#archive}. */
final class RootArchive {

    private RootArchive() {
    }

    /**
     * Writes directory {@code path}'s tree under {@code root} (not following symlinks, one filesystem)
     * as a tar stream, names relative to it.
     */
    static void write(ContainerRoot root, String path, OutputStream out) {
        int fd = root.resolve(path, Native.O_PATH | Native.O_DIRECTORY | Native.O_CLOEXEC);
        try {
            Path base = ContainerRoot.proc(fd).resolve("."); // "." so that the walk enters the descriptor's directory
            Tar.Writer tar = new Tar.Writer(out);
            // One filesystem, as tar --one-file-system: a pull of / does not walk into /proc, /sys or /dev.
            Object device = Files.getAttribute(base, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            Files.walkFileTree(base, java.util.EnumSet.noneOf(java.nio.file.FileVisitOption.class), ContainerRoot.MAX_DEPTH,
                    new java.nio.file.SimpleFileVisitor<>() {
                        @Override
                        public java.nio.file.FileVisitResult preVisitDirectory(Path dir, java.nio.file.attribute.BasicFileAttributes a)
                                throws IOException {
                            if (!dir.equals(base) && !device.equals(Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS))) {
                                return java.nio.file.FileVisitResult.SKIP_SUBTREE;
                            }
                            add(dir);
                            return java.nio.file.FileVisitResult.CONTINUE;
                        }

                        @Override
                        public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a)
                                throws IOException {
                            add(file);
                            return java.nio.file.FileVisitResult.CONTINUE;
                        }

                        private void add(Path p) throws IOException {
                            if (p.equals(base)) {
                                return;
                            }
                            String name = base.relativize(p).toString();
                            ContainerRoot.Stat stat = root.statOf(p, path + "/" + name, true);
                            Tar.Entry entry = new Tar.Entry(name, stat.type(), stat.mode(), stat.uid(), stat.gid(), stat.size(),
                                    stat.mtime(), stat.linkTarget());
                            if (stat.type() == Tar.Type.FILE) {
                                try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                                    tar.add(entry, in);
                                }
                            } else if (stat.type() != Tar.Type.OTHER) {
                                tar.add(entry, InputStream.nullInputStream());
                            }
                        }
                    });
            tar.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            Native.close(fd);
        }
    }
}
