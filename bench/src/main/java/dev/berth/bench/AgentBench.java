package dev.berth.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.AgentClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * berthd end to end, against the raw {@code lxc-*} tools on the same images, in one run:
 * (a) launch until a command runs, (b) 50 launches with parallelism 4, (c) the container list with
 * 100 running, (d) the agent's memory and each container's, (e) a Debian container until systemd
 * answers, (f) stop + delete. berthd runs as its own process (bin/berthd) on its own state dir,
 * lxcpath and socket; the client is the CLI's. Prints each figure beside its target.
 *
 * <p>Usage: {@code bench/agent.sh [reps=20] [running=100] [debian-reps=5]}.
 */
public final class AgentBench {

    private static final Duration OP_TIMEOUT = Duration.ofMinutes(20);
    private static final String BERTH = "berth";
    private static final String RAW = "lxc-*";

    private final Path root;
    private final Path berthLxcpath;
    private final Path rawLxcpath;
    private final Path images;
    private final String prefix;
    private final String bridge;
    private AgentClient client;
    private BenchAgent agent;
    private final List<String> results = new ArrayList<>();

    private AgentBench(Path root, Path images) {
        this.root = root;
        this.berthLxcpath = root.resolve("berth");
        this.rawLxcpath = root.resolve("raw");
        this.images = images;
        this.prefix = "ab" + Long.toString(ProcessHandle.current().pid(), 36);
        this.bridge = prefix + "br";
    }

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int running = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int debianReps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Path images = Path.of(System.getProperty("berth.bench.images", "/var/cache/berth-test/images"));
        Path root = Files.createTempDirectory(Path.of("/var/tmp"), "berth-agentbench-");
        // traversable, as berthd keeps its state dir: unprivileged containers' roots reach their rootfs through it
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        AgentBench bench = new AgentBench(root, images);
        try {
            bench.startAgent();
            bench.run(reps, running, debianReps);
        } finally {
            bench.cleanUp();
        }
    }

    private void run(int reps, int running, int debianReps) throws Exception {
        JsonNode busybox = client.run("POST", "/1.0/images", Map.of("source", Map.of("type", "busybox")), OP_TIMEOUT);
        Path busyboxRootfs = images.resolve(busybox.get("metadata").get("fingerprint").asText()).resolve("rootfs");
        profile("bench", "image: busybox\nlimits: {memory: 64MiB}\nsecurity: {privileged: true, nesting: false}\n");
        rawBase("bb-base", busyboxRootfs, Map.of("lxc.signal.halt", "SIGUSR1", "lxc.signal.reboot", "SIGTERM",
                "lxc.autodev", "1", "lxc.pty.max", "16", "lxc.cgroup.memory.limit_in_bytes", Long.toString(64L << 20)));
        System.out.printf("berthd pid %d, liblxc containers in %s (berth) and %s (raw)%n%n", agent.pid(), berthLxcpath, rawLxcpath);

        if (System.getProperty("berth.bench.only5") == null) {
            launchAndDelete(reps);
            unprivileged(reps, busyboxRootfs);
            parallelLaunches(50, 4);
            listAndMemory(running);
            debian(debianReps);
        }
        execAndForward(reps);

        System.out.println();
        System.out.println("== summary (targets from issues 4 and 5) ==");
        results.forEach(System.out::println);
    }

    // ---- (a) and (f) ----

    private void launchAndDelete(int reps) throws Exception {
        System.out.println("(a) launch until a command runs, (f) stop (kill) + delete: " + reps + " interleaved, 3 warm-up");
        long[] berthLaunch = new long[reps];
        long[] rawLaunch = new long[reps];
        long[] berthDelete = new long[reps];
        long[] rawDelete = new long[reps];
        for (int i = -3; i < reps; i++) {
            String b = prefix + "-a" + (i + 3);
            String r = prefix + "-ra" + (i + 3);
            long start = System.nanoTime();
            agent.launch(b, "bench");
            exec(b, List.of("true"));
            long bl = System.nanoTime() - start;
            long rl = Measure.timed("lxc-copy", "-P", rawLxcpath.toString(), "-n", "bb-base", "-N", r, "-s", "-B", "overlayfs")
                    + Measure.timed("lxc-start", "-P", rawLxcpath.toString(), "-n", r)
                    + Measure.timed("lxc-attach", "-P", rawLxcpath.toString(), "-n", r, "--", "true");
            start = System.nanoTime();
            client.run("DELETE", "/1.0/containers/" + b + "?force=true", null, OP_TIMEOUT);
            long bd = System.nanoTime() - start;
            long rd = Measure.timed("lxc-stop", "-k", "-P", rawLxcpath.toString(), "-n", r)
                    + Measure.timed("lxc-destroy", "-P", rawLxcpath.toString(), "-n", r);
            if (i >= 0) {
                berthLaunch[i] = bl;
                rawLaunch[i] = rl;
                berthDelete[i] = bd;
                rawDelete[i] = rd;
            }
        }
        ratio("(a) launch to first command", berthLaunch, rawLaunch, 1.3, "LXD 0.30-0.39 s");
        ratio("(f) stop + delete", berthDelete, rawDelete, 2.0, "LXD 0.7 s");
    }

    // ---- issue 18: (i) unprivileged launch ----

    /** A host id range for the raw unprivileged base: the last of the pool setup gives root, clear of berthd's. */
    private static final long RAW_SHIFT = 1_000_000 + 65536L * 15000;

    /**
     * (i) launch until a command runs, unprivileged (berthd: its own id range, the image id-mapped, nothing
     * copied) against berthd privileged and against raw lxc-* on an unprivileged container (a base whose
     * rootfs is a copy of the image shifted to the range: lxc-copy copies it, lxc-start, lxc-attach), interleaved.
     */
    private void unprivileged(int reps, Path busyboxRootfs) throws Exception {
        profile("bench-u", "image: busybox\nlimits: {memory: 64MiB}\nsecurity: {privileged: false, nesting: false}\n");
        Path base = Files.createDirectories(rawLxcpath.resolve("ub-base"));
        new ProcessBuilder("cp", "-a", busyboxRootfs.toString(), base.resolve("rootfs").toString()).inheritIO().start().waitFor();
        new ProcessBuilder("chown", "-R", RAW_SHIFT + ":" + RAW_SHIFT, base.resolve("rootfs").toString()).inheritIO().start().waitFor();
        Files.writeString(base.resolve("config"), String.join("\n", "lxc.rootfs.path = dir:" + base.resolve("rootfs"),
                "lxc.uts.name = ub-base", "lxc.net.0.type = empty", "lxc.mount.auto = proc:mixed sys:ro cgroup:mixed",
                "lxc.signal.halt = SIGUSR1", "lxc.signal.reboot = SIGTERM", "lxc.autodev = 1", "lxc.pty.max = 16",
                "lxc.cgroup.memory.limit_in_bytes = " + (64L << 20), "lxc.idmap = u 0 " + RAW_SHIFT + " 65536",
                "lxc.idmap = g 0 " + RAW_SHIFT + " 65536") + "\n");
        System.out.println("(i) launch until a command runs: unprivileged, privileged, raw unprivileged: " + reps + " interleaved, 3 warm-up");
        long[] unpriv = new long[reps];
        long[] priv = new long[reps];
        long[] raw = new long[reps];
        for (int i = -3; i < reps; i++) {
            String u = prefix + "-iu" + (i + 3);
            String p = prefix + "-ip" + (i + 3);
            String r = prefix + "-ir" + (i + 3);
            long start = System.nanoTime();
            agent.launch(u, "bench-u");
            exec(u, List.of("true"));
            long ul = System.nanoTime() - start;
            start = System.nanoTime();
            agent.launch(p, "bench");
            exec(p, List.of("true"));
            long pl = System.nanoTime() - start;
            long rl = Measure.timed("lxc-copy", "-P", rawLxcpath.toString(), "-n", "ub-base", "-N", r)
                    + Measure.timed("lxc-start", "-P", rawLxcpath.toString(), "-n", r)
                    + Measure.timed("lxc-attach", "-P", rawLxcpath.toString(), "-n", r, "--", "true");
            client.run("DELETE", "/1.0/containers/" + u + "?force=true", null, OP_TIMEOUT);
            client.run("DELETE", "/1.0/containers/" + p + "?force=true", null, OP_TIMEOUT);
            Measure.timed("lxc-stop", "-k", "-P", rawLxcpath.toString(), "-n", r);
            Measure.timed("lxc-destroy", "-P", rawLxcpath.toString(), "-n", r);
            if (i >= 0) {
                unpriv[i] = ul;
                priv[i] = pl;
                raw[i] = rl;
            }
        }
        ratio("(i) unprivileged vs privileged", unpriv, "privileged", priv, 1.15, "issue 18");
        ratio("(i) unprivileged vs raw unpriv.", unpriv, raw, 1.3, "issue 18");
        new ProcessBuilder("rm", "-rf", "--one-file-system", base.toString()).start().waitFor();
    }

    // ---- issue 5: (g) exec, (h) port forward ----

    private void execAndForward(int reps) throws Exception {
        int port = 20000 + (int) (ProcessHandle.current().pid() % 20000);
        profile("fwd", "image: busybox\nsecurity: {privileged: true, nesting: false}\nnetwork:\n  ipv4: auto\n  forwards: [{port: "
                + port + ", target-port: 5001}]\n");
        String b = prefix + "-x";
        String r = prefix + "-rx";
        agent.launch(b, "fwd");
        Measure.timed("lxc-copy", "-P", rawLxcpath.toString(), "-n", "bb-base", "-N", r, "-s", "-B", "overlayfs");
        Measure.timed("lxc-start", "-P", rawLxcpath.toString(), "-n", r);

        System.out.println("(g) exec of true: " + reps * 5 + " interleaved, 5 warm-up");
        int n = reps * 5;
        long[] berth = new long[n];
        long[] raw = new long[n];
        for (int i = -5; i < n; i++) {
            long start = System.nanoTime();
            exec(b, List.of("true"));
            long bt = System.nanoTime() - start;
            long rt = Measure.timed("lxc-attach", "-P", rawLxcpath.toString(), "-n", r, "--", "true");
            if (i >= 0) {
                berth[i] = bt;
                raw[i] = rt;
            }
        }
        ratio("(g) exec true (API vs lxc-attach)", berth, raw, 1.5, "lxc-attach 6.4 ms, LXD 38-46 ms");

        String address = client.get("/1.0/containers/" + b).body().get("address").asText();
        long bytes = 256L << 20;
        System.out.println("(h) TCP throughput, " + (bytes >> 20) + " MiB per run into busybox nc at " + address
                + ":5001, through the forward 127.0.0.1:" + port + " and directly, 3 runs each, interleaved");
        double[] viaForward = new double[3];
        double[] direct = new double[3];
        for (int i = 0; i < 3; i++) {
            viaForward[i] = sink(b, "127.0.0.1", port, bytes);
            direct[i] = sink(b, address, 5001, bytes);
        }
        java.util.Arrays.sort(viaForward);
        java.util.Arrays.sort(direct);
        double ratio = viaForward[1] / direct[1];
        String line = String.format(Locale.ROOT, "%-32s forward %7.0f MiB/s   direct %7.0f MiB/s   ratio %.2f   target >= 0.70: %s",
                "(h) port-forward throughput", viaForward[1], direct[1], ratio, ratio >= 0.7 ? "MET" : "NOT MET");
        System.out.println(line);
        results.add(line);
        client.run("DELETE", "/1.0/containers/" + b + "?force=true", null, OP_TIMEOUT);
    }

    /** Starts a one-connection sink in the container, sends {@code bytes} to host:port, returns MiB/s until the sink has closed. */
    private double sink(String container, String host, int port, long bytes) throws Exception {
        exec(container, List.of("sh", "-c", "(sleep 600 | nc -l -p 5001 >/dev/null 2>&1 &)"));
        byte[] chunk = new byte[1 << 20];
        for (int attempt = 0; ; attempt++) {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress(host, port), 2000);
                long start = System.nanoTime();
                var out = socket.getOutputStream();
                for (long sent = 0; sent < bytes; sent += chunk.length) {
                    out.write(chunk);
                }
                socket.shutdownOutput();
                socket.getInputStream().readAllBytes(); // until the sink has read everything and closed
                return (bytes / (double) (1 << 20)) / ((System.nanoTime() - start) / 1e9);
            } catch (java.io.IOException e) {
                if (attempt > 20) {
                    throw e;
                }
                Thread.sleep(50); // nc not listening yet
            }
        }
    }

    // ---- (b) ----

    private void parallelLaunches(int count, int parallelism) throws Exception {
        System.out.println("(b) " + count + " launches with parallelism " + parallelism);
        List<Callable<Void>> berth = berthLaunches(0, count);
        List<Callable<Void>> raw = rawLaunches(0, count);
        double berthRate = count / Measure.seconds(Measure.allOf(berth, parallelism));
        double rawRate = count / Measure.seconds(Measure.allOf(raw, parallelism));
        String line = String.format(Locale.ROOT, "%-32s berth %6.1f/s   lxc-* %6.1f/s   ratio %.2f   target >= 30/s: %s  (LXD 5.7/s)",
                "(b) launches per second", berthRate, rawRate, berthRate / rawRate, berthRate >= 30 ? "MET" : "NOT MET");
        System.out.println(line);
        results.add(line);
    }

    /** Launches of busybox containers {@code from} to {@code to} (exclusive) through the agent. */
    private List<Callable<Void>> berthLaunches(int from, int to) {
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String name = prefix + "-b" + i;
            tasks.add(() -> {
                agent.launch(name, "bench");
                return null;
            });
        }
        return tasks;
    }

    /** The same launches with lxc-copy and lxc-start. */
    private List<Callable<Void>> rawLaunches(int from, int to) {
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String name = prefix + "-rb" + i;
            tasks.add(() -> {
                Measure.timed("lxc-copy", "-P", rawLxcpath.toString(), "-n", "bb-base", "-N", name, "-s", "-B", "overlayfs");
                Measure.timed("lxc-start", "-P", rawLxcpath.toString(), "-n", name);
                return null;
            });
        }
        return tasks;
    }

    // ---- (c) and (d) ----

    private void listAndMemory(int running) throws Exception {
        long rssBefore = HostMemory.rssKib(agent.pid());
        List<Callable<Void>> berth = berthLaunches(50, running);
        List<Callable<Void>> raw = rawLaunches(50, running);
        Measure.allOf(berth, 4);
        Measure.allOf(raw, 4);
        int listed = client.get("/1.0/containers?recursion=1").body().size();
        System.out.println("(c) GET /1.0/containers?recursion=1 with " + listed + " running vs lxc-ls -f: 30 interleaved, 3 warm-up");
        long[] berthList = new long[30];
        long[] rawList = new long[30];
        long[] names = new long[30];
        for (int i = -3; i < 30; i++) {
            long start = System.nanoTime();
            client.get("/1.0/containers");
            long n = System.nanoTime() - start;
            start = System.nanoTime();
            JsonNode all = client.get("/1.0/containers?recursion=1").body();
            long b = System.nanoTime() - start;
            if (all.size() != listed) {
                throw new IllegalStateException("listed " + all.size() + " containers, expected " + listed);
            }
            long r = Measure.timed("lxc-ls", "-f", "-P", rawLxcpath.toString());
            if (i >= 0) {
                berthList[i] = b;
                rawList[i] = r;
                names[i] = n;
            }
        }
        System.out.printf(Locale.ROOT, "    (names only, GET /1.0/containers: p50 %.2f ms)%n", Measure.ms(Measure.percentile(names, 50)));
        String line = String.format(Locale.ROOT, "%-32s berth p50 %7.2f ms p90 %7.2f ms   lxc-ls -f p50 %7.2f ms   target p50 < 15 ms: %s  (LXD 30 ms)",
                "(c) list " + listed + " containers", Measure.ms(Measure.percentile(berthList, 50)), Measure.ms(Measure.percentile(berthList, 90)),
                Measure.ms(Measure.percentile(rawList, 50)), Measure.percentile(berthList, 50) < 15_000_000 ? "MET" : "NOT MET");
        System.out.println(line);
        results.add(line);

        long rssAfter = HostMemory.rssKib(agent.pid());
        double berthMonitor = HostMemory.averagePssKib(berthLxcpath);
        double rawMonitor = HostMemory.averagePssKib(rawLxcpath);
        double forkd = ProcessHandle.allProcesses().filter(p -> p.info().command().orElse("").endsWith("berth-forkd"))
                .mapToDouble(p -> HostMemory.pssKib(p.pid())).sum();
        double berthPerContainer = berthMonitor + (Math.max(0, rssAfter - rssBefore) + forkd) / (double) listed;
        String rss = String.format(Locale.ROOT, "%-32s %7.1f MiB with %d running (was %.1f MiB with none)   target <= 128 MiB: %s  (LXD 123 MiB)",
                "(d) berthd resident memory", rssAfter / 1024.0, listed, rssBefore / 1024.0, rssAfter / 1024.0 <= 128 ? "MET" : "NOT MET");
        String per = String.format(Locale.ROOT, "%-32s berth %5.2f MiB (monitor PSS %.2f + agent growth and fork server per container)   lxc-start %5.2f MiB   "
                        + "difference %+.2f MiB, target <= +2 MiB: %s  (LXD about 11 MiB)", "(d) host memory per container",
                berthPerContainer / 1024, berthMonitor / 1024, rawMonitor / 1024, (berthPerContainer - rawMonitor) / 1024,
                berthPerContainer - rawMonitor <= 2048 ? "MET" : "NOT MET");
        System.out.println(rss);
        System.out.println(per);
        results.add(rss);
        results.add(per);

        List<Callable<Void>> deletes = new ArrayList<>();
        for (int i = 0; i < running; i++) {
            String b = prefix + "-b" + i;
            deletes.add(() -> {
                client.run("DELETE", "/1.0/containers/" + b + "?force=true", null, OP_TIMEOUT);
                return null;
            });
        }
        Measure.allOf(deletes, 4);
        for (int i = 0; i < running; i++) {
            new ProcessBuilder("lxc-stop", "-k", "-P", rawLxcpath.toString(), "-n", prefix + "-rb" + i).start().waitFor();
            new ProcessBuilder("lxc-destroy", "-P", rawLxcpath.toString(), "-n", prefix + "-rb" + i).start().waitFor();
        }
    }

    // ---- (e) ----

    private void debian(int reps) throws Exception {
        System.out.println("(e) Debian (systemd) container from a cached image until systemctl is-system-running answers: "
                + reps + " interleaved, 1 warm-up");
        long start = System.nanoTime();
        JsonNode image = client.run("POST", "/1.0/images", Map.of("source", Map.of("type", "debootstrap"),
                "aliases", List.of("bench-debian")), OP_TIMEOUT);
        if (!image.get("metadata").get("cached").asBoolean()) {
            System.out.printf(Locale.ROOT, "    (built the Debian image first: %.0f s)%n", Measure.seconds(System.nanoTime() - start));
        }
        Path rootfs = images.resolve(image.get("metadata").get("fingerprint").asText()).resolve("rootfs");
        profile("bench-debian", "image: bench-debian\nlimits: {memory: 512MiB}\nsecurity: {privileged: true, nesting: false}\n");
        profile("bench-debian-u", "image: bench-debian\nlimits: {memory: 512MiB}\nsecurity: {privileged: false, nesting: false}\n");
        rawBase("deb-base", rootfs, Map.of("lxc.include", "/usr/share/lxc/config/common.conf", "lxc.signal.halt", "SIGRTMIN+3",
                "lxc.autodev", "1", "lxc.cgroup.memory.limit_in_bytes", Long.toString(512L << 20)));
        long[] berth = new long[reps];
        long[] unprivileged = new long[reps];
        long[] raw = new long[reps];
        for (int i = -1; i < reps; i++) {
            String b = prefix + "-e" + (i + 1);
            String u = prefix + "-eu" + (i + 1);
            String r = prefix + "-re" + (i + 1);
            long bt = debianUntilRunning(b, "bench-debian");
            long ut = debianUntilRunning(u, "bench-debian-u");
            client.run("DELETE", "/1.0/containers/" + u + "?force=true", null, OP_TIMEOUT);
            start = System.nanoTime();
            Measure.timed("lxc-copy", "-P", rawLxcpath.toString(), "-n", "deb-base", "-N", r, "-s", "-B", "overlayfs");
            Measure.timed("lxc-start", "-P", rawLxcpath.toString(), "-n", r);
            String rawState;
            do {
                rawState = Measure.output("lxc-attach", "-P", rawLxcpath.toString(), "-n", r, "--", "systemctl",
                        "is-system-running", "--wait");
            } while (rawState.contains("Failed to connect to bus"));
            long rt = System.nanoTime() - start;
            client.run("DELETE", "/1.0/containers/" + b, null, OP_TIMEOUT);
            Measure.timed("lxc-stop", "-k", "-P", rawLxcpath.toString(), "-n", r);
            Measure.timed("lxc-destroy", "-P", rawLxcpath.toString(), "-n", r);
            if (i >= 0) {
                berth[i] = bt;
                unprivileged[i] = ut;
                raw[i] = rt;
            }
        }
        String line = String.format(Locale.ROOT, "%-32s berth p50 %6.3f s   lxc-* p50 %6.3f s   ratio %.2f   target <= 0.5 s: %s  (LXD 2.0-2.5 s)",
                "(e) Debian to systemd running", Measure.seconds(Measure.percentile(berth, 50)), Measure.seconds(Measure.percentile(raw, 50)),
                (double) Measure.percentile(berth, 50) / Measure.percentile(raw, 50),
                Measure.percentile(berth, 50) <= 500_000_000L ? "MET" : "NOT MET");
        System.out.println(line);
        results.add(line);
        double ratio = (double) Measure.percentile(unprivileged, 50) / Measure.percentile(berth, 50);
        String uline = String.format(Locale.ROOT, "%-32s berth p50 %6.3f s   privileged p50 %6.3f s   ratio %.2f   target <= 1.10x: %s  (issue 18)",
                "(e) Debian unprivileged", Measure.seconds(Measure.percentile(unprivileged, 50)), Measure.seconds(Measure.percentile(berth, 50)),
                ratio, ratio <= 1.1 ? "MET" : "NOT MET");
        System.out.println(uline);
        results.add(uline);
    }

    /** Launches {@code name} from {@code profile} and waits for systemd to say running (or degraded); the time taken. */
    private long debianUntilRunning(String name, String profile) {
        long start = System.nanoTime();
        agent.launch(name, profile);
        String state = exec(name, List.of("systemctl", "is-system-running", "--wait")).strip();
        long took = System.nanoTime() - start;
        if (!List.of("running", "degraded").contains(state)) {
            throw new IllegalStateException(name + ": systemd says " + state);
        }
        return took;
    }

    // ---- helpers ----

    private void ratio(String label, long[] berth, long[] raw, double target, String lxd) {
        ratio(label, berth, "lxc-*", raw, target, lxd);
    }

    private void ratio(String label, long[] berth, String reference, long[] raw, double target, String lxd) {
        double ratio = (double) Measure.percentile(berth, 50) / Measure.percentile(raw, 50);
        String line = String.format(Locale.ROOT, "%-32s berth p50 %7.1f ms p90 %7.1f ms   %s p50 %7.1f ms   ratio %.2f   target <= %.2fx: %s  (%s)",
                label, Measure.ms(Measure.percentile(berth, 50)), Measure.ms(Measure.percentile(berth, 90)), reference,
                Measure.ms(Measure.percentile(raw, 50)), ratio, target, ratio <= target ? "MET" : "NOT MET", lxd);
        System.out.println(line);
        results.add(line);
    }

    private String exec(String name, List<String> command) {
        JsonNode done = client.run("POST", "/1.0/containers/" + name + "/exec", Map.of("command", command), OP_TIMEOUT);
        return done.get("metadata").get("stdout").asText();
    }

    private void profile(String name, String body) {
        agent.profile(name, body);
    }

    /**
     * A raw LXC container on the image's rootfs, to snapshot with lxc-copy as Berth layers on the
     * image. lxc-copy wants the base's rootfs path to contain its name, hence the link; the base is
     * never lxc-destroyed (that would delete the image's rootfs), see {@link #cleanUp}.
     */
    private void rawBase(String name, Path rootfs, Map<String, String> imageConfig) throws IOException {
        Path dir = Files.createDirectories(rawLxcpath.resolve(name));
        Files.createSymbolicLink(dir.resolve("rootfs"), rootfs);
        Map<String, String> config = new LinkedHashMap<>(imageConfig);
        config.put("lxc.rootfs.path", "dir:" + dir.resolve("rootfs"));
        config.put("lxc.uts.name", name);
        config.put("lxc.net.0.type", "empty");
        config.put("lxc.mount.auto", "proc:mixed sys:ro cgroup:mixed");
        StringBuilder text = new StringBuilder();
        config.forEach((k, v) -> text.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(dir.resolve("config"), text);
    }

    private void startAgent() throws Exception {
        agent = new BenchAgent(root, berthLxcpath, images, bridge, "10.231.251.1/24");
        client = agent.client();
    }

    private void cleanUp() throws Exception {
        Measure.cleanUp(rawLxcpath, java.util.Set.of("bb-base", "deb-base"));
        if (agent != null) {
            agent.close(); // its containers and lxcpath, then the whole directory (root) and its bridge
        } else {
            new ProcessBuilder("rm", "-rf", "--one-file-system", root.toString()).start().waitFor();
        }
    }
}
