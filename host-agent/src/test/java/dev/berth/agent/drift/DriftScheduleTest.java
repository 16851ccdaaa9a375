package dev.berth.agent.drift;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.TestAgent;
import dev.berth.agent.UnixHttp;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The drift scheduler with busybox containers (fast; no Puppet in them): every container whose
 * profile has a {@code puppet:} section is checked by itself at the profile's interval, each check
 * is a {@code drift} event and a kept report, and a container without Puppet gets a failed report
 * that says so (the launch itself stands). Puppet's own part is {@code PuppetDriftTest}'s.
 */
@RequiresLxc
class DriftScheduleTest {

    @Test
    void containersAreCheckedAtTheirIntervalAndAMissingPuppetIsAFailedReport(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile("""
                    name: watched
                    image: busybox
                    limits: {memory: 64MiB}
                    security: {privileged: true, nesting: false}
                    puppet:
                      manifest: "notify { 'hello': }"
                      interval: 1s
                    """);
            List<JsonNode> events = new CopyOnWriteArrayList<>();
            UnixHttp.WebSocket stream = agent.follow("drift", events);
            List<String> names = List.of(sandbox.name("w1"), sandbox.name("w2"), sandbox.name("w3"));
            try {
                for (String name : names) {
                    agent.launch(name, "watched");
                }
                JsonNode first = agent.request("GET", "/1.0/containers/" + names.getFirst() + "/drift", null).json();
                assertThat(first.path("status").asText()).isEqualTo("failed");
                assertThat(first.path("failures").toString()).contains("no puppet in the container", "puppet.binary");

                long deadline = System.nanoTime() + 20_000_000_000L;
                while (System.nanoTime() < deadline && !everyOneCheckedTwice(events, names)) {
                    Thread.sleep(100);
                }
                assertThat(everyOneCheckedTwice(events, names)).as("scheduled checks of each container: %s", events).isTrue();
                for (String name : names) {
                    JsonNode report = agent.request("GET", "/1.0/containers/" + name + "/drift", null).json();
                    assertThat(report.path("policy").asText()).as("a scheduled check, not the first apply").isEqualTo("report");
                }
                assertThat(agent.request("GET", "/1.0", null).status()).isEqualTo(200);
            } finally {
                stream.close();
                for (String name : names) {
                    agent.request("DELETE", "/1.0/containers/" + name + "?force=true", null);
                }
            }
        }
    }

    /**
     * Five containers due every second, two drift slots: a stand-in for Puppet (puppet.binary) marks
     * itself running in a host directory all five share, counts the marks, runs a second and removes
     * its mark. No count ever exceeds two, and every container is checked.
     */
    @Test
    void neverMoreChecksAtOnceThanTheAgentsConcurrency(LxcSandbox sandbox) throws Exception {
        java.nio.file.Path shared = sandbox.scratch("shared");
        try (TestAgent agent = TestAgent.withNetwork(sandbox, sandbox.scratch("images"),
                s -> s.withDriftConcurrency(2).withHostPaths(List.of(shared)))) {
            agent.profile("""
                    name: crowd
                    image: busybox
                    limits: {memory: 64MiB}
                    security: {privileged: true, nesting: false}
                    mounts: [{host-path: %s, path: /shared}]
                    puppet:
                      manifest: "notify { 'hello': }"
                      interval: 1s
                      binary: /bin/fakepuppet
                    """.formatted(shared));
            String script = "#!/bin/sh\nme=$(hostname)\ntouch /shared/running.$me\nls /shared | grep -c '^running' >> /shared/counts.$me\n"
                    + "sleep 1\nrm -f /shared/running.$me\nexit 1\n";
            List<String> names = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    String name = sandbox.name("c" + i);
                    names.add(name);
                    agent.launch(name, "crowd");
                    TestAgent.Reply pushed = agent.raw("POST", "/1.0/containers/" + name + "/files?path=/bin/fakepuppet",
                            Map.of("X-Berth-Mode", "0755"), script.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    assertThat(pushed.status()).as(pushed.text()).isEqualTo(200);
                }
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (System.nanoTime() < deadline && !names.stream().allMatch(n -> java.nio.file.Files.exists(shared.resolve("counts." + n)))) {
                    Thread.sleep(200);
                }
                List<Integer> counts = new java.util.ArrayList<>();
                for (String name : names) {
                    java.nio.file.Path file = shared.resolve("counts." + name);
                    assertThat(file).as("%s was checked by the scheduler", name).exists();
                    java.nio.file.Files.readAllLines(file).forEach(l -> counts.add(Integer.parseInt(l.strip())));
                }
                assertThat(counts).as("Puppet runs at once, seen by each run").isNotEmpty().allSatisfy(c -> assertThat(c).isBetween(1, 2));
                assertThat(counts).as("the two slots are used together").contains(2);
            } finally {
                for (String name : names) {
                    agent.request("DELETE", "/1.0/containers/" + name + "?force=true", null);
                }
            }
        }
    }

    private static boolean everyOneCheckedTwice(List<JsonNode> events, List<String> names) {
        return names.stream().allMatch(n -> events.stream().filter(e -> e.path("metadata").path("container").asText().equals(n)
                && e.path("metadata").path("policy").asText().equals("report")).count() >= 2);
    }
}
