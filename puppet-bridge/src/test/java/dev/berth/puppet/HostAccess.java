package dev.berth.puppet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The bridge's port on the host itself, for tests of the bridge alone: paths are host paths. */
final class HostAccess implements ContainerAccess {

    @Override
    public Result run(List<String> argv, Map<String, String> env, Duration timeout) {
        try {
            ProcessBuilder builder = new ProcessBuilder(argv);
            builder.environment().putAll(env);
            Process process = builder.start();
            var out = new java.io.ByteArrayOutputStream();
            var err = new java.io.ByteArrayOutputStream();
            Thread o = Thread.ofVirtual().start(() -> copy(process.getInputStream(), out));
            Thread e = Thread.ofVirtual().start(() -> copy(process.getErrorStream(), err));
            boolean done = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor();
            }
            o.join();
            e.join();
            return new Result(done ? process.exitValue() : 137, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), !done);
        } catch (IOException ex) {
            return new Result(127, "", ex.getMessage(), false);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    private static void copy(java.io.InputStream in, java.io.OutputStream out) {
        try (in) {
            in.transferTo(out);
        } catch (IOException e) {
            // the process was killed
        }
    }

    @Override
    public void write(String path, byte[] content, int mode) {
        try {
            Path p = Path.of(path);
            Files.createDirectories(p.getParent());
            Files.write(p, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public byte[] read(String path) {
        try {
            return Files.readAllBytes(Path.of(path));
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void delete(String path) {
        try {
            Path p = Path.of(path);
            if (Files.isDirectory(p)) {
                try (var walk = Files.walk(p)) {
                    for (Path each : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(each);
                    }
                }
            } else {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void copyTree(Path hostDir, String path) {
        delete(path);
        try (var walk = Files.walk(hostDir)) {
            for (Path each : walk.toList()) {
                Path target = Path.of(path).resolve(hostDir.relativize(each).toString());
                if (Files.isDirectory(each)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(each, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
