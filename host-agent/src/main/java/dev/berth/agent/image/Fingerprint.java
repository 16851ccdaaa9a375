package dev.berth.agent.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The fingerprint of a root filesystem: sha256 of its canonical form, every entry in byte order of
 * its path with its type, mode, owner, size, link target and content, and no times. The same tree
 * gives the same fingerprint wherever and whenever it was built; any change to a file, a mode or an
 * owner gives another.
 */
public final class Fingerprint {

    private Fingerprint() {
    }

    public static String of(Path rootfs) {
        MessageDigest sha = sha256();
        List<Path> entries;
        try (Stream<Path> walk = Files.walk(rootfs)) {
            entries = walk.filter(p -> !p.equals(rootfs)).sorted((a, b) -> compareBytes(rel(rootfs, a), rel(rootfs, b))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + rootfs, e);
        }
        byte[] buffer = new byte[64 * 1024];
        for (Path entry : entries) {
            try {
                PosixFileAttributes attrs = Files.readAttributes(entry, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                char type = attrs.isSymbolicLink() ? 'l' : attrs.isDirectory() ? 'd' : attrs.isRegularFile() ? 'f' : 'o';
                int uid = (Integer) Files.getAttribute(entry, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                int gid = (Integer) Files.getAttribute(entry, "unix:gid", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) Files.getAttribute(entry, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
                String link = attrs.isSymbolicLink() ? Files.readSymbolicLink(entry).toString() : "";
                long size = attrs.isRegularFile() ? attrs.size() : 0;
                String header = type + "\0" + rel(rootfs, entry) + "\0" + Integer.toOctalString(mode) + "\0" + uid + "\0" + gid
                        + "\0" + size + "\0" + link + "\0";
                sha.update(header.getBytes(StandardCharsets.UTF_8));
                if (attrs.isRegularFile()) {
                    try (InputStream in = Files.newInputStream(entry)) {
                        for (int n; (n = in.read(buffer)) > 0; ) {
                            sha.update(buffer, 0, n);
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + entry, e);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String rel(Path root, Path entry) {
        return root.relativize(entry).toString();
    }

    private static int compareBytes(String a, String b) {
        return java.util.Arrays.compare(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
