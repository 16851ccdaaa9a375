package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcContainer;
import dev.berth.lxc.LxcState;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * A snapshot restore killed by SIGKILL at each step and at random moments: after the agent's next
 * start the container is running again (it was running before), its layer is wholly the old one or
 * wholly the snapshot's, never empty, and nothing of the restore is left in its directory.
 */
@RequiresLxc
class RestoreCrashTest {

    @Test
    void aKilledRestoreIsUndoneOrFinishedOnRestart(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        Path socket = state.resolve("berth.sock");
        String name = sandbox.name("restored");
        Path dir = sandbox.lxcpath().resolve(name);
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            assertThat(UnixHttp.awaitOperation(socket, "POST", "/1.0/containers", "{\"name\":\"" + name + "\"}")).contains("\"success\"");
            exec(socket, name, "echo snapshot > /data");
            assertThat(UnixHttp.awaitOperation(socket, "POST", "/1.0/containers/" + name + "/snapshots", "{\"name\":\"s1\"}"))
                    .contains("\"success\"");
            exec(socket, name, "echo after > /data");
        }

        // Killed while the snapshot is being copied: undone, the container's own data kept.
        killedDuringRestore("restore-after-copy", state, socket, sandbox, name);
        assertRecovered(state, socket, sandbox, name, "after");

        // Killed with the layer moved aside and the copy not yet in place (it started with an empty layer): finished.
        killedDuringRestore("restore-layer-aside", state, socket, sandbox, name);
        assertRecovered(state, socket, sandbox, name, "snapshot");

        // Killed at random moments: always one or the other, never empty, and always running.
        for (int i = 0; i < 6; i++) {
            try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
                exec(socket, name, "echo after > /data");
            }
            try (AgentProcess agent = AgentProcess.start(null, state, socket, sandbox)) {
                UnixHttp.request(socket, "POST", "/1.0/containers/" + name + "/snapshots/s1/restore", "{}");
                Thread.sleep(ThreadLocalRandom.current().nextInt(0, 400));
                agent.kill();
            }
            String data = assertRecovered(state, socket, sandbox, name, null);
            assertThat(data).as("kill %d", i).isIn("after", "snapshot");
        }
        assertThat(Files.exists(dir.resolve("overlay/delta"))).isTrue();
    }

    private static void killedDuringRestore(String failpoint, Path state, Path socket, LxcSandbox sandbox, String name) throws Exception {
        try (AgentProcess agent = AgentProcess.start(failpoint, state, socket, sandbox)) {
            UnixHttp.request(socket, "POST", "/1.0/containers/" + name + "/snapshots/s1/restore", "{}");
            assertThat(agent.awaitFailpoint(failpoint)).as("reached " + failpoint).isTrue();
            agent.kill();
        }
    }

    /** Starts an agent on the state, checks the container is whole and running; returns its /data. */
    private static String assertRecovered(Path state, Path socket, LxcSandbox sandbox, String name, String expected) throws Exception {
        Path dir = sandbox.lxcpath().resolve(name);
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            try (LxcContainer c = Lxc.open(name, sandbox.lxcpath())) {
                assertThat(c.state()).as("running again after the restart").isEqualTo(LxcState.RUNNING);
            }
            try (var left = Files.list(dir)) {
                assertThat(left.map(p -> p.getFileName().toString()))
                        .as("nothing of the restore left").noneMatch(f -> f.contains("restor") || f.contains("before-restore"));
            }
            try (var left = Files.list(dir.resolve("overlay"))) {
                // the default profile is unprivileged: its layer, the overlay's work dir, the image's mount point and its path
                assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("delta", "work", "lower", "source");
            }
            String data = Files.readString(dir.resolve("overlay/delta/data")).strip();
            if (expected != null) {
                assertThat(data).isEqualTo(expected);
            }
            String seen = exec(socket, name, "cat /data");
            assertThat(seen).contains(data);
            return data;
        }
    }

    private static String exec(Path socket, String name, String script) throws Exception {
        String op = UnixHttp.awaitOperation(socket, "POST", "/1.0/containers/" + name + "/exec",
                "{\"command\":[\"sh\",\"-c\",\"" + script + "\"]}");
        assertThat(op).contains("\"success\"");
        return op;
    }
}
