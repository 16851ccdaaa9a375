package dev.berth.bench;

import dev.berth.profile.ProfileDocument;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Loading (parse, check, bind) 1,000 profiles of typical size: a web profile like
 * {@code examples/profiles/web.yaml}, each with its own name, memory and port. Target: under 1 s for
 * all 1,000. Run with {@code bench/profiles.sh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ProfileLoadBench {

    static final int PROFILES = 1000;

    private final List<String> yaml = new ArrayList<>();

    @Setup
    public void makeProfiles() {
        for (int i = 0; i < PROFILES; i++) {
            yaml.add("""
                    # a typical web profile
                    name: web-%d
                    description: Web front end number %d
                    extends: [base-debian]
                    image: debian/bookworm
                    limits:
                      cpu: "2"
                      memory: %dMiB
                      pids: 2048
                    network:
                      ipv4: auto
                      forwards:
                        - {protocol: tcp, listen: 127.0.0.1, port: %d, target-port: 80}
                    environment: {TZ: UTC, LOG_LEVEL: info}
                    labels: {tier: web, team: frontend}
                    app:
                      image: web:1.4
                      command: ["httpd", "-f", "-p", "80"]
                      ports: [80]
                      health: {type: http, port: 80, path: /healthz, interval: 5s, timeout: 2s, retries: 3}
                      restart: on-failure
                      stop-grace: 15s
                    puppet:
                      manifest: "file { '/etc/motd': content => 'web' }"
                      policy: enforce
                      interval: 15m
                    """.formatted(i, i, 256 + i, 10000 + i));
        }
    }

    @Benchmark
    public int loadThousandProfiles() {
        int loaded = 0;
        for (String text : yaml) {
            loaded += ProfileDocument.parse("bench.yaml", text).name().isEmpty() ? 0 : 1;
        }
        return loaded;
    }

    public static void main(String[] args) throws Exception {
        RunResult result = new Runner(new OptionsBuilder().include(ProfileLoadBench.class.getSimpleName()).build())
                .runSingle();
        double thousandMs = result.getPrimaryResult().getScore();
        System.out.printf(Locale.ROOT, "%nLoading %d profiles: %.1f ms (target < 1000 ms: %s); per profile: %.1f us%n",
                PROFILES, thousandMs, thousandMs < 1000 ? "MET" : "NOT MET", thousandMs * 1000 / PROFILES);
    }
}
