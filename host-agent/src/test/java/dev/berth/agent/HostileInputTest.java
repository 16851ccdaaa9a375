package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a profile author or an API caller must not be able to do to the host, tried against a real
 * agent: each test fails if the attack works.
 */
@RequiresLxc
class HostileInputTest {

    private static final String PRIVILEGED = "security: {privileged: true}\n";

    @Test
    void aLineBreakInAnyValueNeverBecomesAHostHook(LxcSandbox sandbox) throws Exception {
        Path marker = sandbox.scratch("hook").resolve("ran-as-host-root");
        String hook = "lxc.hook.pre-start = /bin/sh -c 'id > " + marker + "'";
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile("name: plain\nimage: busybox\n" + PRIVILEGED);
            String yaml = "name: evil\nimage: busybox\n" + PRIVILEGED + "environment:\n  FOO: \"bar\\n" + hook + "\"\n";
            TestAgent.Reply profile = agent.request("POST", "/1.0/profiles", Map.of("name", "evil", "content", yaml));
            assertThat(profile.status()).as(profile.text()).isEqualTo(400);
            assertThat(profile.json().path("error").asText()).contains(":5:", "environment.FOO", "U+000A (line feed)");

            List<Map<String, Object>> hostile = List.of(
                    Map.of("environment.FOO", "x\n" + hook),
                    Map.of("environment", Map.of("FOO\nlxc.hook.pre-start", "x")),
                    Map.of("mounts", List.of(Map.of("volume", "v", "path", "/mnt/v\n" + hook))),
                    Map.of("network", Map.of("bridge", "br0\n" + hook)),
                    Map.of("labels.a", "b\r" + hook));
            int n = 0;
            for (Map<String, Object> config : hostile) {
                String name = sandbox.name("evil" + n++);
                TestAgent.Reply launch = agent.request("POST", "/1.0/containers", Map.of("name", name, "profiles", List.of("plain"),
                        "config", config));
                String error = launch.status() == 202 ? agent.waitFor(launch.json().path("operation").asText()).toString()
                        : launch.json().path("error").asText();
                assertThat(launch.status()).as("%s: %s", config, error).isEqualTo(400);
                assertThat(error).as(config.toString()).containsAnyOf("U+000A", "U+000D");
                assertThat(sandbox.lxcpath().resolve(name)).as("nothing made for " + config).doesNotExist();
            }
            assertThat(marker).as("a hook ran on the host").doesNotExist();
        }
    }

    @Test
    void aSymlinkUnderTheAllowListDoesNotLeadOutOfIt(LxcSandbox sandbox) throws Exception {
        Path allowed = sandbox.scratch("allowed");
        Path secret = sandbox.scratch("secret");
        Files.writeString(secret.resolve("shadow"), "host secret\n");
        Files.createSymbolicLink(allowed.resolve("etc-link"), secret);
        Path real = Files.createDirectories(allowed.resolve("real"));
        Files.writeString(real.resolve("file"), "shared\n");
        try (TestAgent agent = TestAgent.withNetwork(sandbox, sandbox.scratch("images"), s -> s.withHostPaths(List.of(allowed)))) {
            agent.profile("name: linked\nimage: busybox\n" + PRIVILEGED
                    + "mounts: [{host-path: " + allowed.resolve("etc-link") + ", path: /mnt/x}]\n");
            String linked = sandbox.name("linked");
            JsonNode failed = agent.operation("POST", "/1.0/containers", Map.of("name", linked, "profiles", List.of("linked")));
            assertThat(failed.path("status").asText()).as(failed.toString()).isEqualTo("failure");
            assertThat(failed.path("error").asText()).contains("symbolic link", allowed.resolve("etc-link").toString());
            assertThat(sandbox.lxcpath().resolve(linked)).as("the launch was undone").doesNotExist();

            // A path that was a directory at the launch and is a link at a later start
            agent.profile("name: shared\nimage: busybox\n" + PRIVILEGED + "mounts: [{host-path: " + real + ", path: /mnt/x}]\n");
            String shared = sandbox.name("shared");
            agent.launch(shared, "shared");
            assertThat(agent.exec(shared, "cat", "/mnt/x/file").stdout()).isEqualTo("shared\n");
            agent.state(shared, "stop");
            Files.move(real, allowed.resolve("moved"));
            Files.createSymbolicLink(real, secret);
            JsonNode start = agent.operation("PUT", "/1.0/containers/" + shared + "/state", Map.of("action", "start"));
            assertThat(start.path("status").asText()).as(start.toString()).isEqualTo("failure");
            assertThat(start.path("error").asText()).contains("symbolic link");
            assertThat(agent.container(shared).path("status").asText()).isEqualTo("STOPPED");
            agent.succeed("DELETE", "/1.0/containers/" + shared, null);
        }
    }

    @Test
    void containersGetNoWritableHostKernelSettingsAndTheirFilesAreClosedToOtherUsers(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile("name: plain\nimage: busybox\n" + PRIVILEGED);
            String name = sandbox.name("least");
            agent.launch(name, "plain");
            // Write a host-wide sysctl's own value back: harmless on the host if it were allowed, and refused inside.
            TestAgent.Exec write = agent.exec(name, "sh", "-c", "cat /proc/sys/kernel/printk_ratelimit > /proc/sys/kernel/printk_ratelimit");
            assertThat(write.exitCode()).as("a write to the host's /proc/sys from a privileged container").isNotZero();
            assertThat(write.stderr()).contains("Read-only file system");

            // A setuid-root file made inside is not reachable by another host user
            assertThat(agent.exec(name, "sh", "-c", "cp /bin/busybox /suid && chmod 4755 /suid").exitCode()).isZero();
            Path dir = sandbox.lxcpath().resolve(name);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
            Path suid = dir.resolve("overlay/delta/suid");
            assertThat(suid).exists();
            Process nobody = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "test", "-e", suid.toString())
                    .inheritIO().start();
            assertThat(nobody.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(nobody.exitValue()).as("nobody can reach " + suid).isEqualTo(1);
            for (Path closed : List.of(agent.stateDir().resolve("volumes"), agent.stateDir().resolve("app-images"))) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(closed))).as(closed.toString()).isEqualTo("rwx------");
            }
        }
    }

    @Test
    void aSecondAgentOnTheSameStateDirIsRefusedNamingTheFirst(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state2");
        Berthd.Settings settings = Berthd.Settings.at(state, sandbox.lxcpath(), state.resolve("berth.sock"));
        try (Berthd first = new Berthd(settings).start()) {
            assertThatThrownBy(() -> new Berthd(settings.withImages(state.resolve("other"))).start())
                    .hasMessageContaining("another berthd (pid " + ProcessHandle.current().pid() + ")")
                    .hasMessageContaining(state.toString());
            assertThat(UnixHttp.request(state.resolve("berth.sock"), "GET", "/1.0", null)).as("the first still answers").contains("liblxc");
        }
        try (Berthd again = new Berthd(settings).start()) {
            assertThat(again).isNotNull();
        }
    }
    @Test
    void badInputIsA4xxWithAMessageAndTouchesNothing(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile("name: plain\nimage: busybox\n" + PRIVILEGED);
            byte[] nullBody = "null".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] deep = ("[".repeat(1000) + "]".repeat(1000)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            for (byte[] body : List.of(nullBody, deep)) {
                TestAgent.Reply reply = agent.raw("POST", "/1.0/containers", Map.of("Content-Type", "application/json"), body);
                assertThat(reply.status()).as(reply.text()).isEqualTo(400);
                assertThat(reply.json().path("error").asText()).isNotBlank();
            }
            assertThat(agent.request("GET", "/1.0/operations/x/wait?timeout=soon", null).status()).isIn(400, 404);

            // names that are no hostname: refused before anything is made
            for (String name : List.of("evil\u202Etxt.exe", "web\uD83D\uDE00", "a:b", "-x", "x-", "a_b")) {
                TestAgent.Reply reply = agent.request("POST", "/1.0/containers", Map.of("name", name, "profiles", List.of("plain")));
                assertThat(reply.status()).as(name + ": " + reply.text()).isEqualTo(400);
            }
            TestAgent.Reply dots = agent.request("GET", "/1.0/containers/%2e%2e", null);
            assertThat(dots.status()).as(dots.text()).isEqualTo(400);
            assertThat(dots.text()).doesNotContain("liblxc");

            // limits the host cannot give, and a bridge it does not have: 400 before anything is made, saying what the host has
            List<Map<String, Object>> beyond = List.of(Map.of("limits.memory", "1TiB"), Map.of("limits.memory", "1KiB"),
                    Map.of("limits.cpu", "512"), Map.of("limits.cpu", "0-63"), Map.of("network.bridge", "nosuchbr0"));
            int n = 0;
            for (Map<String, Object> config : beyond) {
                String name = sandbox.name("big" + n++);
                TestAgent.Reply reply = agent.request("POST", "/1.0/containers", Map.of("name", name, "profiles", List.of("plain"),
                        "config", config));
                assertThat(reply.status()).as(config + ": " + reply.text()).isEqualTo(400);
                assertThat(reply.json().path("error").asText()).as(config.toString())
                        .containsAnyOf("this host has", "too little", "host's", "does not have online", "not a bridge on this host");
                assertThat(sandbox.lxcpath().resolve(name)).doesNotExist();
            }

            String name = sandbox.name("files");
            agent.launch(name, "plain");
            // a bad snapshot name: 400, and the container was never frozen for it
            TestAgent.Reply snapshot = agent.request("POST", "/1.0/containers/" + name + "/snapshots", Map.of("name", "../x"));
            assertThat(snapshot.status()).as(snapshot.text()).isEqualTo(400);
            assertThat(agent.container(name).path("status").asText()).isEqualTo("RUNNING");

            // file headers out of range are 400s; a file at the top level is a valid path
            String files = "/1.0/containers/" + name + "/files?path=";
            for (Map<String, String> headers : List.of(Map.of("X-Berth-Mode", "9"), Map.of("X-Berth-Uid", "9999999999"),
                    Map.of("X-Berth-Gid", "-1"))) {
                java.util.Map<String, String> all = new java.util.HashMap<>(headers);
                all.put("Content-Type", "application/octet-stream");
                TestAgent.Reply reply = agent.raw("POST", files + "/x", all, "x".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                assertThat(reply.status()).as(headers + ": " + reply.text()).isEqualTo(400);
                assertThat(reply.json().path("error").asText()).contains(headers.keySet().iterator().next());
            }
            TestAgent.Reply top = agent.raw("POST", files + "/atroot", Map.of("Content-Type", "application/octet-stream"),
                    "top\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(top.status()).as(top.text()).isEqualTo(200);
            assertThat(agent.exec(name, "cat", "/atroot").stdout()).isEqualTo("top\n");

            // a pull of / stays on the root filesystem: a whole tar, without /proc's files
            TestAgent.Reply root = agent.request("GET", files + "/", null);
            assertThat(root.status()).isEqualTo(200);
            List<String> names = new java.util.ArrayList<>();
            dev.berth.agent.files.Tar.Reader tar = new dev.berth.agent.files.Tar.Reader(new java.io.ByteArrayInputStream(root.body()));
            for (var e = tar.next(); e != null; e = tar.next()) {
                names.add(e.name());
            }
            assertThat(names).contains("atroot", "bin/busybox").noneMatch(e -> e.startsWith("proc/") || e.startsWith("sys/"));
        }
    }
}
