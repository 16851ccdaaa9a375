package dev.berth.agent.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.agent.error.AgentException;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.store.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Berth's record of each container ({@code <lxcpath>/<name>/berth.json}): read once and cached,
 * written only through here. A record is replaced by rename, so a restarted agent reads it wholly
 * old or wholly new; waiting for the disk (4-13 ms per write on this kind of VM, two writes per
 * launch) would be a third of a busybox launch, and liblxc does not sync the config it writes beside
 * it either, so a background thread flushes each write right after it. What a host crash can still
 * do is covered by recovery: an unreadable record is an interrupted launch, and a lost intent leaves
 * a container that died with the host anyway.
 */
public final class ContainerRecords implements AutoCloseable {

    static final String FILE = "berth.json";
    private static final ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;

    private final Path lxcpath;
    private final AgentLog log;
    private final Map<String, ContainerRecord> cache = new ConcurrentHashMap<>();
    private final ExecutorService flusher = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("berth-record-flush").factory());

    public ContainerRecords(Path lxcpath, AgentLog log) {
        this.lxcpath = lxcpath;
        this.log = log;
    }

    /** @throws AgentException.NotFound when Berth has no (readable) record of {@code name} */
    ContainerRecord get(String name) {
        ContainerRecord known = cache.get(name);
        if (known != null) {
            return known;
        }
        try {
            ContainerRecord record = JSON.readValue(file(name).toFile(), ContainerRecord.class);
            cache.put(name, record);
            return record;
        } catch (IOException e) {
            throw new AgentException.NotFound("no container \"" + name + "\" managed by Berth");
        }
    }

    boolean exists(String name) {
        return Files.exists(file(name));
    }

    void write(ContainerRecord record) throws IOException {
        cache.remove(record.name());
        Path file = file(record.name());
        AtomicFiles.write(file, dev.berth.agent.store.Json.PRETTY.writeValueAsBytes(record), false);
        cache.put(record.name(), record);
        flusher.execute(() -> {
            try {
                AtomicFiles.sync(file);
            } catch (IOException e) {
                log.warn("cannot flush " + file + " to disk: " + e.getMessage());
            }
        });
    }

    /** Forgets the cached record of {@code name} (its directory is going). */
    void forget(String name) {
        cache.remove(name);
    }

    private Path file(String name) {
        return lxcpath.resolve(name).resolve(FILE);
    }

    @Override
    public void close() {
        flusher.close();
    }
}
