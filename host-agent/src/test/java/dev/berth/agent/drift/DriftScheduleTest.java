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
            UnixHttp.WebSocket stream = UnixHttp.WebSocket.open(agent.socket(), "/1.0/events?type=drift");
            Thread.ofVirtual().start(() -> {
                try {
                    for (String text; (text = stream.next()) != null; ) {
                        events.add(TestAgent.JSON.readTree(text));
                    }
                } catch (Exception e) {
                    // closed below
                }
            });
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

    private static boolean everyOneCheckedTwice(List<JsonNode> events, List<String> names) {
        return names.stream().allMatch(n -> events.stream().filter(e -> e.path("metadata").path("container").asText().equals(n)
                && e.path("metadata").path("policy").asText().equals("report")).count() >= 2);
    }
}
