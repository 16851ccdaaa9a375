package dev.berth.agent.oci;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.TestAgent;
import dev.berth.agent.UnixHttp;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.OciImageFixture;
import dev.berth.testing.RequiresLxc;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The app container end to end, through the agent's API, with real containers, crun and catatonit:
 * images built by the fixture and imported, a launch with an app that serves HTTP at the container's
 * address and through a port forward from loopback, its health reaching healthy, restarts by the
 * policy, no zombies, an agent restart that leaves the app alone, upgrades (one good, one that rolls
 * back by itself), a manual rollback, and a volume whose data lives through all of it.
 */
@RequiresLxc
class AppContainerTest {

    @Test
    void anAppServesIsSupervisedUpgradedAndRolledBackWhileItsVolumeKeepsItsData(LxcSandbox sandbox) throws Exception {
        Path images = sandbox.scratch("app-images");
        Path one = images.resolve("web-1.tar");
        Path two = images.resolve("web-2.tar");
        Path three = images.resolve("web-3.tar");
        OciImageFixture.writeOciArchive(OciImageFixture.busyboxHttpd("web", "1", "one", 8080), one);
        OciImageFixture.writeDockerArchive(OciImageFixture.busyboxHttpd("web", "2", "two", 8080), two);
        OciImageFixture.writeOciArchive(OciImageFixture.unhealthyHttpd("web", "3", "three", 8080), three);
        int forwarded = freePort();

        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            for (Path archive : List.of(one, two, three)) {
                TestAgent.Reply accepted = agent.raw("POST", "/1.0/app-images", Map.of("Content-Type", "application/octet-stream",
                        "X-Berth-Filename", archive.getFileName().toString()), Files.readAllBytes(archive));
                assertThat(accepted.status()).as(accepted.text()).isEqualTo(202);
                JsonNode op = agent.waitFor(accepted.json().path("operation").asText());
                assertThat(op.path("status").asText()).as(op.toString()).isEqualTo("success");
            }
            agent.profile("""
                    name: web
                    image: busybox
                    limits: {memory: 128MiB}
                    security: {privileged: false, nesting: false}
                    network:
                      ipv4: auto
                      forwards:
                        - {port: %d, target-port: 8080}
                    mounts: [{volume: webdata, path: /srv/data}]
                    app:
                      image: web:1
                      restart: on-failure
                      keep: 1
                      stop-grace: 2s
                      limits: {memory: 64MiB, pids: 100}
                      health: {type: http, port: 8080, path: /healthz, interval: 1s, retries: 2}
                    """.formatted(forwarded));
            List<JsonNode> events = new CopyOnWriteArrayList<>();
            UnixHttp.WebSocket stream = agent.follow("app", events);
            String web = sandbox.name("web");
            try {
                agent.launch(web, "web");
                JsonNode app = awaitApp(agent, web, a -> a.path("health").asText().equals("healthy"), "healthy after the launch");
                assertThat(app.path("revision").asInt()).isEqualTo(1);
                assertThat(app.path("image").asText()).isEqualTo("web:1");
                String address = agent.container(web).path("address").asText();
                assertThat(httpGet(address, 8080, "/")).as("at the container's address").contains("200 OK").endsWith("one\n");
                assertThat(httpGet("127.0.0.1", forwarded, "/")).as("through the forward").endsWith("one\n");
                assertThat(agent.request("GET", "/1.0/containers", null).status()).isEqualTo(200);
                assertThat(agent.request("GET", "/1.0/containers?recursion=1", null).json().toString()).contains("\"app\":\"healthy\"");

                // the app's own limits, within the container's (128MiB): crun set them on the app's cgroup
                assertThat(appExec(agent, web, "busybox", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes").stdout().strip())
                        .isEqualTo(Long.toString(64L << 20));
                assertThat(appExec(agent, web, "busybox", "cat", "/sys/fs/cgroup/pids/pids.max").stdout().strip()).isEqualTo("100");
                agent.profile("name: greedy\nimage: busybox\nlimits: {memory: 64MiB}\napp: {image: web:1, limits: {memory: 1GiB}}\n");
                TestAgent.Reply greedy = agent.request("POST", "/1.0/containers", Map.of("name", sandbox.name("greedy"),
                        "profiles", List.of("greedy")));
                assertThat(greedy.status()).as(greedy.text()).isEqualTo(400);
                assertThat(greedy.json().path("error").asText()).contains("app.limits.memory", "above the container's limits.memory");

                // hosting an app needs no nesting: the privileged system container's /proc/sys and /sys stay read-only
                assertThat(agent.exec(web, "sh", "-c", "awk '$2 == \"/proc/sys\" || $2 == \"/sys\" {print $2, substr($4, 1, 2)}' /proc/mounts")
                        .stdout()).contains("/proc/sys ro", "/sys ro").doesNotContain("/proc/sys rw");

                // the app sees the profile's volume at the same path
                assertThat(appExec(agent, web, "sh", "-c", "echo kept > /srv/data/file && cat /srv/data/file").stdout()).isEqualTo("kept\n");
                // 100 children abandoned inside the app are reaped by its init (catatonit): no zombies anywhere in the container
                appExec(agent, web, "sh", "-c", "i=0; while [ $i -lt 100 ]; do sh -c 'sleep 0.2 &'; i=$((i+1)); done");
                Thread.sleep(700);
                assertThat(agent.exec(web, "sh", "-c", "grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l").stdout().strip())
                        .as("zombies").isEqualTo("0");

                // kill the app's main process (the child of its init): the restart policy brings it back
                int init = agent.request("GET", "/1.0/containers/" + web + "/app", null).json().path("pid").asInt();
                assertThat(init).isPositive();
                TestAgent.Exec killed = agent.exec(web, "sh", "-c", "kill -9 $(cat /proc/" + init + "/task/" + init + "/children)");
                assertThat(killed.exitCode()).as(killed.stderr()).isZero();
                app = awaitApp(agent, web, a -> a.path("restarts").asInt() >= 1 && a.path("health").asText().equals("healthy"),
                        "restarted after its main process was killed");
                assertThat(app.path("exitCode").asInt()).as("the exit of the killed run").isEqualTo(137);
                assertThat(httpGet(address, 8080, "/")).endsWith("one\n");

                // an agent restart does not touch the app
                JsonNode before = agent.request("GET", "/1.0/containers/" + web + "/app", null).json();
                stream.close();
                agent.restart();
                stream = agent.follow("app", events);
                JsonNode after = awaitApp(agent, web, a -> a.path("health").asText().equals("healthy"), "healthy after the agent restart");
                JsonNode detail = agent.request("GET", "/1.0/containers/" + web + "/app", null).json();
                assertThat(detail.path("pid").asInt()).as("the same app process").isEqualTo(before.path("pid").asInt());
                assertThat(after.path("restarts").asInt()).isEqualTo(before.path("restarts").asInt());
                assertThat(after.path("since").asText()).isEqualTo(before.path("since").asText());

                // upgrade to a good revision
                JsonNode upgraded = agent.succeed("POST", "/1.0/containers/" + web + "/app/upgrade", Map.of("image", "web:2", "timeout", 30));
                assertThat(upgraded.path("metadata").path("revision").asInt()).as(upgraded.toString()).isEqualTo(2);
                assertThat(httpGet(address, 8080, "/")).endsWith("two\n");
                assertThat(appExec(agent, web, "busybox", "cat", "/srv/data/file").stdout()).isEqualTo("kept\n");

                // upgrade to a revision whose health check fails: rolled back by itself
                JsonNode failed = agent.operation("POST", "/1.0/containers/" + web + "/app/upgrade", Map.of("image", "web:3", "timeout", 20));
                assertThat(failed.path("status").asText()).isEqualTo("failure");
                assertThat(failed.path("error").asText()).contains("revision 3", "unhealthy", "rolled back to revision 2");
                assertThat(httpGet(address, 8080, "/")).endsWith("two\n");
                app = awaitApp(agent, web, a -> a.path("health").asText().equals("healthy"), "healthy again after the rollback");
                assertThat(app.path("revision").asInt()).isEqualTo(2);
                assertThat(agent.request("GET", "/1.0/containers/" + web + "/app", null).json().path("revisions"))
                        .extracting(r -> r.path("revision").asInt()).as("the failed revision is gone, one previous kept").containsExactly(1, 2);

                // manual rollback to the revision before
                JsonNode rolledBack = agent.succeed("POST", "/1.0/containers/" + web + "/app/rollback", Map.of());
                assertThat(rolledBack.path("metadata").path("revision").asInt()).isEqualTo(1);
                assertThat(httpGet(address, 8080, "/")).endsWith("one\n");
                assertThat(appExec(agent, web, "busybox", "cat", "/srv/data/file").stdout()).isEqualTo("kept\n");

                // stop and start the app alone: the system container keeps running
                agent.succeed("PUT", "/1.0/containers/" + web + "/app/state", Map.of("action", "stop"));
                assertThat(agent.request("GET", "/1.0/containers/" + web + "/state", null).json().path("app").path("status").asText())
                        .isEqualTo("stopped");
                assertThat(agent.request("GET", "/1.0/containers/" + web + "/state", null).json().path("status").asText()).isEqualTo("RUNNING");
                agent.succeed("PUT", "/1.0/containers/" + web + "/app/state", Map.of("action", "start"));
                awaitApp(agent, web, a -> a.path("health").asText().equals("healthy"), "healthy after an app start");
                assertThat(httpGet("127.0.0.1", forwarded, "/")).endsWith("one\n");

                // a restart of the system container: busybox init starts the supervisor, the current revision runs
                agent.succeed("PUT", "/1.0/containers/" + web + "/state", Map.of("action", "restart", "timeout", 10));
                app = awaitApp(agent, web, a -> a.path("health").asText().equals("healthy") && a.path("restarts").asInt() == 0,
                        "healthy after the system container's restart");
                assertThat(app.path("revision").asInt()).isEqualTo(1);
                assertThat(httpGet("127.0.0.1", forwarded, "/")).endsWith("one\n");
                assertThat(appExec(agent, web, "busybox", "cat", "/srv/data/file").stdout()).isEqualTo("kept\n");
            } finally {
                stream.close();
                agent.request("DELETE", "/1.0/containers/" + web, null);
            }
            assertThat(events).as("app events").anySatisfy(e -> {
                assertThat(e.path("metadata").path("container").asText()).isEqualTo(web);
                assertThat(e.path("metadata").path("health").asText()).isEqualTo("healthy");
            });
            assertThat(events).anySatisfy(e -> assertThat(e.path("metadata").path("action").asText()).isEqualTo("rollback"));
        }
    }

    @Test
    void aDebianSystemContainerRunsItsAppUnderAGeneratedSystemdUnit(LxcSandbox sandbox) throws Exception {
        Path archive = sandbox.scratch("app-images").resolve("web-1.tar");
        OciImageFixture.writeDockerArchive(OciImageFixture.busyboxHttpd("web", "1", "one", 8080), archive);
        try (TestAgent agent = TestAgent.withNetwork(sandbox, dev.berth.agent.DebianImageTest.IMAGES)) {
            TestAgent.Reply accepted = agent.raw("POST", "/1.0/app-images", Map.of("Content-Type", "application/octet-stream",
                    "X-Berth-Filename", "web-1.tar"), Files.readAllBytes(archive));
            assertThat(agent.waitFor(accepted.json().path("operation").asText()).path("status").asText()).isEqualTo("success");
            // the recipe DebianImageTest builds (built here if this runs first; found by recipe otherwise)
            agent.succeed("POST", "/1.0/images", Map.of("source", Map.of("type", "debootstrap"), "aliases", List.of("debian/12")));
            agent.profile("""
                    name: debweb
                    image: debian/12
                    limits: {memory: 512MiB, pids: 2048}
                    security: {privileged: true, nesting: false}
                    network: {ipv4: auto}
                    app:
                      image: web:1
                      restart: always
                      health: {type: tcp, port: 8080, interval: 1s}
                    """);
            String deb = sandbox.name("deb");
            try {
                agent.launch(deb, "debweb");
                awaitApp(agent, deb, a -> a.path("health").asText().equals("healthy"), "healthy in Debian");
                String address = agent.container(deb).path("address").asText();
                assertThat(httpGet(address, 8080, "/")).endsWith("one\n");
                assertThat(agent.exec(deb, "systemctl", "is-active", "berth-app.service").stdout().strip())
                        .as("systemd runs the supervisor").isEqualTo("active");
                assertThat(agent.exec(deb, "systemctl", "is-enabled", "berth-app.service").stdout().strip()).isEqualTo("enabled");
                // with restart: always, even a clean exit of the app is followed by a new run
                int init = agent.request("GET", "/1.0/containers/" + deb + "/app", null).json().path("pid").asInt();
                assertThat(agent.exec(deb, "sh", "-c", "kill -TERM $(cat /proc/" + init + "/task/" + init + "/children)").exitCode()).isZero();
                awaitApp(agent, deb, a -> a.path("restarts").asInt() >= 1 && a.path("health").asText().equals("healthy"),
                        "restarted in Debian");
                // a restart of the system container brings the app up again (systemd starts the unit at boot)
                agent.succeed("PUT", "/1.0/containers/" + deb + "/state", Map.of("action", "restart", "timeout", 30));
                awaitApp(agent, deb, a -> a.path("health").asText().equals("healthy") && a.path("restarts").asInt() == 0,
                        "healthy after the system container's restart");
                assertThat(httpGet(address, 8080, "/")).endsWith("one\n");
            } finally {
                agent.request("DELETE", "/1.0/containers/" + deb + "?force=true", null);
            }
        }
    }

    private static JsonNode awaitApp(TestAgent agent, String name, Predicate<JsonNode> condition, String what) throws Exception {
        JsonNode app = null;
        for (int i = 0; i < 300; i++) {
            app = agent.request("GET", "/1.0/containers/" + name + "/state", null).json().path("app");
            if (condition.test(app)) {
                return app;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the app in " + name + " is not " + what + " after 30 s: " + app);
    }

    private static TestAgent.Exec appExec(TestAgent agent, String name, String... command) throws Exception {
        JsonNode op = agent.succeed("POST", "/1.0/containers/" + name + "/exec", Map.of("command", List.of(command), "app", true));
        JsonNode m = op.path("metadata");
        TestAgent.Exec exec = new TestAgent.Exec(m.path("exitCode").asInt(), m.path("stdout").asText(), m.path("stderr").asText());
        assertThat(exec.exitCode()).as("%s in the app: %s", List.of(command), exec.stderr()).isZero();
        return exec;
    }

    /** GET over plain HTTP/1.0: the status line, headers and body as text. */
    static String httpGet(String host, int port, String path) throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 3000);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.0\r\nHost: test\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static int freePort() throws Exception {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
