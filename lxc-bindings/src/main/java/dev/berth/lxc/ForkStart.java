package dev.berth.lxc;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Runs {@code berth-forkstart} (src/main/c), the one piece of liblxc work that must not happen inside
 * the JVM: a daemonized start forks its caller to make the container's monitor, and a monitor forked
 * from the JVM would pin a copy-on-write image of the whole JVM for the container's lifetime, after
 * liblxc had moved the JVM itself into the monitor's cgroups.
 */
final class ForkStart {

    static final int STARTED = 0;
    static final int NOT_DEFINED = 3;

    private static final File DEV_NULL = new File("/dev/null");
    private static final Path HELPER = locate();

    private ForkStart() {
    }

    /** Outcome of one helper run: its exit status and what it wrote to stderr. */
    record Result(int exitStatus, String stderr) {
    }

    static Result start(Path lxcpath, String name, Path logFile) {
        try {
            Process process = new ProcessBuilder(HELPER.toString(), lxcpath.toString(), name, logFile.toString())
                    .redirectInput(DEV_NULL)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String stderr;
            try (InputStream err = process.getErrorStream()) {
                stderr = new String(err.readAllBytes(), StandardCharsets.UTF_8).strip();
            }
            return new Result(process.waitFor(), stderr);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + HELPER, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + name, e);
        }
    }

    /** The helper as built into target/classes, or copied out of the jar into a private directory. */
    private static Path locate() {
        URL url = ForkStart.class.getResource("libexec/berth-forkstart");
        if (url == null) {
            throw new IllegalStateException("berth-forkstart is missing from the lxc-bindings build (it is compiled"
                    + " with gcc against lxc-dev; run ./scripts/setup.sh, then rebuild)");
        }
        try {
            if (url.getProtocol().equals("file")) {
                Path helper = Path.of(url.toURI());
                if (!Files.isExecutable(helper) && !helper.toFile().setExecutable(true)) {
                    throw new IllegalStateException(helper + " is not executable");
                }
                return helper;
            }
            Path dir = Files.createTempDirectory("berth-libexec-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path helper = dir.resolve("berth-forkstart");
            try (InputStream in = url.openStream()) {
                Files.copy(in, helper, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwx------"));
            helper.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return helper;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the berth-forkstart helper", e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
