package dev.berth.agent.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.agent.store.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An app upgrade under way, on disk in the container's directory (the host's side, where the
 * container cannot write) from before the new revision is unpacked until the upgrade has succeeded or
 * been rolled back. An agent killed in between finds it on its next start: an upgrade whose new
 * revision had passed its health check is finished, any other is rolled back to {@code previous}.
 */
record UpgradeIntent(int previous, int next, String image, boolean verified) {

    private static final ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;
    static final String FILE = "app-upgrade.json";

    void write(Path containerDir) {
        try {
            AtomicFiles.write(containerDir.resolve(FILE), JSON.writeValueAsBytes(this));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the app upgrade in " + containerDir, e);
        }
    }

    UpgradeIntent asVerified() {
        return new UpgradeIntent(previous, next, image, true);
    }

    static Optional<UpgradeIntent> read(Path containerDir) {
        Path file = containerDir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), UpgradeIntent.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    static void clear(Path containerDir) {
        try {
            Files.deleteIfExists(containerDir.resolve(FILE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + containerDir.resolve(FILE), e);
        }
    }
}
