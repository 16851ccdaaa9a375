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

    static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
            .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern NAME = Pattern.compile("[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    static final String LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    static final String LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    private static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    private static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";

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
            unpackArchive(archive, staging);
            return importLayoutOrDocker(staging, name, source);
        } catch (IOException e) {
            throw new AgentException.Invalid("cannot read " + source + " as an image archive: " + e.getMessage());
        } finally {
            deleteTree(staging);
        }
    }

    /** Imports an OCI image layout directory (or an unpacked docker save archive) as it is. */
    public AppImage importDirectory(Path layout, String name, String source) {
        try {
            return importLayoutOrDocker(layout, name, source);
        } catch (IOException e) {
            throw new AgentException.Invalid("cannot read " + source + " as an image: " + e.getMessage());
        }
    }

    private AppImage importLayoutOrDocker(Path root, String name, String source) throws IOException {
        if (Files.isRegularFile(root.resolve("index.json")) && Files.isRegularFile(root.resolve("oci-layout"))) {
            return importOci(root, name, source);
        }
        if (Files.isRegularFile(root.resolve("manifest.json"))) {
            return importDocker(root, name, source);
        }
        throw new AgentException.Invalid(source + " is neither an OCI image layout (oci-layout and index.json) nor a docker"
                + " save archive (manifest.json)");
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

    private AppImage importOci(Path root, String name, String source) throws IOException {
        JsonNode index = readJson(root.resolve("index.json"), "index.json");
        JsonNode manifests = index.path("manifests");
        if (!manifests.isArray() || manifests.isEmpty()) {
            throw new AgentException.Invalid(source + ": index.json lists no manifests");
        }
        JsonNode chosen = null;
        String wanted = name == null ? null : Reference.parse(name).tag();
        for (JsonNode descriptor : manifests) {
            String ref = descriptor.path("annotations").path("org.opencontainers.image.ref.name").asText("");
            if (chosen == null || wanted != null && (ref.equals(name) || ref.endsWith(":" + wanted) || ref.equals(wanted))) {
                chosen = descriptor;
            }
        }
        JsonNode manifestDescriptor = platformManifest(root, chosen, source);
        String refName = chosen.path("annotations").path("org.opencontainers.image.ref.name").asText("");
        Reference reference = naming(name, refName.contains(":") ? refName : refName.isEmpty() ? null : refName, source);
        byte[] manifestBytes = verifiedBlob(root, manifestDescriptor, "manifest");
        JsonNode manifest = JSON.readTree(manifestBytes);
        JsonNode configDescriptor = manifest.path("config");
        byte[] configBytes = verifiedBlob(root, configDescriptor, "config");
        JsonNode config = JSON.readTree(configBytes);
        List<String> diffIds = diffIds(config, source);
        JsonNode layerDescriptors = manifest.path("layers");
        if (layerDescriptors.size() != diffIds.size()) {
            throw new AgentException.Invalid(source + ": the manifest has " + layerDescriptors.size()
                    + " layers and the config's rootfs.diff_ids " + diffIds.size());
        }
        LayerCheck check = new LayerCheck();
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < layerDescriptors.size(); i++) {
            JsonNode descriptor = layerDescriptors.get(i);
            String digest = descriptor.path("digest").asText();
            Path blob = blobIn(root, digest, "layer");
            String mediaType = descriptor.path("mediaType").asText(LAYER_TAR);
            verifyFile(blob, digest, descriptor.path("size").asLong(-1), "layer");
            String diffId = check.scan(blob, mediaType, digest);
            if (!diffId.equals(diffIds.get(i))) {
                throw new AgentException.Invalid("layer " + digest + " unpacks to " + diffId + " but the config says "
                        + diffIds.get(i) + " (rootfs.diff_ids[" + i + "]): refused");
            }
            layers.add(new Layer(digest, mediaType, Files.size(blob), diffId));
        }
        for (Layer layer : layers) {
            store(blobIn(root, layer.digest(), "layer"), layer.digest());
        }
        String configDigest = configDescriptor.path("digest").asText();
        storeBytes(configBytes, configDigest);
        String manifestDigest = manifestDescriptor.path("digest").asText();
        storeBytes(manifestBytes, manifestDigest);
        return record(reference, manifestDigest, configDigest, layers, config, source);
    }

    /** A manifest descriptor; an image index is followed to its linux/amd64 manifest. */
    private JsonNode platformManifest(Path root, JsonNode descriptor, String source) throws IOException {
        for (int depth = 0; depth < 4; depth++) {
            String type = descriptor.path("mediaType").asText("");
            if (!type.contains("index") && !type.contains("manifest.list")) {
                return descriptor;
            }
            JsonNode nested = JSON.readTree(verifiedBlob(root, descriptor, "index"));
            JsonNode next = null;
            for (JsonNode candidate : nested.path("manifests")) {
                JsonNode platform = candidate.path("platform");
                if (platform.path("os").asText("linux").equals("linux") && platform.path("architecture").asText("amd64").equals("amd64")) {
                    next = candidate;
                    break;
                }
            }
            if (next == null) {
                throw new AgentException.Invalid(source + ": no linux/amd64 image in its index");
            }
            descriptor = next;
        }
        throw new AgentException.Invalid(source + ": image indexes nested too deep");
    }

    // ---- docker save ----

    private AppImage importDocker(Path root, String name, String source) throws IOException {
        JsonNode manifests = readJson(root.resolve("manifest.json"), "manifest.json");
        if (!manifests.isArray() || manifests.isEmpty()) {
            throw new AgentException.Invalid(source + ": manifest.json lists no images");
        }
        JsonNode entry = manifests.get(0);
        if (manifests.size() > 1 && name != null) {
            for (JsonNode candidate : manifests) {
                for (JsonNode tag : candidate.path("RepoTags")) {
                    if (tag.asText().equals(name) || tag.asText().equals(Reference.parse(name).name() + ":" + Reference.parse(name).tag())) {
                        entry = candidate;
                    }
                }
            }
        }
        String repoTag = entry.path("RepoTags").isArray() && !entry.path("RepoTags").isEmpty() ? entry.path("RepoTags").get(0).asText() : null;
        Reference reference = naming(name, repoTag, source);
        Path configFile = inside(root, entry.path("Config").asText(""), "Config");
        byte[] configBytes = Files.readAllBytes(configFile);
        String configDigest = sha256(configBytes);
        String claimed = claimedDigest(root.relativize(configFile).toString());
        if (claimed != null && !claimed.equals(configDigest)) {
            throw new AgentException.Invalid("config " + claimed + " does not match its digest: its content hashes to "
                    + configDigest + "; the archive was changed or damaged: refused");
        }
        JsonNode config = JSON.readTree(configBytes);
        List<String> diffIds = diffIds(config, source);
        JsonNode layerPaths = entry.path("Layers");
        if (layerPaths.size() != diffIds.size()) {
            throw new AgentException.Invalid(source + ": manifest.json has " + layerPaths.size() + " layers and the config's"
                    + " rootfs.diff_ids " + diffIds.size());
        }
        LayerCheck check = new LayerCheck();
        List<Layer> layers = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < layerPaths.size(); i++) {
            Path file = inside(root, layerPaths.get(i).asText(), "Layers[" + i + "]");
            boolean gzip = isGzip(file);
            String digest = sha256(file);
            String mediaType = gzip ? LAYER_GZIP : LAYER_TAR;
            String diffId = check.scan(file, mediaType, diffIds.get(i));
            if (!diffId.equals(diffIds.get(i))) {
                throw new AgentException.Invalid("layer " + diffIds.get(i) + " (" + layerPaths.get(i).asText()
                        + ") does not match its digest: its content hashes to " + diffId + "; the archive was changed or damaged: refused");
            }
            layers.add(new Layer(digest, mediaType, Files.size(file), diffId));
            files.add(file);
        }
        for (int i = 0; i < layers.size(); i++) {
            store(files.get(i), layers.get(i).digest());
        }
        storeBytes(configBytes, configDigest);
        // the manifest docker save leaves out, in OCI form, so the store holds one kind of image
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.putObject("config").put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", configDigest).put("size", configBytes.length);
        ArrayNode layerArray = manifest.putArray("layers");
        for (Layer layer : layers) {
            layerArray.addObject().put("mediaType", layer.mediaType()).put("digest", layer.digest()).put("size", layer.size());
        }
        byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
        String manifestDigest = sha256(manifestBytes);
        storeBytes(manifestBytes, manifestDigest);
        return record(reference, manifestDigest, configDigest, layers, config, source);
    }

    /** {@code <hex>.json} or {@code blobs/sha256/<hex>}: the digest a file's name claims. */
    private static String claimedDigest(String relative) {
        String file = relative.substring(relative.lastIndexOf('/') + 1);
        String hex = file.endsWith(".json") ? file.substring(0, file.length() - 5) : file;
        return hex.matches("[0-9a-f]{64}") ? "sha256:" + hex : null;
    }

    // ---- shared ----

    private static Reference naming(String given, String fromArchive, String source) {
        if (given != null && !given.isBlank()) {
            Reference reference = Reference.parse(given);
            if (reference.name() == null) {
                throw new AgentException.Invalid("name the image as name[:tag], not by digest: " + given);
            }
            return reference;
        }
        if (fromArchive == null || fromArchive.isBlank()) {
            throw new AgentException.Invalid(source + " does not name its image; give one (berth app image import ARCHIVE --name web:1)");
        }
        String plain = fromArchive.contains("/") && fromArchive.substring(0, fromArchive.indexOf('/')).contains(".")
                ? fromArchive.substring(fromArchive.indexOf('/') + 1) : fromArchive; // registry host left out
        return Reference.parse(plain);
    }

    private static List<String> diffIds(JsonNode config, String source) {
        JsonNode ids = config.path("rootfs").path("diff_ids");
        if (!ids.isArray()) {
            throw new AgentException.Invalid(source + ": the image config has no rootfs.diff_ids");
        }
        List<String> list = new ArrayList<>();
        ids.forEach(id -> list.add(id.asText()));
        return list;
    }

    private synchronized AppImage record(Reference reference, String digest, String configDigest, List<Layer> layers, JsonNode config,
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

    private static List<String> strings(JsonNode array) {
        List<String> list = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(v -> list.add(v.asText()));
        }
        return list;
    }

    private static JsonNode readJson(Path file, String what) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new AgentException.Invalid(what + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static Path blobIn(Path root, String digest, String what) {
        if (!DIGEST.matcher(digest).matches()) {
            throw new AgentException.Invalid("the " + what + "'s digest '" + digest + "' is not sha256: and 64 hex digits");
        }
        Path blob = root.resolve("blobs/sha256").resolve(digest.substring(7));
        if (!Files.isRegularFile(blob)) {
            throw new AgentException.Invalid("the " + what + " " + digest + " is missing from the archive");
        }
        return blob;
    }

    private static byte[] verifiedBlob(Path root, JsonNode descriptor, String what) throws IOException {
        String digest = descriptor.path("digest").asText("");
        Path blob = blobIn(root, digest, what);
        if (Files.size(blob) > 4 << 20) {
            throw new AgentException.Invalid("the " + what + " " + digest + " is over 4 MiB: refused");
        }
        byte[] bytes = Files.readAllBytes(blob);
        check(digest, sha256(bytes), descriptor.path("size").asLong(-1), bytes.length, what);
        return bytes;
    }

    private static void verifyFile(Path file, String digest, long size, String what) throws IOException {
        check(digest, sha256(file), size, Files.size(file), what);
    }

    private static void check(String digest, String actual, long size, long actualSize, String what) {
        if (!actual.equals(digest)) {
            throw new AgentException.Invalid(what + " " + digest + " does not match its digest: its content hashes to " + actual
                    + "; the image was changed or damaged: refused");
        }
        if (size >= 0 && size != actualSize) {
            throw new AgentException.Invalid(what + " " + digest + " is " + actualSize + " bytes, its descriptor says " + size + ": refused");
        }
    }

    /** A path named inside an archive, which must stay inside it. */
    private static Path inside(Path root, String relative, String field) {
        Path path = root.resolve(relative).normalize();
        if (relative.isEmpty() || relative.startsWith("/") || !path.startsWith(root) || !Files.isRegularFile(path)) {
            throw new AgentException.Invalid("manifest.json " + field + " '" + relative + "' is not a file in the archive");
        }
        return path;
    }

    private void store(Path file, String digest) throws IOException {
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

    private void storeBytes(byte[] bytes, String digest) throws IOException {
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
                AppImage image = JSON.treeToValue(node, AppImage.class);
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
                out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(all.values()));
            }
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Unpacks the outer archive (its own files only: plain files and directories, nothing climbing out). */
    private static void unpackArchive(Path archive, Path target) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive))) {
            InputStream in = raw;
            raw.mark(2);
            if (raw.read() == 0x1f && raw.read() == 0x8b) {
                raw.reset();
                in = new GZIPInputStream(raw, 64 * 1024);
            } else {
                raw.reset();
            }
            Tar.Reader tar = new Tar.Reader(in);
            for (Tar.Entry entry; (entry = tar.next()) != null; ) {
                String name = entry.name();
                if (name.isEmpty() || name.equals(".")) {
                    continue;
                }
                Path path = target.resolve(name).normalize();
                if (name.startsWith("/") || !path.startsWith(target) || path.equals(target)) {
                    throw new AgentException.Invalid("the archive's entry '" + name + "' is outside it: refused");
                }
                switch (entry.type()) {
                    case DIRECTORY -> Files.createDirectories(path);
                    case FILE -> {
                        Files.createDirectories(path.getParent());
                        try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                            tar.data().transferTo(out);
                        }
                    }
                    default -> {
                        // links and devices are no part of an image archive's own files
                    }
                }
            }
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
