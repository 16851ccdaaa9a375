package dev.berth.agent.oci;

import dev.berth.agent.error.AgentException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.agent.files.Tar;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The app containers' images: OCI images imported without a registry, from an OCI image layout (a
 * directory, or a tar of one) or a {@code docker save} archive, kept by digest under
 * {@code <state>/app-images} (content-addressed blobs, OCI style, and a list of named images).
 *
 * <p>Nothing is taken on trust: on import the manifest's, the config's and every layer's sha256 (and
 * size) are checked against their descriptors, each layer's uncompressed content against the
 * config's {@code diff_ids}, and every layer entry for escapes ({@link LayerCheck}). A mismatch or an
 * escape refuses the whole image, naming the digest; nothing of it is kept.
 */
public final class AppImageStore {

    static final ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;
    static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    static final Pattern NAME = Pattern.compile("[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*");
    static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    static final String LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    static final String LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";

    /** The image's run-time defaults, from its config. */
    public record Config(List<String> entrypoint, List<String> cmd, List<String> env, String workdir, String user,
                         List<String> exposedPorts) {
    }

    /** One layer: its blob's digest, media type and size, and the digest of its uncompressed tar. */
    public record Layer(String digest, String mediaType, long size, String diffId) {
    }

    /** An image in the store: {@code name:tag}, its manifest's digest and what that manifest names. */
    public record AppImage(String name, String tag, String digest, String configDigest, List<Layer> layers, Config config,
                           long size, Instant imported, String source) {
        public String reference() {
            return name + ":" + tag;
        }
    }

    /** A reference: {@code name[:tag][@sha256:...]}, or a digest (or its first 12+ hex digits). */
    public record Reference(String name, String tag, String digest) {
        public static Reference parse(String text) {
            String rest = text.strip();
            String digest = null;
            int at = rest.indexOf('@');
            if (at >= 0) {
                digest = rest.substring(at + 1);
                rest = rest.substring(0, at);
                if (!DIGEST.matcher(digest).matches()) {
                    throw new AgentException.Invalid("'" + text + "': a pinned digest is sha256: and 64 hex digits");
                }
            } else if (rest.matches("(sha256:)?[0-9a-f]{12,64}")) {
                return new Reference(null, null, rest.startsWith("sha256:") ? rest : "sha256:" + rest);
            }
            String tag = "latest";
            int colon = rest.lastIndexOf(':');
            if (colon > rest.lastIndexOf('/')) {
                tag = rest.substring(colon + 1);
                rest = rest.substring(0, colon);
            }
            if (!NAME.matcher(rest).matches()) {
                throw new AgentException.Invalid("'" + text + "': an image name is lower-case letters, digits and . _ - /"
                        + " separators, such as web or team/web:2");
            }
            if (!TAG.matcher(tag).matches()) {
                throw new AgentException.Invalid("'" + text + "': a tag is letters, digits, '.', '_' and '-' (up to 128)");
            }
            return new Reference(rest, tag, digest);
        }
    }

    private final Path dir;

    public AppImageStore(Path dir) {
        this.dir = dir;
    }

    public Path directory() {
        return dir;
    }

    /** A blob's file (it may not exist). */
    public Path blob(String digest) {
        if (!DIGEST.matcher(digest).matches()) {
            throw new AgentException.Invalid("not a sha256 digest: " + digest);
        }
        return dir.resolve("blobs/sha256").resolve(digest.substring(7));
    }

    public synchronized List<AppImage> list() {
        return List.copyOf(load().values());
    }

    public synchronized Optional<AppImage> find(String ref) {
        Reference reference = Reference.parse(ref);
        for (AppImage image : load().values()) {
            boolean nameMatches = reference.name() == null
                    || image.name().equals(reference.name()) && image.tag().equals(reference.tag());
            boolean digestMatches = reference.digest() == null || (reference.name() == null
                    ? image.digest().startsWith(reference.digest()) : image.digest().equals(reference.digest()));
            if (nameMatches && digestMatches) {
                return Optional.of(image);
            }
        }
        return Optional.empty();
    }

