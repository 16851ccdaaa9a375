package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.agent.Berthd;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code berth --remote}: a real agent reached through a real sshd (OpenSSH, started by the test on
 * 127.0.0.1 with its own host key, client key and configuration) and {@code berth dial-stdio} on the
 * far side, with berth run as its own process, as a person runs it.
 */
@RequiresLxc
class RemoteTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Berthd agent;
    private Process sshd;

    record Result(int code, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (sshd != null) {
            sshd.destroy();
            sshd.waitFor(10, TimeUnit.SECONDS);
        }
        if (agent != null) {
            agent.close();
        }
    }

    private static Result run(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.berth.cli.Berth"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().remove("BERTH_REMOTE");
        builder.environment().remove("BERTH_SOCKET");
        builder.environment().putAll(env);
        Process process = builder.start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return process.getErrorStream().readAllBytes();
            } catch (java.io.IOException e) {
                return new byte[0];
            }
        });
        byte[] out = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("berth " + String.join(" ", args)).isTrue();
        return new Result(process.exitValue(), new String(out), new String(err.get()));
    }

    private static void sh(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** An sshd of the test's own on 127.0.0.1: keys only, this directory's authorized key only. */
    private int startSshd(Path dir) throws Exception {
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host_key").toString());
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("id").toString());
        Files.copy(dir.resolve("id.pub"), dir.resolve("authorized_keys"));
        int port = freePort();
        Files.writeString(dir.resolve("sshd_config"), String.join("\n",
                "ListenAddress 127.0.0.1", "Port " + port, "HostKey " + dir.resolve("host_key"),
                "PidFile " + dir.resolve("sshd.pid"), "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", "") + "\n");
        Files.createDirectories(Path.of("/run/sshd")); // its privilege-separation directory
        sshd = new ProcessBuilder("/usr/sbin/sshd", "-D", "-e", "-f", dir.resolve("sshd_config").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("sshd.log").toFile()).start();
        for (int i = 0; i < 100; i++) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return port;
            } catch (java.io.IOException e) {
                assertThat(sshd.isAlive()).as("sshd: " + Files.readString(dir.resolve("sshd.log"))).isTrue();
                Thread.sleep(100);
            }
        }
        throw new AssertionError("sshd did not listen on " + port);
    }

    @Test
    void commandsReachAnAgentThroughSsh(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        Path socket = state.resolve("berth.sock");
        agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start();
        Path ssh = sandbox.scratch("ssh");
        int port = startSshd(ssh);
        // berth on "the remote host": this build, through a wrapper, as an installed berth would be
        Path remoteBerth = ssh.resolve("berth");
        Files.writeString(remoteBerth, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                + "' -XX:TieredStopAtLevel=1 -cp '" + System.getProperty("java.class.path") + "' dev.berth.cli.Berth \"$@\"\n");
        Files.setPosixFilePermissions(remoteBerth, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = new HashMap<>(Map.of("BERTH_CONFIG_DIR", sandbox.scratch("config").toString()));

        String address = "ssh://root@127.0.0.1:" + port + socket;
        Result added = run(env, "remote", "add", "lab", address, "--command", remoteBerth.toString(),
                "--ssh-option=-F", "--ssh-option=/dev/null", "--ssh-option=-i", "--ssh-option=" + ssh.resolve("id"),
                "--ssh-option=-oIdentitiesOnly=yes", "--ssh-option=-oStrictHostKeyChecking=accept-new",
                "--ssh-option=-oUserKnownHostsFile=" + ssh.resolve("known_hosts"));
        assertThat(added.code()).as(added.err()).isZero();
        assertThat(added.out()).contains("Added remote lab (" + address + ")");
        JsonNode remotes = run(env, "remote", "list", "--format", "json").json();
        assertThat(remotes.get(0).get("name").asText()).isEqualTo("lab");
        assertThat(remotes.get(0).get("address").asText()).isEqualTo(address);
        assertThat(run(env, "remote", "add", "lab", address).err()).contains("there is a remote 'lab' already");

        Result version = run(env, "--remote", "lab", "version", "--format", "json");
        assertThat(version.code()).as(version.err()).isZero();
        assertThat(version.json().get("agent").asText()).isNotBlank();

        String name = sandbox.name("far");
        Result launched = run(env, "--remote", "lab", "launch", name);
        assertThat(launched.code()).as(launched.err()).isZero();
        assertThat(launched.out()).startsWith("Launched " + name);
        env.put("BERTH_REMOTE", "lab");
        JsonNode listed = run(env, "list", "--format", "json").json();
        assertThat(listed).anySatisfy(c -> {
            assertThat(c.get("name").asText()).isEqualTo(name);
            assertThat(c.get("status").asText()).isEqualTo("RUNNING");
        });

        // a streamed exec: the WebSocket through SSH, stdout and stderr apart, the exit code passed through
        Result exec = run(env, "exec", name, "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(exec.code()).isEqualTo(3);
        assertThat(exec.out()).isEqualTo("out\n");
        assertThat(exec.err()).isEqualTo("err\n");

        // a chunked upload and a download
        Path local = sandbox.scratch("files").resolve("note");
        Files.writeString(local, "carried over ssh\n");
        Result pushed = run(env, "file", "push", local.toString(), name + "/root/note");
        assertThat(pushed.code()).as(pushed.err()).isZero();
        assertThat(run(env, "file", "pull", name + "/root/note", "-").out()).isEqualTo("carried over ssh\n");

        // --socket wins over $BERTH_REMOTE; --remote local is this host's agent
        assertThat(run(env, "--socket", socket.toString(), "list", "--names").out()).contains(name);
        Result both = run(env, "--remote", "lab", "--socket", socket.toString(), "list");
        assertThat(both.code()).isEqualTo(Berth.USAGE);
        assertThat(both.err()).contains("--remote and --socket name two agents");

        Result deleted = run(env, "delete", name, "--force");
        assertThat(deleted.code()).as(deleted.err()).isZero();
        assertThat(run(env, "list", "--names").out()).doesNotContain(name);

        // mistakes and an unreachable remote: what went wrong, what to try, the right exit codes
        Result unknown = run(env, "--remote", "nosuch", "list");
        assertThat(unknown.code()).isEqualTo(Berth.USAGE);
        assertThat(unknown.err()).contains("no remote 'nosuch'", "(there are: lab)", "berth remote add nosuch");
        int closed = freePort();
        Result down = run(env, "--remote", "ssh://root@127.0.0.1:" + closed, "list");
        assertThat(down.code()).isEqualTo(Berth.UNREACHABLE);
        assertThat(down.err()).contains("cannot reach berthd on ssh://root@127.0.0.1:" + closed, "Connection refused",
                "check it with: ssh -p " + closed + " root@127.0.0.1 berth version");
        Files.delete(ssh.resolve("authorized_keys"));
        Result refused = run(env, "list");
        assertThat(refused.code()).isEqualTo(Berth.UNREACHABLE);
        assertThat(refused.err()).contains("Permission denied");

        Result removed = run(env, "remote", "remove", "lab");
        assertThat(removed.code()).isZero();
        assertThat(Files.readString(Path.of(env.get("BERTH_CONFIG_DIR"), "remotes.yaml"))).doesNotContain("lab:");
    }
}
