package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.TestAgent;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Snapshots, restore, copies, volumes and ephemeral containers, with real containers through the API. */
@RequiresLxc
class StorageTest {

    private static final String PROFILE = """
            name: plain
            image: busybox
            security: {privileged: true, nesting: false}
            network: {ipv4: auto}
            """;

    @Test
    void aRestoreBringsBackTheSnapshotsContentEvenOnARunningContainerAndACopyGetsItsOwnAddress(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile(PROFILE);
            String name = sandbox.name("snap");
            agent.launch(name, "plain");
            write(agent, name, "/etc/motd", "first");
            JsonNode taken = agent.succeed("POST", "/1.0/containers/" + name + "/snapshots", Map.of("name", "before"));
            assertThat(taken.path("metadata").path("name").asText()).isEqualTo("before");
            write(agent, name, "/etc/motd", "second");
            agent.exec(name, "touch", "/root/added-later");

            // Restore while running: the old content, the container running again.
            agent.succeed("POST", "/1.0/containers/" + name + "/snapshots/before/restore", null);
            assertThat(agent.container(name).path("status").asText()).isEqualTo("RUNNING");
            assertThat(read(agent, name, "/etc/motd")).isEqualTo("first");
            assertThat(agent.exec(name, "test", "-e", "/root/added-later").exitCode()).as("a file made after the snapshot").isEqualTo(1);

            // A restore that fails half-way leaves the container as it was, and running.
            write(agent, name, "/etc/motd", "third");
            Snapshots.afterRestoreCopy = () -> {
                throw new IllegalStateException("injected failure after the copy");
            };
            try {
                JsonNode failed = agent.operation("POST", "/1.0/containers/" + name + "/snapshots/before/restore", null);
                assertThat(failed.path("status").asText()).isEqualTo("failure");
                assertThat(failed.path("error").asText()).contains("injected failure");
            } finally {
                Snapshots.afterRestoreCopy = () -> { };
            }
            assertThat(agent.container(name).path("status").asText()).isEqualTo("RUNNING");
            assertThat(read(agent, name, "/etc/motd")).isEqualTo("third");

            // Snapshots are listed, copies made from them, and deleted.
            agent.succeed("POST", "/1.0/containers/" + name + "/snapshots", null);
            JsonNode list = agent.request("GET", "/1.0/containers/" + name + "/snapshots", null).json();
            assertThat(list.findValuesAsText("name")).containsExactly("before", "snap0");
            String copy = sandbox.name("copy");
            agent.succeed("POST", "/1.0/containers", Map.of("name", copy, "source", Map.of("container", name, "snapshot", "before")));
            assertThat(read(agent, copy, "/etc/motd")).isEqualTo("first");
            assertThat(agent.container(copy).path("address").asText()).isNotEqualTo(agent.container(name).path("address").asText());
            assertThat(agent.exec(copy, "ping", "-c1", "-W2", name).exitCode()).isZero();
            String live = sandbox.name("live");
            agent.succeed("POST", "/1.0/containers", Map.of("name", live, "source", Map.of("container", name)));
            assertThat(read(agent, live, "/etc/motd")).isEqualTo("third");
            agent.succeed("DELETE", "/1.0/containers/" + name + "/snapshots/before", null);
            assertThat(agent.request("GET", "/1.0/containers/" + name + "/snapshots", null).json().findValuesAsText("name"))
                    .containsExactly("snap0");
            assertThat(agent.operation("POST", "/1.0/containers/" + name + "/snapshots/before/restore", null).path("error").asText())
                    .contains("no snapshot before");
        }
    }

    @Test
    void volumesOutliveTheirContainersAndAreNotDeletedWhileMounted(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile(PROFILE.replace("name: plain", "name: stateful") + "mounts: [{volume: data, path: /srv/data}]\n");
            String first = sandbox.name("first");
            agent.launch(first, "stateful");
            write(agent, first, "/srv/data/kept.txt", "precious");
            JsonNode volume = agent.request("GET", "/1.0/volumes/data", null).json();
            assertThat(volume.path("usedBy").toString()).contains(first);
            TestAgent.Reply refused = agent.request("DELETE", "/1.0/volumes/data", null);
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.json().path("error").asText()).contains("mounted by", first);

            agent.succeed("DELETE", "/1.0/containers/" + first + "?force=1", null);
            String second = sandbox.name("second");
            agent.launch(second, "stateful");
            assertThat(read(agent, second, "/srv/data/kept.txt")).isEqualTo("precious");
            agent.succeed("DELETE", "/1.0/containers/" + second + "?force=1", null);
            assertThat(agent.request("DELETE", "/1.0/volumes/data", null).status()).isEqualTo(200);
            assertThat(agent.request("GET", "/1.0/volumes/data", null).status()).isEqualTo(404);
        }
    }

    @Test
    void anEphemeralContainerIsGoneWithItsAddressOnceItStopsButItsVolumeStays(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile(PROFILE.replace("name: plain", "name: temp") + "mounts: [{volume: scratch, path: /srv/scratch}]\n");
            String byApi = sandbox.name("eph1");
            String byItself = sandbox.name("eph2");
            for (String name : List.of(byApi, byItself)) {
                agent.succeed("POST", "/1.0/containers", Map.of("name", name, "profiles", List.of("temp"), "ephemeral", true));
                assertThat(agent.container(name).path("ephemeral").asBoolean()).isTrue();
            }
            write(agent, byApi, "/srv/scratch/left.txt", "still here");
            String address = agent.container(byApi).path("address").asText();
            agent.state(byApi, "stop");
            assertThat(agent.request("GET", "/1.0/containers/" + byApi, null).status()).isEqualTo(404);
            assertThat(sandbox.lxcpath().resolve(byApi)).doesNotExist();

            // A poweroff from inside: the agent notices within a second or two.
            agent.request("POST", "/1.0/containers/" + byItself + "/exec", Map.of("command", List.of("poweroff", "-f")));
            long deadline = System.currentTimeMillis() + 15_000;
            while (agent.request("GET", "/1.0/containers/" + byItself, null).status() != 404 && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            assertThat(agent.request("GET", "/1.0/containers/" + byItself, null).status()).isEqualTo(404);
            assertThat(java.nio.file.Files.readString(agent.stateDir().resolve("network").resolve(agent.bridge().name() + ".json")))
                    .doesNotContain(address);
            assertThat(agent.stateDir().resolve("volumes/scratch/left.txt")).hasContent("still here");
        }
    }

    @Test
    void automaticSnapshotsAreTakenOnScheduleAndExpire(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile(PROFILE.replace("name: plain", "name: kept") + "snapshots: {schedule: 1s, expiry: 3s}\n");
            String name = sandbox.name("auto");
            agent.launch(name, "kept");
            agent.succeed("POST", "/1.0/containers/" + name + "/snapshots", Map.of("name", "manual"));
            Thread.sleep(6500);
            JsonNode list = agent.request("GET", "/1.0/containers/" + name + "/snapshots", null).json();
            List<String> autos = list.findValuesAsText("name").stream().filter(n -> n.startsWith("auto-")).toList();
            assertThat(autos).as("one a second, none older than 3 s (+ a tick)").hasSizeBetween(2, 5);
            java.time.Instant oldest = java.time.Instant.now();
            for (JsonNode s : list) {
                if (s.path("name").asText().startsWith("auto-")) {
                    java.time.Instant created = java.time.Instant.parse(s.path("created").asText());
                    oldest = created.isBefore(oldest) ? created : oldest;
                }
            }
            assertThat(java.time.Duration.between(oldest, java.time.Instant.now())).isLessThan(java.time.Duration.ofMillis(5500));
            assertThat(list.findValuesAsText("name")).as("a snapshot taken by hand is never expired").contains("manual");
        }
    }

    private static void write(TestAgent agent, String name, String path, String content) throws Exception {
        TestAgent.Reply r = agent.raw("POST", "/1.0/containers/" + name + "/files?path=" + path, Map.of(),
                content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
    }

    private static String read(TestAgent agent, String name, String path) throws Exception {
        TestAgent.Reply r = agent.request("GET", "/1.0/containers/" + name + "/files?path=" + path, null);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.text();
    }
}