    /**
     * The image {@code ref} names. A pinned reference ({@code name@sha256:...}) whose name holds
     * another image is refused, saying which digest the store has.
     */
    public AppImage get(String ref) {
        Optional<AppImage> found = find(ref);
        if (found.isPresent()) {
            return found.get();
        }
        Reference reference = Reference.parse(ref);
        if (reference.name() != null && reference.digest() != null) {
            Optional<AppImage> named = find(reference.name() + ":" + reference.tag());
            if (named.isPresent()) {
                throw new AgentException.Invalid("the profile pins " + ref + " but " + named.get().reference() + " is "
                        + named.get().digest() + "; import the pinned image, or change the pin");
            }
        }
        throw new AgentException.NotFound("no app image " + ref + "; import it with: berth app image import ARCHIVE");
    }

    /** Deletes an image (its blobs too when no other image shares them); refused while {@code users} run it. */
    public synchronized void delete(AppImage image, List<String> users) {
        if (!users.isEmpty()) {
            throw new AgentException.Conflict("app image " + image.reference() + " is used by " + String.join(", ", users)
                    + "; delete or upgrade those containers first");
        }
        Map<String, AppImage> all = load();
        all.remove(image.digest());
        save(all);
        java.util.Set<String> kept = new java.util.HashSet<>();
        for (AppImage other : all.values()) {
            kept.add(other.digest());
            kept.add(other.configDigest());
            other.layers().forEach(l -> kept.add(l.digest()));
        }
        List<String> mine = new ArrayList<>(List.of(image.digest(), image.configDigest()));
        image.layers().forEach(l -> mine.add(l.digest()));
        for (String digest : mine) {
            if (!kept.contains(digest)) {
                try {
                    Files.deleteIfExists(blob(digest));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    /**
     * Imports an archive: a tar of an OCI image layout, or a {@code docker save} archive (possibly
     * gzip-compressed). {@code name} (name[:tag]) replaces the archive's own; needed when it has none.
     */
    public AppImage importArchive(Path archive, String name, String source) {
        Path staging = dev.berth.agent.store.Scratch.name(dir, "staging");
        try {
            Files.createDirectories(staging);
            ImageImport.unpackArchive(archive, staging);
            return new ImageImport(this).importLayoutOrDocker(staging, name, source);
        } catch (IOException e) {
            throw new AgentException.Invalid("cannot read " + source + " as an image archive: " + e.getMessage());
        } finally {
            deleteTree(staging);
        }
    }

    /** Imports an OCI image layout directory (or an unpacked docker save archive) as it is. */
    public AppImage importDirectory(Path layout, String name, String source) {
        try {
            return new ImageImport(this).importLayoutOrDocker(layout, name, source);
        } catch (IOException e) {
            throw new AgentException.Invalid("cannot read " + source + " as an image: " + e.getMessage());
        }
    }

    /**
     * Unpacks {@code image}'s layers, in order, into directory {@code path} under {@code root} (see
     * {@link dev.berth.agent.files.ContainerRoot#extractLayer}); each blob's digest is checked again as
     * it is read, so a blob damaged on disk fails the unpacking.
     */
    public void unpack(AppImage image, dev.berth.agent.files.ContainerRoot root, String path) {
        for (Layer layer : image.layers()) {
            MessageDigest sha = digester();
            RuntimeException failure = null;
            try (InputStream raw = LayerCheck.readingSkips(
                    new DigestInputStream(new BufferedInputStream(Files.newInputStream(blob(layer.digest())), 64 * 1024), sha))) {
                try {
                    InputStream plain = layerStream(raw, layer.mediaType(), layer.digest());
                    root.extractLayer(path, plain);
                    plain.transferTo(OutputStream.nullOutputStream());
                } catch (IOException | RuntimeException e) {
                    failure = e instanceof RuntimeException r ? r : new UncheckedIOException("cannot unpack layer " + layer.digest()
                            + " of " + image.reference() + ": " + e.getMessage(), (IOException) e);
                }
                raw.transferTo(OutputStream.nullOutputStream()); // the whole blob counts in its digest
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read layer " + layer.digest() + " of " + image.reference() + ": " + e.getMessage(), e);
            }
            String actual = "sha256:" + HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(layer.digest())) {
                AgentException.Invalid damaged = new AgentException.Invalid("layer " + layer.digest() + " of " + image.reference()
                        + " is damaged in the store (it hashes to " + actual + "): delete the image and import it again");
                if (failure != null) {
                    damaged.addSuppressed(failure);
                }
                throw damaged;
            }
            if (failure != null) {
                throw failure;
            }
        }
    }

    // ---- OCI image layout ----

    // ---- docker save ----

    // ---- shared ----

    synchronized AppImage record(Reference reference, String digest, String configDigest, List<Layer> layers, JsonNode config,
                                         String source) {
        JsonNode c = config.path("config");
        List<String> ports = new ArrayList<>();
        c.path("ExposedPorts").fieldNames().forEachRemaining(ports::add);
        Config runtime = new Config(strings(c.path("Entrypoint")), strings(c.path("Cmd")), strings(c.path("Env")),
                c.path("WorkingDir").asText(""), c.path("User").asText(""), ports);
        long size = layers.stream().mapToLong(Layer::size).sum();
        AppImage image = new AppImage(reference.name(), reference.tag(), digest, configDigest, List.copyOf(layers), runtime, size,
                Instant.now(), source);
        Map<String, AppImage> all = load();
        // a name:tag names one image: the new one takes it from any other
        all.values().removeIf(other -> other.reference().equals(image.reference()) && !other.digest().equals(digest));
        all.put(digest, image);
        save(all);
        return image;
    }

    static List<String> strings(JsonNode array) {
        List<String> list = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(v -> list.add(v.asText()));
        }
        return list;
    }

    void store(Path file, String digest) throws IOException {
        Path target = blob(digest);
        if (Files.exists(target)) {
            return;
        }
        Files.createDirectories(target.getParent());
        Path temp = target.resolveSibling(".tmp-" + UUID.randomUUID());
        Files.copy(file, temp);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    }

    void storeBytes(byte[] bytes, String digest) throws IOException {
        Path target = blob(digest);
        if (Files.exists(target)) {
            return;
        }
        Files.createDirectories(target.getParent());
        Path temp = target.resolveSibling(".tmp-" + UUID.randomUUID());
        Files.write(temp, bytes);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    }

    private Map<String, AppImage> load() {
        Path file = dir.resolve("images.json");
        Map<String, AppImage> all = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return all;
        }
        try {
            for (JsonNode node : JSON.readTree(file.toFile())) {
                AppImage image = dev.berth.agent.store.Json.LENIENT.forType(AppImage.class).readValue(node);
                all.put(image.digest(), image);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return all;
    }

    private void save(Map<String, AppImage> all) {
        Path file = dir.resolve("images.json");
        try {
            Files.createDirectories(dir);
            Path temp = dir.resolve(".images.json.tmp");
            try (OutputStream out = Files.newOutputStream(temp)) {
                out.write(dev.berth.agent.store.Json.PRETTY.writeValueAsBytes(all.values()));
            }
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }

    static InputStream layerStream(InputStream raw, String mediaType, String digest) throws IOException {
        return switch (mediaType) {
            case LAYER_GZIP, DOCKER_LAYER_GZIP -> new GZIPInputStream(raw, 64 * 1024);
            case LAYER_TAR, DOCKER_LAYER -> raw;
            default -> throw new AgentException.Invalid("layer " + digest + " is " + mediaType
                    + ": only tar and tar+gzip layers are supported");
        };
    }

    public static String sha256(byte[] bytes) {
        return "sha256:" + HexFormat.of().formatHex(digester().digest(bytes));
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest = digester();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return "sha256:" + HexFormat.of().formatHex(digest.digest());
    }

    static MessageDigest digester() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
