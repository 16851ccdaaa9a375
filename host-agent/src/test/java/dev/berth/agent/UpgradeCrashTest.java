package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.OciImageFixture;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * An app upgrade killed by SIGKILL is rolled back on the agent's next start: the revision that ran
 * before runs again (serving, healthy), the new revision is gone, and nothing of the upgrade is left.
 */
@RequiresLxc
class UpgradeCrashTest {

    @Test
    void aKilledUpgradeIsRolledBackOnRestart(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        Path socket = state.resolve("berth.sock");
        Path images = sandbox.scratch("oci");
        OciImageFixture.writeOciArchive(OciImageFixture.busyboxHttpd("web", "1", "one", 8080), images.resolve("web-1.tar"));
        OciImageFixture.writeOciArchive(OciImageFixture.busyboxHttpd("web", "2", "two", 8080), images.resolve("web-2.tar"));
        OciImageFixture.writeOciArchive(OciImageFixture.unhealthyHttpd("web", "3", "three", 8080), images.resolve("web-3.tar"));
        String name = sandbox.name("app");
        Path dir = sandbox.lxcpath().resolve(name);
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            for (String image : new String[] {"web-1.tar", "web-2.tar", "web-3.tar"}) {
                String accepted = UnixHttp.upload(socket, "/1.0/app-images", images.resolve(image));
                assertThat(accepted).startsWith("HTTP/1.1 202");
                String op = body(accepted).path("operation").asText();
                assertThat(UnixHttp.request(socket, "GET", op + "/wait?timeout=60", null)).contains("\"status\":\"success\"");
            }
            String profile = """
                    name: web
                    image: busybox
                    security: {privileged: true}
                    app:
                      image: web:1
                      stop-grace: 1s
                      health: {type: command, command: [/bin/busybox, wget, -qO-, "http://127.0.0.1:8080/healthz"], interval: 1s, retries: 1}
                    """;
            assertThat(UnixHttp.request(socket, "POST", "/1.0/profiles", TestAgent.JSON.writeValueAsString(
                    java.util.Map.of("name", "web", "content", profile)))).startsWith("HTTP/1.1 20");
            assertThat(UnixHttp.awaitOperation(socket, "POST", "/1.0/containers",
                    "{\"name\":\"" + name + "\",\"profiles\":[\"web\"]}")).contains("\"status\":\"success\"");
            awaitApp(socket, name, a -> a.path("health").asText().equals("healthy"));
        }

        // Killed with the unhealthy revision started and its health not yet judged: the bad revision must not stay.
        killedDuringUpgrade("app-switch-started", state, socket, sandbox, name, "web:3");
        assertRolledBack(state, socket, sandbox, name, dir);

        // Killed with the good revision unpacked but not yet switched to: the running app is left running.
        killedDuringUpgrade("upgrade-after-unpack", state, socket, sandbox, name, "web:2");
        assertRolledBack(state, socket, sandbox, name, dir);
    }

    private static void killedDuringUpgrade(String failpoint, Path state, Path socket, LxcSandbox sandbox, String name, String image)
            throws Exception {
        try (AgentProcess agent = AgentProcess.start(failpoint, state, socket, sandbox)) {
            UnixHttp.request(socket, "POST", "/1.0/containers/" + name + "/app/upgrade", "{\"image\":\"" + image + "\",\"timeout\":20}");
            assertThat(agent.awaitFailpoint(failpoint)).as("reached " + failpoint).isTrue();
            agent.kill();
        }
    }

    private static void assertRolledBack(Path state, Path socket, LxcSandbox sandbox, String name, Path dir) throws Exception {
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            JsonNode app = awaitApp(socket, name, a -> a.path("health").asText().equals("healthy"));
            assertThat(app.path("revision").asInt()).as(app.toString()).isEqualTo(1);
            assertThat(app.path("image").asText()).isEqualTo("web:1");
            String served = UnixHttp.awaitOperation(socket, "POST", "/1.0/containers/" + name + "/exec",
                    "{\"command\":[\"/bin/busybox\",\"wget\",\"-qO-\",\"http://127.0.0.1:8080/\"],\"app\":true}");
            assertThat(served).contains("\"stdout\":\"one\\n\"");
            assertThat(dir.resolve("app-upgrade.json")).as("the upgrade's intent").doesNotExist();
            try (var revisions = Files.list(dir.resolve("overlay/delta/var/lib/berth/app/revisions"))) {
                assertThat(revisions.map(p -> p.getFileName().toString())).containsExactly("1");
            }
        }
    }

    private static JsonNode awaitApp(Path socket, String name, Predicate<JsonNode> condition) throws Exception {
        JsonNode app = null;
        for (int i = 0; i < 300; i++) {
            app = body(UnixHttp.request(socket, "GET", "/1.0/containers/" + name + "/state", null)).path("app");
            if (condition.test(app)) {
                return app;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the app in " + name + " did not get there in 30 s: " + app);
    }

    private static JsonNode body(String response) throws Exception {
        return TestAgent.JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4));
    }
}
