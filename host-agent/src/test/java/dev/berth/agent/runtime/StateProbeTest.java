package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.lxc.LxcState;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The /proc and /sys readings the probe trusts instead of asking liblxc (containers: ApiServerTest). */
@org.junit.jupiter.api.Tag("no-root")
class StateProbeTest {

    @Test
    void aProcessStartTimeIsStableAndAGonePidHasNone() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        long first = StateProbe.startTime(self);
        assertThat(first).isPositive();
        assertThat(StateProbe.startTime(self)).isEqualTo(first);

        Process child = new ProcessBuilder("sleep", "30").start();
        int pid = (int) child.pid();
        assertThat(StateProbe.startTime(pid)).isGreaterThanOrEqualTo(first);
        child.destroyForcibly().waitFor();
        assertThat(StateProbe.startTime(pid)).isEqualTo(-1);
    }

    @Test
    void theFreezerStateIsReadFromV1AndV2Files(@TempDir Path dir) throws Exception {
        Path v1 = Files.writeString(dir.resolve("freezer.state"), "FROZEN\n");
        assertThat(StateProbe.freezerState(v1)).isEqualTo(LxcState.FROZEN);
        Files.writeString(v1, "THAWED\n");
        assertThat(StateProbe.freezerState(v1)).isEqualTo(LxcState.RUNNING);
        Files.writeString(v1, "FREEZING\n");
        assertThat(StateProbe.freezerState(v1)).isEqualTo(LxcState.FREEZING);
        Path v2 = Files.writeString(dir.resolve("cgroup.events"), "populated 1\nfrozen 1\n");
        assertThat(StateProbe.freezerState(v2)).isEqualTo(LxcState.FROZEN);
        Files.writeString(v2, "populated 1\nfrozen 0\n");
        assertThat(StateProbe.freezerState(v2)).isEqualTo(LxcState.RUNNING);
        assertThat(StateProbe.freezerState(dir.resolve("missing"))).isNull();
        assertThat(StateProbe.freezerState(null)).isNull();
    }
}
