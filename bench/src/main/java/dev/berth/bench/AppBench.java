package dev.berth.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.oci.AppRuntime;
import dev.berth.cli.client.AgentClient;
import dev.berth.testing.OciImageFixture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What Berth adds on top of crun for an app container (issue 7, acceptance 5), in one run:
 * <ul>
 *   <li>(A) launch of a busybox system container to done, without an app;</li>
 *   <li>(B) the same system container with an app (a busybox httpd image, unpacked, run by crun
 *       under catatonit and Berth's supervisor) until its HTTP health check has passed;</li>
 *   <li>(C) by hand, in a running container: {@code lxc-attach -- crun run --detach} of the same
 *       unpacked bundle, until the same page answers from the host;</li>
 *   <li>(D) {@code PUT app/state restart} until healthy again vs (E) by hand: {@code crun kill},
 *       {@code crun delete}, {@code crun run --detach} until the page answers.</li>
 * </ul>
 * Berth's overhead at launch is (B − A) − C: what the app costs through Berth beyond crun's own
 * start. Target: under 100 ms. Health is polled from the bench every 2 ms in every case, so
 * the agent's first check (25 ms after the app starts, then backing off) is part of Berth's figure.
 *
 * <p>Usage: {@code bench/app.sh [reps=15]}.
 */
public final class AppBench {

    private static final String HEALTH = "/healthz";

    private final BenchAgent agent;
    private final AgentClient client;

    private AppBench(BenchAgent agent) {
        this.agent = agent;
        this.client = agent.client();
    }

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        String prefix = BenchAgent.prefix("pb");
        try (BenchAgent agent = BenchAgent.temporary("appbench", prefix, "10.231.252.1/24")) {
            new AppBench(agent).run(prefix, agent.root(), reps);
        }
    }

    private void run(String prefix, Path root, int reps) throws Exception {
        client.run("POST", "/1.0/images", Map.of("source", Map.of("type", "busybox")), BenchAgent.OP_TIMEOUT);
        Path archive = root.resolve("bench-app.tar");
        OciImageFixture.writeOciArchive(OciImageFixture.busyboxHttpd("bench", "1", "bench", 8080), archive);
        AgentClient.Response accepted = client.upload("/1.0/app-images", Map.of("X-Berth-Filename", "bench-app.tar"), archive);
        client.await(accepted.body().path("operation").asText(), BenchAgent.OP_TIMEOUT);
        String base = "image: busybox\nlimits: {memory: 128MiB}\nsecurity: {privileged: true, nesting: false}\nnetwork: {ipv4: auto}\n";
        agent.profile("plain", base);
        agent.profile("withapp", base + "app:\n  image: bench:1\n  stop-grace: 2s\n"
                + "  health: {type: http, port: 8080, path: " + HEALTH + ", interval: 5s}\n");
        System.out.printf("berthd pid %d; %d repetitions after 2 warm-ups, interleaved; crun: %s%n%n", agent.pid(), reps,
                Measure.output("crun", "--version").lines().skip(0).findFirst().orElse("?").replaceFirst("^0 ", ""));

        long[] plain = new long[reps];
        long[] withApp = new long[reps];
        for (int i = -2; i < reps; i++) {
            String p = prefix + "-p" + (i + 2);
            String a = prefix + "-a" + (i + 2);
            long start = System.nanoTime();
            agent.launch(p, "plain");
            long tp = System.nanoTime() - start;
            start = System.nanoTime();
            agent.launch(a, "withapp");
            awaitHealthy(a);
            long ta = System.nanoTime() - start;
            delete(p);
            delete(a);
            if (i >= 0) {
                plain[i] = tp;
                withApp[i] = ta;
            }
        }

        // by hand, in one running container with the app stopped: crun run of the same unpacked bundle
        String hand = prefix + "-hand";
        agent.launch(hand, "withapp");
        awaitHealthy(hand);
        String address = client.get("/1.0/containers/" + hand).body().path("address").asText();
        client.run("PUT", "/1.0/containers/" + hand + "/app/state", Map.of("action", "stop"), BenchAgent.OP_TIMEOUT);
        long[] manual = new long[reps];
        for (int i = -2; i < reps; i++) {
            long start = System.nanoTime();
            attach(hand, AppRuntime.CRUN + " run --detach --bundle " + AppRuntime.CURRENT + " manual </dev/null >/dev/null 2>&1");
            awaitPage(address);
            long t = System.nanoTime() - start;
            attach(hand, AppRuntime.CRUN + " kill manual KILL; sleep 0.1; " + AppRuntime.CRUN + " delete --force manual");
            if (i >= 0) {
                manual[i] = t;
            }
        }
        // restarts: through the agent (stop with SIGTERM, start, until healthy) and by hand (kill, delete, run, until the page answers)
        client.run("PUT", "/1.0/containers/" + hand + "/app/state", Map.of("action", "start"), BenchAgent.OP_TIMEOUT);
        long[] restart = new long[reps];
        long[] manualRestart = new long[reps];
        awaitHealthy(hand);
        for (int i = -2; i < reps; i++) {
            long start = System.nanoTime();
            JsonNode done = client.run("PUT", "/1.0/containers/" + hand + "/app/state", Map.of("action", "restart"), BenchAgent.OP_TIMEOUT);
            if (!"success".equals(done.path("status").asText())) {
                throw new IllegalStateException("app restart failed: " + done);
            }
            awaitHealthy(hand);
            long t = System.nanoTime() - start;
            if (i >= 0) {
                restart[i] = t;
            }
        }
        client.run("PUT", "/1.0/containers/" + hand + "/app/state", Map.of("action", "stop"), BenchAgent.OP_TIMEOUT);
        attach(hand, AppRuntime.CRUN + " run --detach --bundle " + AppRuntime.CURRENT + " manual </dev/null >/dev/null 2>&1");
        awaitPage(address);
        for (int i = -2; i < reps; i++) {
            long start = System.nanoTime();
            attach(hand, AppRuntime.CRUN + " kill manual TERM; while " + AppRuntime.CRUN + " state manual 2>/dev/null | grep -q running;"
                    + " do sleep 0.01; done; " + AppRuntime.CRUN + " delete --force manual; " + AppRuntime.CRUN + " run --detach --bundle "
                    + AppRuntime.CURRENT + " manual </dev/null >/dev/null 2>&1");
            awaitPage(address);
            long t = System.nanoTime() - start;
            if (i >= 0) {
                manualRestart[i] = t;
            }
        }
        attach(hand, AppRuntime.CRUN + " kill manual KILL; sleep 0.1; " + AppRuntime.CRUN + " delete --force manual");
        delete(hand);

        long a = Measure.percentile(plain, 50);
        long b = Measure.percentile(withApp, 50);
        long c = Measure.percentile(manual, 50);
        System.out.println("== launch (p50 / p90 ms) ==");
        row("(A) system container, no app", plain);
        row("(B) same + app, to healthy", withApp);
        row("(C) crun run -d by hand, to page", manual);
        System.out.printf(Locale.ROOT, "    the app through Berth (B - A): %.1f ms; crun by hand (C): %.1f ms; ratio %.2f%n",
                Measure.ms(b - a), Measure.ms(c), (double) (b - a) / c);
        long overhead = b - a - c;
        System.out.printf(Locale.ROOT, "    Berth's overhead on top of crun: %.1f ms (target < 100 ms): %s%n%n", Measure.ms(overhead),
                overhead < 100_000_000L ? "MET" : "NOT MET");
        System.out.println("== restart (p50 / p90 ms) ==");
        row("(D) berth app restart, to healthy", restart);
        row("(E) crun kill+delete+run by hand", manualRestart);
        long d = Measure.percentile(restart, 50);
        long e = Measure.percentile(manualRestart, 50);
        System.out.printf(Locale.ROOT, "    ratio %.2f; Berth adds %.1f ms%n", (double) d / e, Measure.ms(d - e));
    }

    private static void row(String label, long[] values) {
        System.out.printf(Locale.ROOT, "%-36s %8.1f %8.1f%n", label, Measure.ms(Measure.percentile(values, 50)),
                Measure.ms(Measure.percentile(values, 90)));
    }

    private void delete(String name) {
        client.run("DELETE", "/1.0/containers/" + name + "?force=true", null, BenchAgent.OP_TIMEOUT);
    }

    private void awaitHealthy(String name) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode app = client.get("/1.0/containers/" + name + "/state").body().path("app");
            if (app.path("health").asText().equals("healthy")) {
                return;
            }
            Thread.sleep(2);
        }
        throw new IllegalStateException("the app in " + name + " did not get healthy in 30 s");
    }

    private void attach(String name, String script) throws IOException, InterruptedException {
        Measure.timed("lxc-attach", "-P", agent.lxcpath().toString(), "-n", name, "--", "sh", "-c", script);
    }

    /** Polls GET /healthz from the host every 2 ms until it answers 2xx (the agent's own check, done by hand). */
    private static void awaitPage(String address) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(address, 8080), 1000);
                socket.setSoTimeout(1000);
                socket.getOutputStream().write(("GET " + HEALTH + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String answer = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                if (answer.matches("HTTP/1\\.[01] 2.*")) {
                    return;
                }
            } catch (IOException e) {
                // not yet listening
            }
            Thread.sleep(2);
        }
        throw new IllegalStateException("nothing answered at " + address + ":8080 in 30 s");
    }
}
