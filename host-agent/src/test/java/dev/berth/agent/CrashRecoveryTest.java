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

        String interrupted = killedAt("launch-after-define", state, socket, sandbox, "POST", "/1.0/containers",
                "{\"name\":\"" + halfMade + "\"}");
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
            // the operation the agent was killed in still answers, saying what became of it
            String op = UnixHttp.request(socket, "GET", interrupted + "/wait?timeout=5", null);
            assertThat(op).startsWith("HTTP/1.1 200").contains("\"status\":\"failure\"", "interrupted: berthd stopped");
        }
    }

    /** Runs berthd as its own process with a failpoint, sends the request, and SIGKILLs it at the failpoint. */
    /** @return the URL of the operation the agent was killed in */
    private static String killedAt(String failpoint, Path state, Path socket, LxcSandbox sandbox, String method, String path,
                                   String body) throws Exception {
        try (AgentProcess agent = AgentProcess.start(failpoint, state, socket, sandbox)) {
            String accepted = UnixHttp.request(socket, method, path, body);
            assertThat(agent.awaitFailpoint(failpoint)).as("reached " + failpoint).isTrue();
            agent.kill();
            java.util.regex.Matcher op = java.util.regex.Pattern.compile("\"operation\":\"([^\"]+)\"").matcher(accepted);
            assertThat(op.find()).as(accepted).isTrue();
            return op.group(1);
        }
    }

    /** Launches through the API and waits on the operation. */
    private static void launch(Path socket, String name) throws Exception {
        assertThat(UnixHttp.awaitOperation(socket, "POST", "/1.0/containers", "{\"name\":\"" + name + "\"}"))
                .contains("\"status\":\"success\"");
    }

}
