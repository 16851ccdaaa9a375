package dev.berth.agent.image;

import dev.berth.agent.error.AgentException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.agent.store.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Images under one directory: {@code <fingerprint>/rootfs} and {@code <fingerprint>/image.json}.
 * An image appears whole or not at all: it is built in a temporary directory beside the store,
 * fingerprinted, then renamed into place, and its record is written atomically. Builds run
 * concurrently; only the final rename and the record updates are serialised. Several agents may
 * share a store: a build that finds its fingerprint already there is discarded.
 */
public final class ImageStore {

    /** The alias of the tiny image built from the host's busybox-static, for tests and demos. */
    public static final String BUSYBOX = "busybox";

    private static final Pattern ALIAS = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}");
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;

    private final Path dir;

    public ImageStore(Path dir) {
        this.dir = dir;
    }

    public Path directory() {
        return dir;
    }

    /** Every image, newest first. */
    public List<Image> list() {
        List<Image> images = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            // An entry without its rootfs (removed by hand) is no image: launching on it would fail late.
            for (Path entry : entries.filter(e -> HEX.matcher(e.getFileName().toString()).matches()
                    && Files.exists(e.resolve("image.json")) && Files.isDirectory(e.resolve("rootfs"))).toList()) {
                images.add(read(entry));
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the image store " + dir, e);
        }
        images.sort(Comparator.comparing(Image::created).reversed());
        return images;
    }

    /** The image with this alias, or with this fingerprint or unique fingerprint prefix (12+ characters). */
    public Optional<Image> find(String aliasOrFingerprint) {
        List<Image> images = list();
        for (Image image : images) {
            if (image.aliases().contains(aliasOrFingerprint)) {
                return Optional.of(image);
            }
        }
        if (aliasOrFingerprint.length() >= 12) {
            List<Image> matches = images.stream().filter(i -> i.fingerprint().startsWith(aliasOrFingerprint)).toList();
            if (matches.size() == 1) {
                return Optional.of(matches.getFirst());
            }
        }
        return Optional.empty();
    }

    /** Like {@link #find}, or a not-found error that says where to look. */
    public Image get(String aliasOrFingerprint) {
        return find(aliasOrFingerprint).orElseThrow(() -> new AgentException.NotFound("no image \"" + aliasOrFingerprint
                + "\" (an alias or at least 12 characters of a fingerprint); GET /1.0/images lists them"));
    }

    /** The image for {@code ref}: the busybox image is built on first use, others must be in the store. */
    public Image resolve(String ref) {
        return BUSYBOX.equals(ref) ? busybox() : get(ref);
    }

    /** The busybox image, built from the host's busybox-static on first use. */
    public synchronized Image busybox() {
        return find(BUSYBOX).orElseGet(() -> add(BusyboxImage.RECIPE, List.of(BUSYBOX), rootfs -> {
            BusyboxImage.build(rootfs);
            return List.of();
        }));
    }

    /** The image a recipe already built, if any: building it again would give the same package set. */
    public Optional<Image> findByRecipe(Map<String, Object> recipe) {
        return list().stream().filter(i -> recipe.equals(i.recipe())).findFirst();
    }

    /**
     * Builds a Debian image from {@code recipe} with debootstrap, unless the store already has an
     * image of this recipe, in which case that one is returned (with the aliases added).
     */
    public Image build(DebianRecipe recipe, List<String> aliases, Consumer<Map<String, Object>> progress) {
        Optional<Image> cached = findByRecipe(recipe.asMap());
        if (cached.isPresent()) {
            return addAliases(cached.get(), aliases);
        }
        return add(recipe.asMap(), aliases, rootfs -> DebianImage.build(recipe, rootfs, progress));
    }

    /**
     * Imports a rootfs archive ({@code .tar}, {@code .tar.gz}, {@code .tar.xz}; compression is
     * detected). An archive with {@code metadata.yaml} and a {@code rootfs/} directory at its top (a
     * unified LXD-style image) has its rootfs taken from there. Members with {@code ..} or absolute
     * paths do not escape the image (GNU tar refuses or strips them, and sets dangerous links last).
     */
    public Image importArchive(Path archive, String source, List<String> aliases) {
        String sha;
        try {
            sha = sha256(archive);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the uploaded archive", e);
        }
        return add(Map.of("kind", "archive", "source", source, "sha256", sha), aliases, rootfs -> {
            run(List.of("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", archive.toString(),
                    "-C", rootfs.toString()), "the archive is not a readable tar archive");
            Path inner = rootfs.resolve("rootfs");
            if (Files.isDirectory(inner) && Files.exists(rootfs.resolve("metadata.yaml"))) {
                Path lifted = Files.move(inner, rootfs.resolveSibling("rootfs.lifted"));
                deleteTree(rootfs);
                Files.move(lifted, rootfs);
            }
            if (!Files.isDirectory(rootfs.resolve("bin")) && !Files.isSymbolicLink(rootfs.resolve("bin"))
                    && !Files.isDirectory(rootfs.resolve("usr/bin"))) {
                throw new AgentException.Invalid("archive", "the archive holds no root filesystem (no /bin or /usr/bin at its"
                        + " top or under rootfs/); make it with: tar -C ROOTFS -czf image.tar.gz .");
            }
            return List.of();
        });
    }

    /** Fills an empty directory with a root filesystem and returns its package manifest (or none). */
    @FunctionalInterface
    public interface RootfsBuilder {
        List<String> build(Path rootfs) throws IOException, InterruptedException;
    }

    /**
     * Builds a rootfs with {@code builder} and stores it. If an image with the same fingerprint exists,
     * the new aliases are added to it and the build is discarded. The aliases move from any image that
     * had them (as a tag does). An interrupted build is discarded and rethrown as a cancellation.
     */
    public Image add(Map<String, Object> recipe, List<String> aliases, RootfsBuilder builder) {
        aliases.forEach(ImageStore::checkAlias);
        Path build = null;
        try {
            Files.createDirectories(dir);
            build = Files.createDirectory(dev.berth.agent.store.Scratch.name(dir, "build"));
            Path rootfs = Files.createDirectory(build.resolve("rootfs"));
            List<String> packages = builder.build(rootfs);
            InitSystem init = InitSystem.detect(rootfs);
            String fingerprint = Fingerprint.of(rootfs);
            Path target = dir.resolve(fingerprint);
            Path built = build;
            boolean moved = dev.berth.agent.store.StoreLock.with(dir, () -> {
                if (Files.exists(target.resolve("image.json"))) {
                    return false;
                }
                try {
                    Files.move(built, target, StandardCopyOption.ATOMIC_MOVE);
                    AtomicFiles.syncDirectory(dir);
                    write(new Image(fingerprint, List.of(), size(target.resolve("rootfs")), Instant.now(), Map.copyOf(recipe),
                            init.lxcConfig(), packages, target.resolve("rootfs")));
                    return true;
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                    return false; // another agent sharing the store moved the same image into place first
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            if (moved) {
                build = null;
            }
            return addAliases(read(target), aliases);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build image " + aliases + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("image build cancelled; nothing was stored");
        } finally {
            if (build != null) {
                deleteTree(build);
            }
        }
    }

    /** Points {@code alias} at {@code image}, taking it from any image that had it. */
    public Image addAliases(Image image, List<String> aliases) {
        aliases.forEach(ImageStore::checkAlias);
        return dev.berth.agent.store.StoreLock.with(dir, () -> {
            for (String alias : aliases) {
                for (Image other : list()) {
                    if (!other.fingerprint().equals(image.fingerprint()) && other.aliases().contains(alias)) {
                        write(other.withAliases(other.aliases().stream().filter(a -> !a.equals(alias)).toList()));
                    }
                }
            }
            Image current = read(dir.resolve(image.fingerprint()));
            List<String> merged = new ArrayList<>(current.aliases());
            aliases.stream().filter(a -> !merged.contains(a)).forEach(merged::add);
            Image updated = current.withAliases(merged);
            write(updated);
            return updated;
        });
    }

    /** Removes {@code alias} from the image it names. */
    public Image removeAlias(String alias) {
        return dev.berth.agent.store.StoreLock.with(dir, () -> {
            Image image = list().stream().filter(i -> i.aliases().contains(alias)).findFirst()
                    .orElseThrow(() -> new AgentException.NotFound("no image alias \"" + alias + "\""));
            Image updated = image.withAliases(image.aliases().stream().filter(a -> !a.equals(alias)).toList());
            write(updated);
            return updated;
        });
    }

    /**
     * Deletes an image. {@code users} are the containers made from it: they run on it (copy-on-write),
     * so it is refused while there are any.
     */
    public void delete(Image image, List<String> users) {
        if (!users.isEmpty()) {
            throw new AgentException.Conflict("image " + image.fingerprint().substring(0, 12) + " " + image.aliases()
                    + " is used by containers " + users + "; delete them first");
        }
        dev.berth.agent.store.StoreLock.with(dir, () -> {
            Path entry = dir.resolve(image.fingerprint());
            try {
                // The record goes first: a half-deleted image is not an image.
                Files.deleteIfExists(entry.resolve("image.json"));
                PARSED.remove(entry);
                Path doomed = Files.move(entry, dir.resolve(".delete-" + image.fingerprint()), StandardCopyOption.ATOMIC_MOVE);
                deleteTree(doomed);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete image " + image.fingerprint(), e);
            }
            return null;
        });
    }

    /** Refuses a bad alias before any work starts (the API's 400), with the rule it broke. */
    public static void checkAliases(List<String> aliases) {
        aliases.forEach(ImageStore::checkAlias);
    }

    private static void checkAlias(String alias) {
        if (alias == null || !ALIAS.matcher(alias).matches() || alias.contains("..")) {
            throw new AgentException.Invalid("aliases", "image alias \"" + alias + "\" is not valid: 1-64 letters, digits and"
                    + " . _ / : -, starting with a letter or digit");
        }
        if (HEX.matcher(alias).matches()) {
            throw new AgentException.Invalid("aliases", "image alias \"" + alias + "\" looks like a fingerprint; choose a name");
        }
    }

    /** What image.json holds: the image without its (derived) rootfs path. */
    private record Record(String fingerprint, List<String> aliases, long size, Instant created,
                          Map<String, Object> recipe, Map<String, String> lxcConfig, List<String> packages) {
    }

    private void write(Image image) {
        try {
            AtomicFiles.write(dir.resolve(image.fingerprint()).resolve("image.json"), dev.berth.agent.store.Json.PRETTY.writeValueAsBytes(new Record(
                    image.fingerprint(), image.aliases(), image.size(), image.created(), image.recipe(), image.lxcConfig(),
                    image.packages())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the record of image " + image.fingerprint(), e);
        }
    }

    /** An image.json as read, and which file that was (replaced atomically, so a new file is a new inode). */
    private record Parsed(Object fileKey, java.nio.file.attribute.FileTime modified, Image image) {
    }

    /**
     * Parsed records by entry. Agents may share a store (tests and benchmarks do), so a record is
     * re-read whenever its file is not the one parsed: a launch costs a stat per image, not a parse.
     */
    private static final java.util.Map<Path, Parsed> PARSED = new java.util.concurrent.ConcurrentHashMap<>();

    private static Image read(Path entry) {
        Path file = entry.resolve("image.json");
        try {
            var attributes = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
            Parsed known = PARSED.get(entry);
            if (known != null && known.fileKey().equals(attributes.fileKey()) && known.modified().equals(attributes.lastModifiedTime())) {
                return known.image();
            }
            Record r = dev.berth.agent.store.Json.LENIENT.forType(Record.class).readValue(file.toFile());
            Image image = new Image(r.fingerprint(), r.aliases(), r.size(), r.created(), r.recipe(), r.lxcConfig(), r.packages(),
                    entry.resolve("rootfs"));
            PARSED.put(entry, new Parsed(attributes.fileKey(), attributes.lastModifiedTime(), image));
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + entry.resolve("image.json"), e);
        }
    }

    private static void run(List<String> command, String whatWentWrong) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.MINUTES) || process.exitValue() != 0) {
                throw new AgentException.Invalid("archive", whatWentWrong + ": " + out.strip());
            }
        } finally {
            process.destroyForcibly();
        }
    }

    private static String sha256(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            var sha = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long size(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a half-built directory that cannot be listed is gone already
        }
    }
}
