package dev.berth.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** What the benchmarks share: timing a command, percentiles, and removing what a run made. */
final class Measure {

    private Measure() {
    }

    /** Runs a command to completion and returns its wall time in nanoseconds; fails if it fails. */
    static long timed(String... command) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException(Arrays.toString(command) + " failed");
        }
        return System.nanoTime() - start;
    }

    /** Runs a command and returns its exit code and output (no timing). */
    static String output(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes());
        process.waitFor(120, TimeUnit.SECONDS);
        return process.exitValue() + " " + out;
    }

    static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, Math.max(0, (int) Math.ceil(p / 100.0 * sorted.length) - 1))];
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    /**
     * Stops and destroys every container in {@code lxcpath} (those whose names end in {@code -base}
     * last: the others are layered on them), then removes the directory. Bases in {@code borrowed}
     * run on a rootfs that is not theirs (an image's): only their directory goes, never the rootfs,
     * which lxc-destroy would delete.
     */
    static void cleanUp(Path lxcpath, java.util.Set<String> borrowed) throws IOException, InterruptedException {
        if (!Files.isDirectory(lxcpath)) {
            return;
        }
        List<String> names = new ArrayList<>();
        try (var entries = Files.list(lxcpath)) {
            entries.filter(e -> Files.exists(e.resolve("config"))).forEach(e -> names.add(e.getFileName().toString()));
        }
        names.sort((a, b) -> Boolean.compare(a.endsWith("-base"), b.endsWith("-base")));
        for (String name : names) {
            if (borrowed.contains(name)) {
                new ProcessBuilder("rm", "-rf", "--one-file-system", lxcpath.resolve(name).toString()).start().waitFor();
                continue;
            }
            new ProcessBuilder("lxc-stop", "-k", "-P", lxcpath.toString(), "-n", name).start().waitFor();
            new ProcessBuilder("lxc-destroy", "-P", lxcpath.toString(), "-n", name).start().waitFor();
        }
        new ProcessBuilder("rm", "-rf", "--one-file-system", lxcpath.toString()).start().waitFor();
    }

    static long allOf(List<Callable<Void>> tasks, int parallelism) throws Exception {
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(parallelism)) {
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
        }
        return System.nanoTime() - start;
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
