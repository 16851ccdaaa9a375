package dev.berth.agent.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A store that several agents may share (the image store, by design): its read-modify-write steps
 * (an image added, an alias moved, an image deleted, an index rewritten) hold {@code <store>/.lock}
 * against other processes, and a monitor against other threads of this one (the kernel's record
 * locks are per process).
 */
public final class StoreLock {

    private static final Map<Path, Object> MONITORS = new ConcurrentHashMap<>();

    private StoreLock() {
    }

    public static <T> T with(Path store, Supplier<T> work) {
        Path dir = store.toAbsolutePath().normalize();
        synchronized (MONITORS.computeIfAbsent(dir, d -> new Object())) {
            try {
                Files.createDirectories(dir);
                try (FileChannel channel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock ignored = channel.lock()) {
                    return work.get();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lock the store " + dir, e);
            }
        }
    }
}
