package dev.berth.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Small OCI images built in Java, without a registry or a Docker engine: layers are tar archives
 * made here, configs and manifests are JSON written here, and the result is written as an OCI image
 * layout (a directory, or a tar of one) or as a {@code docker save} archive.
 *
 * <p>{@link #busyboxHttpd} is the app the integration tests run: the host's static busybox serving
 * a page with its {@code httpd}.
 */
public final class OciImageFixture {

    private OciImageFixture() {
    }

    /** One tar entry of a layer. Type: '0' file, '5' directory, '2' symlink, '1' hard link. */
    public record Entry(String name, char type, int mode, int uid, int gid, byte[] content, String link) {
    }

    /** A layer's entries, in order. */
    public static final class Layer {
        final List<Entry> entries = new ArrayList<>();

        public Layer dir(String name, int mode) {
            entries.add(new Entry(name, '5', mode, 0, 0, new byte[0], ""));
            return this;
        }

        public Layer file(String name, byte[] content, int mode) {
            return file(name, content, mode, 0, 0);
        }

        public Layer file(String name, byte[] content, int mode, int uid, int gid) {
            entries.add(new Entry(name, '0', mode, uid, gid, content, ""));
            return this;
        }

        public Layer file(String name, String content, int mode) {
            return file(name, content.getBytes(StandardCharsets.UTF_8), mode);
        }

        public Layer file(String name, String content, int mode, int uid, int gid) {
            return file(name, content.getBytes(StandardCharsets.UTF_8), mode, uid, gid);
        }

        public Layer symlink(String name, String target) {
            entries.add(new Entry(name, '2', 0777, 0, 0, new byte[0], target));
            return this;
        }

        public Layer hardlink(String name, String target) {
            entries.add(new Entry(name, '1', 0644, 0, 0, new byte[0], target));
            return this;
        }

        /** An OCI whiteout: {@code name} is deleted from the layers below. */
        public Layer whiteout(String name) {
            int slash = name.lastIndexOf('/');
            return file(name.substring(0, slash + 1) + ".wh." + name.substring(slash + 1), new byte[0], 0644);
        }

        /** An opaque directory: what the layers below had in {@code dir} is hidden. */
        public Layer opaque(String dir) {
            return file(dir + "/.wh..wh..opq", new byte[0], 0644);
        }

        /** The layer as an uncompressed tar. */
        public byte[] tar() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                for (Entry entry : entries) {
                    writeHeader(out, entry);
                    if (entry.type() == '0') {
                        out.write(entry.content());
                        pad(out, entry.content().length);
                    }
                }
                out.write(new byte[1024]);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return out.toByteArray();
        }
    }

    /** An image: layers and the parts of its config the tests use. */
    public record Image(String name, String tag, List<Layer> layers, List<String> entrypoint, List<String> cmd,
                        List<String> env, String workdir, List<Integer> exposedPorts) {

        public String reference() {
            return name + ":" + tag;
        }
    }

    /**
     * The host's static busybox as {@code /bin/busybox} (with {@code sh}, {@code httpd}, {@code wget}
     * links) in one layer, and a page saying {@code content} in a second; the command serves
     * {@code /www} on {@code port}.
     */
    public static Image busyboxHttpd(String name, String tag, String content, int port) {
        byte[] busybox;
        try {
            busybox = Files.readAllBytes(Path.of("/bin/busybox"));
        } catch (IOException e) {
            throw new IllegalStateException("the busybox-static package is needed (scripts/setup.sh installs it)", e);
        }
        Layer base = new Layer().dir("bin", 0755).file("bin/busybox", busybox, 0755)
                .symlink("bin/sh", "busybox").symlink("bin/httpd", "busybox").symlink("bin/wget", "busybox")
                .symlink("bin/sleep", "busybox").dir("tmp", 01777).dir("etc", 0755)
                .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/www:/bin/sh\n", 0644)
                .file("etc/group", "root:x:0:\nwww:x:33:\n", 0644);
        Layer site = new Layer().dir("www", 0755).file("www/index.html", content + "\n", 0644).file("www/healthz", "ok\n", 0644);
        return new Image(name, tag, List.of(base, site), List.of(), List.of("/bin/busybox", "httpd", "-f", "-p", String.valueOf(port), "-h", "/www"),
                List.of("PATH=/bin", "APP_CONTENT=" + content), "/www", List.of(port));
    }

    /**
     * Like {@link #busyboxHttpd}, but its page {@code /healthz} is missing: it runs and serves, and a
     * health check of that page fails (the revision an upgrade must roll back from).
     */
    public static Image unhealthyHttpd(String name, String tag, String content, int port) {
        Image good = busyboxHttpd(name, tag, content, port);
        Layer site = new Layer().dir("www", 0755).file("www/index.html", content + "\n", 0644);
        return withLayers(good, List.of(good.layers().getFirst(), site));
    }

    /** The same image with other layers (for tampered or hostile variants). */
    public static Image withLayers(Image image, List<Layer> layers) {
        return new Image(image.name(), image.tag(), layers, image.entrypoint(), image.cmd(), image.env(), image.workdir(),
                image.exposedPorts());
    }

    public static String sha256(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    /** An ordered map, so that the JSON (and so every digest) is the same in every run. */
    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private static String json(Object value) {
        return switch (value) {
            case null -> "null";
            case String s -> "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            case Number n -> n.toString();
            case Boolean b -> b.toString();
            case Map<?, ?> map -> {
                List<String> fields = new ArrayList<>();
                map.forEach((k, v) -> fields.add(json(String.valueOf(k)) + ":" + json(v)));
                yield "{" + String.join(",", fields) + "}";
            }
            case List<?> list -> "[" + String.join(",", list.stream().map(OciImageFixture::json).toList()) + "]";
            default -> throw new IllegalArgumentException("no JSON for " + value);
        };
    }

    private static byte[] configJson(Image image, List<String> diffIds) {
        Map<String, Object> config = new LinkedHashMap<>();
        if (!image.entrypoint().isEmpty()) {
            config.put("Entrypoint", image.entrypoint());
        }
        config.put("Cmd", image.cmd());
        config.put("Env", image.env());
        config.put("WorkingDir", image.workdir());
        Map<String, Object> ports = new LinkedHashMap<>();
        image.exposedPorts().forEach(p -> ports.put(p + "/tcp", map()));
        config.put("ExposedPorts", ports);
        Map<String, Object> whole = new LinkedHashMap<>();
        whole.put("architecture", "amd64");
        whole.put("os", "linux");
        whole.put("config", config);
        whole.put("rootfs", map("type", "layers", "diff_ids", diffIds));
        return json(whole).getBytes(StandardCharsets.UTF_8);
    }

    /** Writes {@code image} as an OCI image layout directory; returns the manifest's digest. */
    public static String writeOciLayout(Image image, Path dir) throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        List<String> diffIds = new ArrayList<>();
        List<Object> layers = new ArrayList<>();
        for (Layer layer : image.layers()) {
            byte[] tar = layer.tar();
            diffIds.add(sha256(tar));
            byte[] compressed = gzip(tar);
            layers.add(map("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip", "digest", blob(dir, compressed),
                    "size", compressed.length));
        }
        byte[] config = configJson(image, diffIds);
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.put("config", map("mediaType", "application/vnd.oci.image.config.v1+json", "digest", blob(dir, config),
                "size", config.length));
        manifest.put("layers", layers);
        byte[] manifestBytes = json(manifest).getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(dir, manifestBytes);
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        index.put("manifests", List.of(map("mediaType", "application/vnd.oci.image.manifest.v1+json", "digest", manifestDigest,
                "size", manifestBytes.length, "annotations", map("org.opencontainers.image.ref.name", image.reference()))));
        Files.writeString(dir.resolve("index.json"), json(index));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return manifestDigest;
    }

    private static String blob(Path dir, byte[] data) throws IOException {
        String digest = sha256(data);
        Files.write(dir.resolve("blobs/sha256").resolve(digest.substring("sha256:".length())), data);
        return digest;
    }

    /** Writes {@code image} as a tar of an OCI image layout; returns the manifest's digest. */
    public static String writeOciArchive(Image image, Path tarFile) throws IOException {
        Path dir = Files.createTempDirectory(tarFile.getParent(), "oci-layout");
        String digest = writeOciLayout(image, dir);
        tarDirectory(dir, tarFile);
        deleteTree(dir);
        return digest;
    }

    /** Writes {@code image} as {@code docker save} does: manifest.json, the config, one tar per layer. */
    public static void writeDockerArchive(Image image, Path tarFile) throws IOException {
        Layer archive = new Layer();
        List<String> diffIds = new ArrayList<>();
        List<String> layerPaths = new ArrayList<>();
        for (Layer layer : image.layers()) {
            byte[] tar = layer.tar();
            String digest = sha256(tar);
            diffIds.add(digest);
            String id = digest.substring("sha256:".length());
            archive.dir(id, 0755).file(id + "/layer.tar", tar, 0644).file(id + "/VERSION", "1.0", 0644);
            layerPaths.add(id + "/layer.tar");
        }
        byte[] config = configJson(image, diffIds);
        String configName = sha256(config).substring("sha256:".length()) + ".json";
        archive.file(configName, config, 0644);
        archive.file("manifest.json", json(List.of(map("Config", configName, "RepoTags", List.of(image.reference()),
                "Layers", layerPaths))), 0644);
        archive.file("repositories", json(map(image.name(), map(image.tag(), layerPaths.getLast().split("/")[0]))), 0644);
        Files.write(tarFile, archive.tar());
    }

    /** A tar of {@code dir}'s files (names relative to it), as {@code tar -C dir -cf tarFile .} would make. */
    public static void tarDirectory(Path dir, Path tarFile) throws IOException {
        Layer all = new Layer();
        try (var walk = Files.walk(dir)) {
            for (Path path : walk.sorted().toList()) {
                if (path.equals(dir)) {
                    continue;
                }
                String name = dir.relativize(path).toString();
                if (Files.isDirectory(path)) {
                    all.dir(name, 0755);
                } else {
                    all.file(name, Files.readAllBytes(path), 0644);
                }
            }
        }
        Files.write(tarFile, all.tar());
    }

    public static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /** The image's layout with one byte of one layer blob changed, as a tar; returns that blob's digest. */
    public static String writeTamperedOciArchive(Image image, Path tarFile) throws IOException {
        Path dir = Files.createTempDirectory(tarFile.getParent(), "oci-layout");
        writeOciLayout(image, dir);
        byte[] lastLayer = image.layers().getLast().tar();
        String digest = sha256(gzip(lastLayer));
        Path blob = dir.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
        byte[] bytes = Files.readAllBytes(blob);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(blob, bytes);
        tarDirectory(dir, tarFile);
        deleteTree(dir);
        return digest;
    }

    private static void writeHeader(OutputStream out, Entry entry) throws IOException {
        byte[] header = new byte[512];
        put(header, 0, 100, entry.name());
        put(header, 100, 8, octal(entry.mode(), 7));
        put(header, 108, 8, octal(entry.uid(), 7));
        put(header, 116, 8, octal(entry.gid(), 7));
        put(header, 124, 12, octal(entry.type() == '0' ? entry.content().length : 0, 11));
        put(header, 136, 12, octal(1_700_000_000L, 11));
        java.util.Arrays.fill(header, 148, 156, (byte) ' ');
        header[156] = (byte) entry.type();
        put(header, 157, 100, entry.link());
        put(header, 257, 6, "ustar");
        put(header, 263, 2, "00");
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        put(header, 148, 8, octal(sum, 6) + "\0 ");
        out.write(header);
    }

    private static String octal(long value, int digits) {
        return String.format("%0" + digits + "o", value);
    }

    private static void put(byte[] header, int offset, int length, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > length) {
            throw new IllegalArgumentException("too long for a ustar field of " + length + ": " + value);
        }
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }

    private static void pad(OutputStream out, long size) throws IOException {
        int rest = (int) (size % 512);
        if (rest != 0) {
            out.write(new byte[512 - rest]);
        }
    }
}
