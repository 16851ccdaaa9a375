package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.agent.runtime.FakeRuntime;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.profile.ProfileDocument;
import dev.berth.profile.ProfileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a change of a container's settings applies live and what it leaves pending, on the in-memory runtime. */
@Tag("no-root")
class ReconfigureLogicTest {

    private static final ProfileRegistry PROFILES = ProfileRegistry.of(List.of(ProfileDocument.parse("small.yaml",
            "name: small\nimage: busybox\nlimits: {memory: 64MiB, pids: 100}\nsecurity: {privileged: true}\n")));

    @TempDir
    Path dir;

    private Containers containers(FakeRuntime runtime) throws Exception {
        return Containers.onFake(runtime, PROFILES, dir);
    }

    @Test
    void aChangedLimitIsWrittenAndSetLiveAndAnUnchangedOneIsLeftAlone() throws Exception {
        FakeRuntime runtime = new FakeRuntime(Files.createDirectories(dir.resolve("containers")));
        try (Containers containers = containers(runtime)) {
            containers.launch("web", List.of("small"), null);
            Reconfigure.Reapplied applied = containers.reconfigure.update("web", Map.of("limits.memory", "128MiB"));
            assertThat(applied.appliedLive()).containsExactly("lxc.cgroup.memory.limit_in_bytes=" + (128L << 20));
            assertThat(applied.pending()).isEmpty();
            assertThat(runtime.calls()).contains("setCgroupItem web", "saveConfig web");
            assertThat(Files.readString(runtime.lxcpath().resolve("web/config")))
                    .contains("lxc.cgroup.memory.limit_in_bytes = " + (128L << 20)).contains("lxc.cgroup.pids.max = 100");
            assertThat(containers.specs.record("web").overrides()).isEqualTo(Map.of("limits", Map.of("memory", "128MiB")));
        }
    }

    @Test
    void aLimitNoLongerSetGoesBackToUnlimitedAndOtherKeysWaitForARelaunch() throws Exception {
        FakeRuntime runtime = new FakeRuntime(Files.createDirectories(dir.resolve("containers")));
        try (Containers containers = containers(runtime)) {
            containers.launch("web", List.of("small"), Map.of("limits.cpu", "1"));
            Reconfigure.Reapplied applied = containers.reconfigure.update("web", Map.of("autostart", true));
            assertThat(applied.appliedLive()).contains("lxc.cgroup.cpu.cfs_quota_us=(unset)");
            assertThat(applied.pending()).containsExactly("lxc.start.auto");
        }
    }

    @Test
    void anUpdateThatDoesNotComposeChangesNothing() throws Exception {
        FakeRuntime runtime = new FakeRuntime(Files.createDirectories(dir.resolve("containers")));
        try (Containers containers = containers(runtime)) {
            containers.launch("web", List.of("small"), null);
            String before = Files.readString(runtime.lxcpath().resolve("web/config"));
            assertThatThrownBy(() -> containers.reconfigure.update("web", Map.of("limits.memory", "lots"))).isInstanceOf(ProfileException.class)
                    .hasMessageContaining("limits.memory");
            assertThat(Files.readString(runtime.lxcpath().resolve("web/config"))).isEqualTo(before);
            assertThat(containers.specs.record("web").overrides()).isEmpty();
        }
    }
}
