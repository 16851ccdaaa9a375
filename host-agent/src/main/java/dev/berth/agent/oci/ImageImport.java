package dev.berth.agent.oci;

import dev.berth.agent.oci.AppImageStore.AppImage;
import dev.berth.agent.oci.AppImageStore.Layer;
import dev.berth.agent.oci.AppImageStore.Reference;

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
 * One import into the {@link AppImageStore}: an OCI image layout or a {@code docker save} archive
 * read, every blob's digest and size checked against what names it, paths kept inside the archive,
 * and the image recorded with the blobs it needs.
 */
final class ImageImport {

    private final AppImageStore store;

    ImageImport(AppImageStore store) {
        this.store = store;
    }

    AppImage importLayoutOrDocker(Path root, String name, String source) throws IOException {
        if (Files.isRegularFile(root.resolve("index.json")) && Files.isRegularFile(root.resolve("oci-layout"))) {
            return importOci(root, name, source);
        }
        if (Files.isRegularFile(root.resolve("manifest.json"))) {
            return importDocker(root, name, source);
        }
        throw new AgentException.Invalid(source + " is neither an OCI image layout (oci-layout and index.json) nor a docker"
                + " save archive (manifest.json)");
    }

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
        JsonNode manifest = AppImageStore.JSON.readTree(manifestBytes);
        JsonNode configDescriptor = manifest.path("config");
        byte[] configBytes = verifiedBlob(root, configDescriptor, "config");
        JsonNode config = AppImageStore.JSON.readTree(configBytes);
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
            String mediaType = descriptor.path("mediaType").asText(AppImageStore.LAYER_TAR);
            verifyFile(blob, digest, descriptor.path("size").asLong(-1), "layer");
            String diffId = check.scan(blob, mediaType, digest);
            if (!diffId.equals(diffIds.get(i))) {
                throw new AgentException.Invalid("layer " + digest + " unpacks to " + diffId + " but the config says "
                        + diffIds.get(i) + " (rootfs.diff_ids[" + i + "]): refused");
            }
            layers.add(new Layer(digest, mediaType, Files.size(blob), diffId));
        }
        for (Layer layer : layers) {
            store.store(blobIn(root, layer.digest(), "layer"), layer.digest());
        }
        String configDigest = configDescriptor.path("digest").asText();
        store.storeBytes(configBytes, configDigest);
        String manifestDigest = manifestDescriptor.path("digest").asText();
        store.storeBytes(manifestBytes, manifestDigest);
        return store.record(reference, manifestDigest, configDigest, layers, config, source);
    }

    /** A manifest descriptor; an image index is followed to its linux/amd64 manifest. */
    private JsonNode platformManifest(Path root, JsonNode descriptor, String source) throws IOException {
        for (int depth = 0; depth < 4; depth++) {
            String type = descriptor.path("mediaType").asText("");
            if (!type.contains("index") && !type.contains("manifest.list")) {
                return descriptor;
            }
            JsonNode nested = AppImageStore.JSON.readTree(verifiedBlob(root, descriptor, "index"));
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
        String configDigest = AppImageStore.sha256(configBytes);
        String claimed = claimedDigest(root.relativize(configFile).toString());
        if (claimed != null && !claimed.equals(configDigest)) {
            throw new AgentException.Invalid("config " + claimed + " does not match its digest: its content hashes to "
                    + configDigest + "; the archive was changed or damaged: refused");
        }
        JsonNode config = AppImageStore.JSON.readTree(configBytes);
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
            boolean gzip = AppImageStore.isGzip(file);
            String digest = AppImageStore.sha256(file);
            String mediaType = gzip ? AppImageStore.LAYER_GZIP : AppImageStore.LAYER_TAR;
            String diffId = check.scan(file, mediaType, diffIds.get(i));
            if (!diffId.equals(diffIds.get(i))) {
                throw new AgentException.Invalid("layer " + diffIds.get(i) + " (" + layerPaths.get(i).asText()
                        + ") does not match its digest: its content hashes to " + diffId + "; the archive was changed or damaged: refused");
            }
            layers.add(new Layer(digest, mediaType, Files.size(file), diffId));
            files.add(file);
        }
        for (int i = 0; i < layers.size(); i++) {
            store.store(files.get(i), layers.get(i).digest());
        }
        store.storeBytes(configBytes, configDigest);
        // the manifest docker save leaves out, in OCI form, so the store holds one kind of image
        ObjectNode manifest = AppImageStore.JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.putObject("config").put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", configDigest).put("size", configBytes.length);
        ArrayNode layerArray = manifest.putArray("layers");
        for (Layer layer : layers) {
            layerArray.addObject().put("mediaType", layer.mediaType()).put("digest", layer.digest()).put("size", layer.size());
        }
        byte[] manifestBytes = AppImageStore.JSON.writeValueAsBytes(manifest);
        String manifestDigest = AppImageStore.sha256(manifestBytes);
        store.storeBytes(manifestBytes, manifestDigest);
        return store.record(reference, manifestDigest, configDigest, layers, config, source);
    }

    /** {@code <hex>.json} or {@code blobs/sha256/<hex>}: the digest a file's name claims. */
    private static String claimedDigest(String relative) {
        String file = relative.substring(relative.lastIndexOf('/') + 1);
        String hex = file.endsWith(".json") ? file.substring(0, file.length() - 5) : file;
        return hex.matches("[0-9a-f]{64}") ? "sha256:" + hex : null;
    }

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

    private static JsonNode readJson(Path file, String what) {
        try {
            return AppImageStore.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new AgentException.Invalid(what + " is not valid AppImageStore.JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static Path blobIn(Path root, String digest, String what) {
        if (!AppImageStore.DIGEST.matcher(digest).matches()) {
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
        check(digest, AppImageStore.sha256(bytes), descriptor.path("size").asLong(-1), bytes.length, what);
        return bytes;
    }

    private static void verifyFile(Path file, String digest, long size, String what) throws IOException {
        check(digest, AppImageStore.sha256(file), size, Files.size(file), what);
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

    /** Unpacks the outer archive (its own files only: plain files and directories, nothing climbing out). */
    static void unpackArchive(Path archive, Path target) throws IOException {
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
}
