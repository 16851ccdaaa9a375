package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcContainer;
import dev.berth.lxc.LxcState;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGKILL the agent in the middle of a launch and in the middle of a delete (held there by a
 * failpoint), restart it, and check that nothing half-made remains and that a container that was
 * running all along was never stopped.
 */
@RequiresLxc
class CrashRecoveryTest {

    @Test
    void anAgentKilledMidLaunchOrMidDeleteLeavesNothingHalfDoneAfterRestart(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        Path socket = state.resolve("berth.sock");
        String survivor = sandbox.name("survivor");
        String doomed = sandbox.name("doomed");
        String halfMade = sandbox.name("halfmade");

        // A running container, and one to delete, made by a healthy agent.
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            launch(socket, survivor);
            launch(socket, doomed);
        }
        int survivorPid;
        try (LxcContainer c = Lxc.open(survivor, sandbox.lxcpath())) {
            survivorPid = c.initPid().orElseThrow();
        }

        killedAt("launch-after-define", state, socket, sandbox, "POST", "/1.0/containers", "{\"name\":\"" + halfMade + "\"}");
        assertThat(sandbox.lxcpath().resolve(halfMade).resolve("config")).as("the launch got as far as defining").exists();
        killedAt("delete-after-intent", state, socket, sandbox, "DELETE", "/1.0/containers/" + doomed, null);

        try (Berthd restarted = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            assertThat(Lxc.definedContainers(sandbox.lxcpath())).containsExactly(survivor);
            assertThat(sandbox.lxcpath().resolve(halfMade)).doesNotExist();
            assertThat(sandbox.lxcpath().resolve(doomed)).doesNotExist();
            try (LxcContainer c = Lxc.open(survivor, sandbox.lxcpath())) {
                assertThat(c.state()).isEqualTo(LxcState.RUNNING);
                assertThat(c.initPid().orElseThrow()).as("never restarted").isEqualTo(survivorPid);
            }
            assertThat(UnixHttp.request(socket, "GET", "/1.0/containers/" + survivor, null)).contains("\"status\":\"RUNNING\"");
        }
    }

    /** Runs berthd as its own process with a failpoint, sends the request, and SIGKILLs it at the failpoint. */
    private static void killedAt(String failpoint, Path state, Path socket, LxcSandbox sandbox, String method, String path,
                                 String body) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dberth.failpoint=" + failpoint,
                "-cp", System.getProperty("java.class.path"), Berthd.class.getName(),
                "--state-dir", state.toString(), "--lxcpath", sandbox.lxcpath().toString(), "--socket", socket.toString(),
                "--bridge", "none")); // no managed bridge: the host's berthbr0 is not a test's to make
        Process agent = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(awaitLine(out, l -> l.contains("berthd listening"))).as("berthd started").isNotNull();
            UnixHttp.request(socket, method, path, body);
            assertThat(awaitLine(out, l -> l.equals("FAILPOINT " + failpoint))).as("reached " + failpoint).isNotNull();
            agent.destroyForcibly(); // SIGKILL
            assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            agent.destroyForcibly();
        }
        Files.deleteIfExists(socket);
    }

    /** The first line of the agent's output that matches, or null if it ended or a minute passed first. */
    private static String awaitLine(BufferedReader out, java.util.function.Predicate<String> wanted) throws Exception {
        var reader = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        try {
            return reader.submit(() -> {
                for (String line; (line = out.readLine()) != null; ) {
                    if (wanted.test(line)) {
                        return line;
                    }
                }
                return null;
            }).get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        } finally {
            reader.shutdownNow();
        }
    }

    /** Launches through the API and waits on the operation. */
    private static void launch(Path socket, String name) throws Exception {
        assertThat(UnixHttp.awaitOperation(socket, "POST", "/1.0/containers", "{\"name\":\"" + name + "\"}"))
                .contains("\"status\":\"success\"");
    }

}
