package dev.berth.lxc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cgroups this process was in at start-up, and the hierarchies' mount points.
 *
 * <p>liblxc's daemonized start moves its <em>calling</em> process into {@code lxc.monitor.<name>}
 * before forking the monitor; that is why starts run in {@code berth-forkd}, and why tests check
 * that this JVM never strays from where it began.
 */
final class CallerCgroups {

    private static final Path PROC_CGROUP = Path.of("/proc/self/cgroup");
    private static final Path PROC_MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** {@code cgroup.procs} files of the cgroups to return to, one per hierarchy. */
    private final List<Path> homes;
    /** The mount point of each hierarchy. */
    private final List<Path> roots;

    private CallerCgroups(List<Path> homes, List<Path> roots) {
        this.homes = homes;
        this.roots = roots;
    }

    /** Records where this process is now. */
    static CallerCgroups capture() {
        try {
            Map<String, Path> mounts = cgroupMounts(Files.readAllLines(PROC_MOUNTINFO, StandardCharsets.UTF_8));
            List<Path> homes = new ArrayList<>();
            List<Path> roots = new ArrayList<>();
            for (String line : Files.readAllLines(PROC_CGROUP, StandardCharsets.UTF_8)) {
                // "4:memory:/process_api/x", "9:name=systemd:/", "0::/"
                String[] parts = line.split(":", 3);
                if (parts.length != 3) {
                    continue;
                }
                Path mount = mounts.get(parts[1]);
                if (mount != null) {
                    homes.add(mount.resolve(parts[2].substring(1)).resolve("cgroup.procs"));
                    roots.add(mount);
                }
            }
            return new CallerCgroups(List.copyOf(homes), List.copyOf(roots));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read this process's cgroups", e);
        }
    }

    /**
     * Removes the {@code lxc.monitor.<container>} cgroups of a start that failed. The aborting monitor
     * tries this itself, but while the start helper is still inside them (liblxc returns only after
     * the abort), so it fails with EBUSY. The helper and monitor may still be leaving: retry briefly.
     */
    void removeMonitorCgroups(String container) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        for (Path root : roots) {
            Path dir = root.resolve("lxc.monitor." + container);
            while (Files.isDirectory(dir) && !dir.toFile().delete() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        }
    }

    /** The hierarchies this process is in that differ from the recorded ones (for tests and diagnostics). */
    List<String> strayHierarchies() {
        CallerCgroups now = capture();
        List<String> stray = new ArrayList<>();
        for (Path home : now.homes) {
            if (!homes.contains(home)) {
                stray.add(home.getParent().toString());
            }
        }
        return stray;
    }

    /**
     * Maps each hierarchy's key as {@code /proc/self/cgroup} spells it ({@code memory},
     * {@code cpu,cpuacct}, {@code name=systemd}, {@code ""} for cgroup2) to its mount point.
     */
    static Map<String, Path> cgroupMounts(List<String> mountinfo) {
        Map<String, Path> mounts = new HashMap<>();
        for (String line : mountinfo) {
            // 35 25 0:30 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] before = line.substring(0, dash).split(" ");
            String[] after = line.substring(dash + 3).split(" ");
            if (before.length < 5 || after.length < 3 || !before[3].equals("/")) {
                continue; // only whole-hierarchy mounts
            }
            Path mountPoint = Path.of(before[4]);
            if (after[0].equals("cgroup2")) {
                mounts.putIfAbsent("", mountPoint);
            } else if (after[0].equals("cgroup")) {
                List<String> keys = new ArrayList<>();
                for (String option : after[2].split(",")) {
                    if (option.startsWith("name=") || isController(option)) {
                        keys.add(option);
                    }
                }
                mounts.putIfAbsent(String.join(",", keys), mountPoint);
            }
        }
        return mounts;
    }

    private static boolean isController(String option) {
        return switch (option) {
            case "rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "clone_children", "xattr",
                 "noprefix", "cpuset_v2_mode", "favordynmods" -> false;
            default -> !option.contains("=");
        };
    }
}
