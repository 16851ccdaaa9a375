package dev.berth.agent.oci;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.files.Tar;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Reads an image's layers in order, as they will be unpacked, and refuses any entry that would land
 * outside the image's root: an absolute name or one that climbs ({@code ..}), a hard link to such a
 * name, and any entry written through a symbolic link an earlier entry made (the way a layer that
 * makes {@code etc -> /host/etc} and then writes {@code etc/passwd} reaches outside). Whiteouts
 * and opaque directories are applied to what it knows, as unpacking will apply them. Returns each
 * layer's diff id: the sha256 of its uncompressed tar.
 */
final class LayerCheck {

    /** The symbolic links the layers so far leave, by path. */
    private final Map<String, String> symlinks = new HashMap<>();

    String scan(Path blob, String mediaType, String digest) throws IOException {
        MessageDigest sha = AppImageStore.digester();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(blob), 64 * 1024);
             InputStream plain = readingSkips(new DigestInputStream(AppImageStore.layerStream(raw, mediaType, digest), sha))) {
            Tar.Reader tar = new Tar.Reader(plain);
            for (Tar.Entry entry; (entry = tar.next()) != null; ) {
                check(entry, digest);
            }
            plain.transferTo(OutputStream.nullOutputStream()); // the end blocks count in the diff id
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new AgentException.Invalid("layer " + digest + " is not a readable tar" + (mediaType.endsWith("gzip") ? ".gz" : "")
                    + ": " + e.getMessage());
        } catch (AgentException e) {
            throw new AgentException.Invalid("layer " + digest + ": " + e.getMessage());
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    /** A stream whose skip() reads (a DigestInputStream's skip would leave the skipped bytes out of the digest). */
    static InputStream readingSkips(InputStream in) {
        return new java.io.FilterInputStream(in) {
            private final byte[] discard = new byte[8192];

            @Override
            public long skip(long n) throws IOException {
                long skipped = 0;
                while (skipped < n) {
                    int read = in.read(discard, 0, (int) Math.min(discard.length, n - skipped));
                    if (read < 0) {
                        break;
                    }
                    skipped += read;
                }
                return skipped;
            }
        };
    }

    private void check(Tar.Entry entry, String digest) {
        String name = normal(entry.name(), digest, entry.name());
        if (name.isEmpty()) {
            return; // the root itself
        }
        String parent = name.contains("/") ? name.substring(0, name.lastIndexOf('/')) : "";
        String base = name.substring(name.lastIndexOf('/') + 1);
        throughSymlink(parent, digest, entry.name());
        if (base.equals(".wh..wh..opq")) {
            symlinks.keySet().removeIf(p -> p.startsWith(parent.isEmpty() ? "" : parent + "/"));
            return;
        }
        if (base.startsWith(".wh.")) {
            String removed = (parent.isEmpty() ? "" : parent + "/") + base.substring(4);
            symlinks.keySet().removeIf(p -> p.equals(removed) || p.startsWith(removed + "/"));
            return;
        }
        if (entry.type() == Tar.Type.HARDLINK) {
            String target = normal(entry.linkTarget(), digest, entry.name() + " (a hard link to '" + entry.linkTarget() + "')");
            throughSymlink(target, digest, entry.name() + " (a hard link to '" + entry.linkTarget() + "')");
        }
        if (entry.type() == Tar.Type.SYMLINK) {
            symlinks.put(name, entry.linkTarget());
        } else {
            // a directory or file at a link's path replaces the link
            symlinks.remove(name);
        }
    }

    /** The name without "./" and trailing "/"; refused when absolute or climbing. */
    private static String normal(String raw, String digest, String shown) {
        String name = raw;
        while (name.startsWith("./")) {
            name = name.substring(2);
        }
        if (name.equals(".")) {
            return "";
        }
        if (name.startsWith("/")) {
            throw new AgentException.Invalid("layer " + digest + ": entry '" + shown + "' is an absolute path: refused");
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw new AgentException.Invalid("layer " + digest + ": entry '" + shown + "' climbs out of the image's root with"
                        + " '..': refused");
            }
        }
        return name;
    }

    private void throughSymlink(String path, String digest, String shown) {
        if (path.isEmpty()) {
            return;
        }
        String[] parts = path.split("/");
        StringBuilder prefix = new StringBuilder();
        for (String part : parts) {
            prefix.append(prefix.isEmpty() ? "" : "/").append(part);
            String link = symlinks.get(prefix.toString());
            if (link != null) {
                throw new AgentException.Invalid("layer " + digest + ": entry '" + shown + "' is written through the symbolic link '"
                        + prefix + "' (-> " + link + ")" + (link.startsWith("/") ? ", an absolute link" : "")
                        + ": an escape from the image's root: refused");
            }
        }
    }
}
