package dev.berth.bench;

import dev.berth.lxc.CloneOptions;
import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcCommand;
import dev.berth.lxc.LxcContainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * create (overlayfs snapshot clone of a busybox base) + start + attach {@code true} + stop + destroy,
 * through Berth's bindings and through the {@code lxc-*} tools, interleaved A B A B in one run.
 * Prints the median and p90 of each whole cycle and of each step, and the ratio against the target.
 *
 * <p>Usage: {@code bench/lifecycle.sh [iterations] [warmup]}.
 */
public final class LifecycleBench {

    private static final double TARGET_RATIO = 0.8;
    private static final String[] STEPS = {"create", "start", "attach", "stop", "destroy"};

    private LifecycleBench() {
    }

    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Path lxcpath = Files.createTempDirectory(Path.of("/var/tmp"), "berth-bench-");
        String prefix = "bb" + Long.toString(ProcessHandle.current().pid(), 36);
        String baseName = prefix + "-base";
        System.out.printf("liblxc %s, lxcpath %s, %d iterations after %d warm-up, interleaved%n",
                Lxc.version(), lxcpath, iterations, warmup);
        try (LxcContainer base = Lxc.open(baseName, lxcpath)) {
            base.setConfigItem("lxc.net.0.type", "empty");
            base.setConfigItem("lxc.apparmor.profile", "unconfined");
            base.create("busybox", List.of());
            Path rcs = base.directory().resolve("rootfs/etc/init.d/rcS");
            Files.writeString(rcs, Files.readString(rcs).replace("/bin/udhcpc", ""));

            long[][] berth = new long[iterations][STEPS.length];
            long[][] raw = new long[iterations][STEPS.length];
            for (int i = -warmup; i < iterations; i++) {
                long[] b = berthCycle(base, prefix + "-b" + (i + warmup));
                long[] r = rawCycle(lxcpath, baseName, prefix + "-r" + (i + warmup));
                if (i >= 0) {
                    berth[i] = b;
                    raw[i] = r;
                }
            }
            report(berth, raw);
        } finally {
            Measure.cleanUp(lxcpath, java.util.Set.of());
        }
    }

    private static long[] berthCycle(LxcContainer base, String name) {
        long[] t = new long[STEPS.length];
        long start = System.nanoTime();
        try (LxcContainer c = base.cloneTo(name, CloneOptions.overlaySnapshot())) {
            t[0] = lap(start);
            long s = System.nanoTime();
            c.start();
            t[1] = lap(s);
            s = System.nanoTime();
            int exit = c.run(LxcCommand.of("true")).exitCode();
            t[2] = lap(s);
            if (exit != 0) {
                throw new IllegalStateException("true exited " + exit + " in " + name);
            }
            s = System.nanoTime();
            c.stop();
            t[3] = lap(s);
            s = System.nanoTime();
            c.destroy();
            t[4] = lap(s);
        }
        return t;
    }

    private static long[] rawCycle(Path lxcpath, String baseName, String name) throws Exception {
        String p = lxcpath.toString();
        long[] t = new long[STEPS.length];
        t[0] = Measure.timed("lxc-copy", "-P", p, "-n", baseName, "-N", name, "-s", "-B", "overlayfs");
        t[1] = Measure.timed("lxc-start", "-P", p, "-n", name);
        t[2] = Measure.timed("lxc-attach", "-P", p, "-n", name, "--", "true");
        t[3] = Measure.timed("lxc-stop", "-k", "-P", p, "-n", name);
        t[4] = Measure.timed("lxc-destroy", "-P", p, "-n", name);
        return t;
    }


    private static long lap(long startNanos) {
        return System.nanoTime() - startNanos;
    }

    private static void report(long[][] berth, long[][] raw) {
        System.out.printf(Locale.ROOT, "%-10s %12s %12s %12s %12s %8s%n", "step", "berth p50", "berth p90",
                "lxc-* p50", "lxc-* p90", "ratio");
        for (int s = 0; s < STEPS.length; s++) {
            int step = s;
            row(STEPS[s], column(berth, row -> row[step]), column(raw, row -> row[step]));
        }
        long[] berthTotal = column(berth, row -> Arrays.stream(row).sum());
        long[] rawTotal = column(raw, row -> Arrays.stream(row).sum());
        double ratio = row("cycle", berthTotal, rawTotal);
        System.out.printf(Locale.ROOT, "%nbindings cycle / CLI cycle = %.2fx (target <= %.1fx): %s%n", ratio,
                TARGET_RATIO, ratio <= TARGET_RATIO ? "MET" : "NOT MET");
    }

    private static double row(String label, long[] berth, long[] raw) {
        double ratio = (double) Measure.percentile(berth, 50) / Measure.percentile(raw, 50);
        System.out.printf(Locale.ROOT, "%-10s %9.2f ms %9.2f ms %9.2f ms %9.2f ms %7.2fx%n", label,
                Measure.ms(Measure.percentile(berth, 50)), Measure.ms(Measure.percentile(berth, 90)), Measure.ms(Measure.percentile(raw, 50)), Measure.ms(Measure.percentile(raw, 90)),
                ratio);
        return ratio;
    }

    private static long[] column(long[][] rows, java.util.function.ToLongFunction<long[]> f) {
        return Arrays.stream(rows).mapToLong(f).toArray();
    }



}
