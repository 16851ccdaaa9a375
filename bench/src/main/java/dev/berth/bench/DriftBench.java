package dev.berth.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.AgentClient;
import dev.berth.puppet.PuppetBridge;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The Puppet bridge's cost (issue 8, acceptance 5), in one run on Debian containers with Puppet:
 * <ul>
 *   <li>(a) one container: {@code POST .../drift} (a noop run through the bridge, the report read,
 *       the envelope compared, the report kept) against the bare {@code lxc-attach -- puppet apply --noop}
 *       of the same manifest, data and report path in the same container, interleaved;</li>
 *   <li>(b) 20 containers checked at once through the agent, with its concurrency limit, against the
 *       bare runs one after another and with the same parallelism by hand.</li>
 * </ul>
 * Target: the bridge adds under 10% to the bare noop run.
 *
 * <p>Usage: {@code bench/drift.sh [reps=5] [containers=20]}; the Debian image comes from the shared
 * test image cache (built there if missing).
 */
public final class DriftBench {

    private static final String MANIFEST = """
            file { '/etc/motd': ensure => file, content => "${lookup('motd')} (${facts['role']})\\n", mode => '0644' }
            package { 'puppet': ensure => installed }
            file { '/etc/systemd/system/berth-demo.service':
              content => "[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n",
            }
            ~> service { 'berth-demo': ensure => running, enable => true }
            """;

    private final BenchAgent agent;
    private final AgentClient client;

    private DriftBench(BenchAgent agent) {
        this.agent = agent;
        this.client = agent.client();
    }

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int containers = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        String prefix = BenchAgent.prefix("db");
        try (BenchAgent agent = BenchAgent.temporary("driftbench", prefix, "10.231.253.1/24")) {
            new DriftBench(agent).run(prefix, reps, containers);
        }
    }

    private void run(String prefix, int reps, int count) throws Exception {
        client.run("POST", "/1.0/images", Map.of("source", Map.of("type", "debootstrap"), "aliases", List.of("debian/12")),
                BenchAgent.OP_TIMEOUT);
        agent.profile("managed", """
                image: debian/12
                limits: {memory: 512MiB, pids: 2048}
                security: {privileged: true, nesting: false}
                puppet:
                  policy: report
                  interval: 24h
                  facts: {role: web}
                  data: {motd: "managed by berth"}
                  manifest: |
                """ + MANIFEST.indent(4));
        JsonNode server = client.get("/1.0").body();
        System.out.printf("berthd pid %d, drift concurrency: the agent's default (2); %d reps; Debian containers with Puppet%n%n",
                agent.pid(), reps);

        // (a) one container
        String one = prefix + "-one";
        agent.launch(one, "managed");
        long[] bridge = new long[reps];
        long[] inSlot = new long[reps];
        long[] bare = new long[reps];
        for (int i = -1; i < reps; i++) {
            long start = System.nanoTime();
            JsonNode done = check(one);
            long b = System.nanoTime() - start;
            start = System.nanoTime();
            bareNoop(one);
            long r = System.nanoTime() - start;
            if (i >= 0) {
                bridge[i] = b;
                inSlot[i] = done.path("metadata").path("durationMs").asLong() * 1_000_000;
                bare[i] = r;
            }
        }
        long b50 = Measure.percentile(bridge, 50);
        long r50 = Measure.percentile(bare, 50);
        System.out.println("== (a) one container (p50 / p90 s) ==");
        System.out.printf(Locale.ROOT, "%-46s %6.2f %6.2f%n", "drift check through the agent", b50 / 1e9, Measure.percentile(bridge, 90) / 1e9);
        System.out.printf(Locale.ROOT, "%-46s %6.2f %6.2f%n", "  of which the check itself (report durationMs)",
                Measure.percentile(inSlot, 50) / 1e9, Measure.percentile(inSlot, 90) / 1e9);
        System.out.printf(Locale.ROOT, "%-46s %6.2f %6.2f%n", "bare lxc-attach -- puppet apply --noop", r50 / 1e9, Measure.percentile(bare, 90) / 1e9);
        double added = (double) (b50 - r50) / r50 * 100;
        System.out.printf(Locale.ROOT, "    the bridge adds %.1f%% (%.0f ms) (target < 10%%): %s%n%n", added, (b50 - r50) / 1e6,
                added < 10 ? "MET" : "NOT MET");

        if (count == 0) {
            return;
        }
        // (b) many containers
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add(prefix + "-m" + i);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> launches = new ArrayList<>();
            for (String name : names) {
                launches.add(pool.submit(() -> {
                    agent.launch(name, "managed");
                    return null;
                }));
            }
            for (Future<?> f : launches) {
                f.get();
            }
        }
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> checks = new ArrayList<>();
            for (String name : names) {
                checks.add(pool.submit(() -> check(name)));
            }
            for (Future<?> f : checks) {
                f.get();
            }
        }
        long all = System.nanoTime() - start;
        start = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            List<Future<?>> runs = new ArrayList<>();
            for (String name : names) {
                runs.add(pool.submit(() -> {
                    bareNoop(name);
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
        }
        long bareAll = System.nanoTime() - start;
        System.out.println("== (b) " + count + " containers, all asked at once ==");
        System.out.printf(Locale.ROOT, "%-46s %6.2f s (%.2f s per container)%n", "through the agent (2 at a time)", all / 1e9, all / 1e9 / count);
        System.out.printf(Locale.ROOT, "%-46s %6.2f s (%.2f s per container)%n", "bare, by hand, 2 at a time", bareAll / 1e9, bareAll / 1e9 / count);
        double addedAll = (double) (all - bareAll) / bareAll * 100;
        System.out.printf(Locale.ROOT, "    the bridge adds %.1f%% (target < 10%%): %s%n", addedAll, addedAll < 10 ? "MET" : "NOT MET");
        System.out.println("    host: " + server.path("hostname").asText() + ", " + Runtime.getRuntime().availableProcessors() + " cores");
    }

    private JsonNode check(String name) {
        JsonNode done = client.run("POST", "/1.0/containers/" + name + "/drift", Map.of("action", "check"), BenchAgent.OP_TIMEOUT);
        if (!"success".equals(done.path("status").asText()) || !"in-sync".equals(done.path("metadata").path("status").asText())) {
            throw new IllegalStateException("drift check of " + name + ": " + done);
        }
        return done;
    }

    /** What the bridge runs, by hand: the same command line, environment and files (the bridge installed them). */
    private void bareNoop(String name) throws Exception {
        String dir = PuppetBridge.DIR;
        Measure.timed("lxc-attach", "-P", agent.lxcpath().toString(), "-n", name, "--clear-env",
                "--set-var", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--set-var", "FACTER_role=web", "--",
                "puppet", "apply", "--noop", "--color", "false", "--lastrunreport", dir + "/bare_report.yaml",
                "--hiera_config", dir + "/hiera.yaml", dir + "/site.pp");
    }
}
