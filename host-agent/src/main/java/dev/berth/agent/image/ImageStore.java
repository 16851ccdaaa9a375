package dev.berth.agent.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.agent.store.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Images under {@code <state-dir>/images}: {@code <fingerprint>/rootfs} and {@code <fingerprint>/image.json}.
 * An image appears whole or not at all: it is built in a temporary directory, fingerprinted, then
 * renamed into place, and its record is written atomically. Safe for concurrent use.
 */
public final class ImageStore {

    /** The alias of the tiny image built from the host's busybox-static, for tests and demos. */
    public static final String BUSYBOX = "busybox";

    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
            .enable(SerializationFeature.INDENT_OUTPUT).disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final Path dir;

    public ImageStore(Path dir) {
        this.dir = dir;
    }

    /** Every image, newest first. */
    public synchronized List<Image> list() {
        List<Image> images = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.filter(e -> Files.exists(e.resolve("image.json"))).toList()) {
                images.add(read(entry));
            }
        } catch (IOException e) {
            return List.of();
        }
        images.sort(Comparator.comparing(Image::created).reversed());
        return images;
    }

    /** The image with this alias, or with this fingerprint or unique fingerprint prefix (12+ characters). */
    public synchronized Optional<Image> find(String aliasOrFingerprint) {
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

    /** The busybox image, built from the host's busybox-static on first use. */
    public synchronized Image busybox() {
        return find(BUSYBOX).orElseGet(() -> add(BusyboxImage.RECIPE, BusyboxImage.LXC_CONFIG, List.of(BUSYBOX),
                BusyboxImage::build));
    }

    /** Something that fills an empty directory with a root filesystem. */
    @FunctionalInterface
    public interface RootfsBuilder {
        void build(Path rootfs) throws IOException;
    }

    /**
     * Builds a rootfs with {@code builder} and stores it. If an image with the same fingerprint exists,
     * the new aliases are added to it and the build is discarded.
     */
    public synchronized Image add(Map<String, String> recipe, Map<String, String> lxcConfig, List<String> aliases,
                                  RootfsBuilder builder) {
        Path build = null;
        try {
            Files.createDirectories(dir);
            build = Files.createTempDirectory(dir, ".build-");
            Path rootfs = Files.createDirectory(build.resolve("rootfs"));
            builder.build(rootfs);
            String fingerprint = Fingerprint.of(rootfs);
            Path target = dir.resolve(fingerprint);
            Image image;
            if (Files.exists(target.resolve("image.json"))) {
                Image existing = read(target);
                List<String> merged = new ArrayList<>(existing.aliases());
                aliases.stream().filter(a -> !merged.contains(a)).forEach(merged::add);
                image = new Image(existing.fingerprint(), merged, existing.size(), existing.created(), existing.recipe(),
                        existing.lxcConfig(), existing.rootfs());
            } else {
                Files.move(build, target, StandardCopyOption.ATOMIC_MOVE);
                build = null;
                AtomicFiles.syncDirectory(dir);
                image = new Image(fingerprint, List.copyOf(aliases), size(target.resolve("rootfs")), Instant.now(),
                        Map.copyOf(recipe), Map.copyOf(lxcConfig), target.resolve("rootfs"));
            }
            AtomicFiles.write(target.resolve("image.json"), JSON.writeValueAsBytes(new Record(image)));
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build image " + aliases + ": " + e.getMessage(), e);
        } finally {
            if (build != null) {
                delete(build);
            }
        }
    }

    /** What image.json holds: the image without its (derived) rootfs path. */
    private record Record(String fingerprint, List<String> aliases, long size, Instant created,
                          Map<String, String> recipe, Map<String, String> lxcConfig) {
        Record(Image image) {
            this(image.fingerprint(), image.aliases(), image.size(), image.created(), image.recipe(), image.lxcConfig());
        }
    }

    private static Image read(Path entry) throws IOException {
        Record r = JSON.readValue(entry.resolve("image.json").toFile(), Record.class);
        return new Image(r.fingerprint(), r.aliases(), r.size(), r.created(), r.recipe(), r.lxcConfig(), entry.resolve("rootfs"));
    }

    private static long size(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void delete(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a half-built directory that cannot be listed is gone already
        }
    }
}
