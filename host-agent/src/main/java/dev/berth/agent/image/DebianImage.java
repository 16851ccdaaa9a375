package dev.berth.agent.image;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Builds a Debian rootfs with debootstrap from a {@link DebianRecipe} and readies it for containers:
 * no host name or machine id of its own (each container gets its own), no package caches, and the
 * units that cannot work in a container masked.
 */
final class DebianImage {

    /** Units that fail or make no sense inside a container; masked so that systemd reports "running". */
    static final List<String> MASKED_UNITS = List.of("sys-kernel-debug.mount", "sys-kernel-tracing.mount",
            "sys-kernel-config.mount", "systemd-journald-audit.socket", "systemd-udevd.service",
            "systemd-udev-trigger.service", "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
            "systemd-modules-load.service", "systemd-remount-fs.service", "getty-static.service",
            "systemd-sysctl.service", "systemd-firstboot.service", "proc-sys-fs-binfmt_misc.automount");

    /**
     * debootstrap's stages, in order, as its "I: <Stage> <package>" lines name them ("Validating"
     * lines interleave with "Retrieving" and count as it; unpacking and configuring run twice).
     */
    private static final List<String> STAGES = List.of("Retrieving", "Extracting", "Installing", "Unpacking", "Configuring");

    private DebianImage() {
    }

    /**
     * Runs debootstrap into {@code rootfs}. {@code progress} gets each stage change and every tenth
     * package with the line debootstrap printed; the build stops (and the process is killed) if the
     * calling thread is interrupted.
     *
     * @return the installed packages as name=version, sorted: the image's manifest
     */
    static List<String> build(DebianRecipe recipe, Path rootfs, Consumer<Map<String, Object>> progress)
            throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/sbin/debootstrap"))) {
            throw new IOException("debootstrap is missing: install it (apt-get install debootstrap; ./scripts/setup.sh does)");
        }
        List<String> command = List.of("/usr/sbin/debootstrap", "--variant=" + recipe.variant(),
                "--include=" + String.join(",", recipe.packages()), recipe.suite(), rootfs.toString(), recipe.mirror());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> tail = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String stage = "";
            int count = 0;
            for (String line; (line = out.readLine()) != null; ) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("image build cancelled");
                }
                tail.add(line);
                if (tail.size() > 20) {
                    tail.removeFirst();
                }
                String word = line.startsWith("I: ") ? line.substring(3).split(" ", 2)[0] : "";
                if (STAGES.contains(word) && !word.equals(stage)) {
                    stage = word;
                    count = 0;
                    progress.accept(Map.of("stage", stage, "step", STAGES.indexOf(stage) + 1, "steps", STAGES.size(),
                            "packages", 0, "line", line));
                } else if (STAGES.contains(word) && ++count % 10 == 0) {
                    progress.accept(Map.of("stage", stage, "step", STAGES.indexOf(stage) + 1, "steps", STAGES.size(),
                            "packages", count, "line", line));
                }
            }
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                throw new IOException("debootstrap failed (exit " + (process.isAlive() ? "timeout" : process.exitValue())
                        + "); its last lines:\n  " + String.join("\n  ", tail));
            }
        } catch (InterruptedIOException | InterruptedException e) {
            throw new InterruptedException("image build cancelled");
        } finally {
            if (process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor();
            }
        }
        progress.accept(Map.of("stage", "Finishing", "step", STAGES.size(), "steps", STAGES.size(), "packages", 0,
                "line", "preparing the rootfs for containers"));
        List<String> manifest = manifest(rootfs);
        readyForContainers(rootfs);
        return manifest;
    }

    private static List<String> manifest(Path rootfs) throws IOException, InterruptedException {
        Process query = new ProcessBuilder("dpkg-query", "--admindir=" + rootfs.resolve("var/lib/dpkg"), "-W",
                "-f", "${Package}=${Version}\\n").redirectErrorStream(true).start();
        String out = new String(query.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!query.waitFor(1, TimeUnit.MINUTES) || query.exitValue() != 0) {
            throw new IOException("cannot list the image's packages: " + out);
        }
        return out.lines().filter(l -> !l.isBlank()).sorted().toList();
    }

    private static void readyForContainers(Path rootfs) throws IOException {
        // The container's name is its host name (LXC sets it); debootstrap copied the build host's.
        Files.deleteIfExists(rootfs.resolve("etc/hostname"));
        // Empty: systemd gives each container its own machine id on first boot.
        Files.writeString(rootfs.resolve("etc/machine-id"), "");
        Files.deleteIfExists(rootfs.resolve("var/lib/dbus/machine-id"));
        for (String cache : List.of("var/cache/apt/archives", "var/lib/apt/lists", "var/cache/apt")) {
            clearFiles(rootfs.resolve(cache));
        }
        Path system = Files.createDirectories(rootfs.resolve("etc/systemd/system"));
        for (String unit : MASKED_UNITS) {
            Path link = system.resolve(unit);
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, Path.of("/dev/null"));
        }
    }

    /** Deletes the regular files under {@code dir} (package caches), keeping the directories apt expects. */
    private static void clearFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                if (!p.getFileName().toString().equals("lock")) {
                    Files.delete(p);
                }
            }
        }
    }
}
