package dev.berth.agent.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Scratch files and directories in a store (an upload being received, an image being built or
 * unpacked), named after the process that makes them: {@code .build-<pid>.<start ms>-<uuid>}. A
 * store may be shared by several agents, so an agent starting up removes only the scratch of
 * processes that are gone (killed mid-import), and first kills what is still writing into it (a
 * {@code tar} orphaned by the killed agent goes on writing otherwise).
 */
public final class Scratch {

    /** Scratch names: a known kind, then the owner (absent in the names of earlier versions). */
    private static final Pattern NAME = Pattern.compile("\\.(upload|build|staging)-(?:(\\d+)\\.(\\d+)-)?.*");
    private static final String OWNER = ProcessHandle.current().pid() + "." + startTime(ProcessHandle.current().pid());

    private Scratch() {
    }

    /** A new scratch name of {@code kind} ({@code upload}, {@code build}, {@code staging}) in {@code dir}. */
    public static Path name(Path dir, String kind) {
        return dir.resolve("." + kind + "-" + OWNER + "-" + UUID.randomUUID());
    }

    /**
     * Removes the scratch of gone processes from {@code dir}, after killing any process whose command
     * line names it.
     *
     * @return what was removed
     */
    public static List<Path> clean(Path dir) throws IOException {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return removed;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.toList()) {
                Matcher m = NAME.matcher(entry.getFileName().toString());
                if (!m.matches() || (m.group(2) != null && alive(Long.parseLong(m.group(2)), Long.parseLong(m.group(3))))) {
                    continue;
                }
                killWriters(entry);
                deleteTree(entry);
                removed.add(entry);
            }
        }
        return removed;
    }

    private static boolean alive(long pid, long startTime) {
        return startTime(pid) == startTime;
    }

    /** When process {@code pid} started (ms since the epoch), or -1 if it is gone: a reused pid has another. */
    private static long startTime(long pid) {
        return ProcessHandle.of(pid).flatMap(p -> p.info().startInstant()).map(java.time.Instant::toEpochMilli).orElse(-1L);
    }

    private static void killWriters(Path entry) {
        String path = entry.toAbsolutePath().toString();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmdline.contains(path)) {
                        ProcessHandle.of(Long.parseLong(proc.getFileName().toString())).ifPresent(ProcessHandle::destroyForcibly);
                    }
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            // no /proc to read: nothing to kill
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
