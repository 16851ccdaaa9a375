package dev.berth.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One test's share of the host: its own lxcpath, container names that start with this JVM's run
 * prefix, and optionally a bridge of its own. {@link #close()} stops and destroys every container in
 * the lxcpath, removes the lxcpath, the bridge and any cgroup directory carrying the run prefix, and
 * fails the test if liblxc left cgroup directories behind.
 *
 * <p>Clean-up uses the {@code lxc-*} tools and the file system, never the code under test, so that a
 * bug in the bindings cannot keep a container alive.
 */
public final class LxcSandbox implements AutoCloseable {

    /** This JVM's prefix: every container and bridge a test makes starts with it. */
    public static final String RUN_PREFIX = "bt" + randomTag(4);

    private static final Path ROOT = Path.of("/var/tmp/berth-test");
    private static final Path CGROUP = Path.of("/sys/fs/cgroup");
    private static final String[] HIERARCHIES = {"memory", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio",
        "pids", "systemd", "unified", ""};
    private static int bridges;

    private final Path lxcpath;
    private final String label;
    private final List<String> createdBridges = new ArrayList<>();

    private LxcSandbox(Path lxcpath, String label) {
        this.lxcpath = lxcpath;
        this.label = label;
    }

    static LxcSandbox create(String label) throws IOException {
        Files.createDirectories(ROOT);
        Path lxcpath = Files.createTempDirectory(ROOT, RUN_PREFIX + "-");
        // as berthd keeps its lxcpath: root's, traversable, so that an unprivileged container's root reaches its rootfs
        Files.setPosixFilePermissions(lxcpath, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        return new LxcSandbox(lxcpath, label);
    }

    /** This test's lxcpath: nothing else lives there. */
    public Path lxcpath() {
        return lxcpath;
    }

    /** A container name for this test: {@code <run prefix>-<base>}. */
    public String name(String base) {
        return RUN_PREFIX + "-" + base;
    }

    /** A unique scratch directory inside this sandbox, removed with it. */
    public Path scratch(String base) {
        try {
            return Files.createDirectories(lxcpath.resolve(".scratch").resolve(base));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Config items for a minimal busybox system container with no network device, so that a test
     * depends on no bridge of the host's (Debian's default config names {@code lxcbr0}).
     */
    public static Map<String, String> busyboxConfig() {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("lxc.net.0.type", "empty");
        config.put("lxc.apparmor.profile", "unconfined");
        return config;
    }

    /**
     * Creates a bridge of this test's own with {@code 10.<a>.<b>.1/24} on the host side; nothing is
     * routed or NATed beyond it. Removed on {@link #close()}.
     */
    public synchronized Bridge bridge() {
        Bridge bridge = reserveBridge();
        String name = bridge.name();
        String subnet = bridge.prefix();
        check(run("ip", "link", "add", name, "type", "bridge"), "ip link add " + name);
        check(run("ip", "addr", "add", subnet + ".1/24", "dev", name), "ip addr add");
        check(run("ip", "link", "set", name, "up"), "ip link set up");
        return bridge;
    }

    /**
     * A bridge name and subnet of this test's own, for code under test to create (an agent's managed
     * bridge); removed on {@link #close()} whoever made it.
     */
    public synchronized Bridge reserveBridge() {
        int n = ++bridges;
        String name = (RUN_PREFIX + "b" + n);
        // 10.231.0.0/16 is carved per run and per bridge; the probe below refuses an address already in use.
        String subnet = "10.231." + (Math.abs(RUN_PREFIX.hashCode() + n * 7) % 250 + 1);
        if (run("sh", "-c", "ip -4 addr | grep -q ' " + subnet + ".'") == 0) {
            throw new IllegalStateException("subnet " + subnet + ".0/24 is in use on this host; re-run the test");
        }
        createdBridges.add(name);
        return new Bridge(name, subnet);
    }

    /** A bridge a test made: {@code prefix} is the first three octets of its /24. */
    public record Bridge(String name, String prefix) {

        /** The host's address on the bridge. */
        public String hostAddress() {
            return prefix + ".1";
        }

        /** Address number {@code n} (2-254) for a container on the bridge. */
        public String address(int n) {
            return prefix + "." + n;
        }

        /** Config items that give a container a veth on this bridge with a static address. */
        public Map<String, String> nic(int n) {
            Map<String, String> config = new LinkedHashMap<>();
            config.put("lxc.net.0.type", "veth");
            config.put("lxc.net.0.link", name);
            config.put("lxc.net.0.flags", "up");
            config.put("lxc.net.0.name", "eth0");
            config.put("lxc.net.0.ipv4.address", address(n) + "/24");
            return config;
        }
    }

    @Override
    public void close() {
        List<String> problems = new ArrayList<>();
        for (String container : containersIn(lxcpath)) {
            run("lxc-stop", "-k", "-n", container, "-P", lxcpath.toString());
            if (run("lxc-destroy", "-s", "-n", container, "-P", lxcpath.toString()) != 0
                    && Files.exists(lxcpath.resolve(container).resolve("config"))) {
                problems.add("lxc-destroy failed for " + container);
            }
        }
        if (!awaitMonitorsGone(lxcpath, 10_000)) {
            problems.add("liblxc monitor processes for " + lxcpath + " still run after destroy");
        }
        deleteTree(lxcpath);
        for (String bridge : createdBridges) {
            run("ip", "link", "del", bridge);
        }
        List<Path> leaked = leakedCgroups(RUN_PREFIX);
        for (Path dir : leaked) {
            removeCgroup(dir);
        }
        if (!leaked.isEmpty()) {
            problems.add("cgroup directories were left behind (now removed): " + leaked);
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("sandbox of " + label + ": " + String.join("; ", problems));
        }
    }

    /** Directories under {@code /sys/fs/cgroup} whose name contains {@code marker}, deepest first. */
    public static List<Path> leakedCgroups(String marker) {
        List<Path> found = new ArrayList<>();
        for (String hierarchy : HIERARCHIES) {
            Path root = hierarchy.isEmpty() ? CGROUP : CGROUP.resolve(hierarchy);
            if (!Files.isDirectory(root) || (hierarchy.isEmpty() && Files.isDirectory(CGROUP.resolve("memory")))) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(root, 3)) {
                walk.filter(Files::isDirectory)
                        .filter(p -> p.getFileName() != null && p.getFileName().toString().contains(marker))
                        .forEach(found::add);
            } catch (IOException | UncheckedIOException e) {
                // a cgroup removed while we walk is not a leak
            }
        }
        found.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        return found;
    }

    /**
     * Waits until no {@code [lxc monitor] <lxcpath> ...} process is left: a monitor removes its cgroups
     * only after it reports STOPPED, so checking for leaks before it exits would race with it.
     */
    public static boolean awaitMonitorsGone(Path lxcpath, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        String title = "[lxc monitor] " + lxcpath;
        while (true) {
            boolean any = ProcessHandle.allProcesses().anyMatch(p -> cmdline(p.pid()).startsWith(title));
            if (!any) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10); // no event tells us a foreign process exited; poll briefly
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"))).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** The names of the containers defined in {@code lxcpath} (directories with a config file). */
    public static List<String> containersIn(Path lxcpath) {
        try (Stream<Path> entries = Files.list(lxcpath)) {
            return entries.filter(p -> Files.exists(p.resolve("config")))
                    .map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void removeCgroup(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(Files::isDirectory).sorted(Comparator.comparingInt(Path::getNameCount).reversed())
                    .forEach(p -> p.toFile().delete()); // rmdir: cgroupfs refuses unlink of its files
        } catch (IOException | UncheckedIOException e) {
            // already gone
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        run("rm", "-rf", "--one-file-system", root.toString());
    }

    private static void check(int exit, String what) {
        if (exit != 0) {
            throw new IllegalStateException(what + " failed with exit code " + exit);
        }
    }

    /** Runs a host command quietly and returns its exit code; a command that hangs is killed after 60 s. */
    static int run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return -1;
            }
            return process.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String randomTag(int length) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        SecureRandom random = new SecureRandom();
        StringBuilder tag = new StringBuilder();
        for (int i = 0; i < length; i++) {
            tag.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return tag.toString().toLowerCase(Locale.ROOT);
    }
}
