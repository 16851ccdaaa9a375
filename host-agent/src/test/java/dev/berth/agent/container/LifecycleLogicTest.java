package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.agent.runtime.FakeRuntime;
import dev.berth.agent.runtime.State;
import dev.berth.profile.ProfileDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What happens to containers once they exist, decided on the in-memory runtime: the recovery of each
 * intent an agent can be killed in, ephemeral containers deleted when they stop, autostart, and the
 * state changes' refusals. (CrashRecoveryTest, RestoreCrashTest and LaunchTest prove the same on liblxc.)
 */
@Tag("no-root")
class LifecycleLogicTest {

    private static final ProfileRegistry PROFILES = ProfileRegistry.of(List.of(
            ProfileDocument.parse("small.yaml", "name: small\nimage: busybox\nsecurity: {privileged: true}\n"),
            ProfileDocument.parse("boot.yaml", "name: boot\nextends: [small]\nautostart: true\n")));

    @TempDir
    Path dir;

    private Containers containers(FakeRuntime runtime) throws Exception {
        return Containers.onFake(runtime, PROFILES, dir);
    }

    private FakeRuntime runtime() throws Exception {
        return new FakeRuntime(Files.createDirectories(dir.resolve("containers")));
    }

    @Test
    void aRestoreKilledWhileSwitchingIsFinishedAndTheContainerThatRanStartsAgain() throws Exception {
        FakeRuntime runtime = runtime();
        try (Containers containers = containers(runtime)) {
            containers.launch("web", List.of("small"), null);
        }
        Path web = runtime.lxcpath().resolve("web");
        Files.writeString(web.resolve("overlay/delta/old"), "before");
        // killed between the two renames: the layer moved aside, the snapshot's copy staged beside it
        Files.createDirectories(web.resolve("overlay/delta.restoring"));
        Files.writeString(web.resolve("overlay/delta.restoring/new"), "snapshot");
        Files.writeString(web.resolve("restore.json"), "{\"snapshot\":\"s1\",\"wasRunning\":true,\"phase\":\"SWITCHING\"}");
        runtime.open("web").stop();

        try (Containers containers = containers(runtime)) {
            assertThat(containers.lifecycle.recover())
                    .containsExactly("finished the interrupted restore of web to snapshot s1; started it again");
            assertThat(web.resolve("overlay/delta/new")).hasContent("snapshot");
            assertThat(web.resolve("overlay/delta/old")).doesNotExist();
            assertThat(web.resolve("overlay/delta.restoring")).doesNotExist();
            assertThat(web.resolve("restore.json")).doesNotExist();
            assertThat(runtime.probe("web").state()).isEqualTo(State.RUNNING);
        }
    }

    @Test
    void aRecordTornByAHostCrashIsTakenForAnInterruptedLaunchAndRolledBack() throws Exception {
        FakeRuntime runtime = runtime();
        try (Containers containers = containers(runtime)) {
            containers.launch("web", List.of("small"), null);
        }
        Files.write(runtime.lxcpath().resolve("web/berth.json"), new byte[0]);
        try (Containers containers = containers(new FakeRuntime(runtime.lxcpath()))) {
            assertThat(containers.lifecycle.recover()).containsExactly("rolled back the interrupted launch of web");
            assertThat(runtime.lxcpath().resolve("web")).doesNotExist();
        }
    }

    @Test
    void ephemeralContainersThatStoppedAreReapedAndNoOtherIs() throws Exception {
        FakeRuntime runtime = runtime();
        try (Containers containers = containers(runtime)) {
            for (String name : List.of("gone", "up")) {
                containers.launcher.launch(name, new Launcher.LaunchRequest(List.of("small"), Map.of(), null, true));
            }
            containers.launch("kept", List.of("small"), null);
            runtime.open("gone").stop();
            runtime.open("kept").stop();

            assertThat(containers.lifecycle.reapEphemeral()).containsExactly("gone");
            assertThat(runtime.names()).containsExactly("kept", "up");
        }
    }

    @Test
    void stoppingAnEphemeralContainerDeletesIt() throws Exception {
        FakeRuntime runtime = runtime();
        try (Containers containers = containers(runtime)) {
            containers.launcher.launch("tmp", new Launcher.LaunchRequest(List.of("small"), Map.of(), null, true));
            containers.lifecycle.changeState("tmp", Lifecycle.Action.STOP, true, Duration.ZERO);
            assertThat(runtime.names()).isEmpty();
            assertThat(containers.records.exists("tmp")).isFalse();
        }
    }

    @Test
    void autostartStartsTheStoppedContainersWhoseProfileSaysSoAndOnlyThose() throws Exception {
        FakeRuntime runtime = runtime();
        try (Containers containers = containers(runtime)) {
            containers.launch("booted", List.of("boot"), null);
            containers.launch("manual", List.of("small"), null);
            runtime.open("booted").stop();
            runtime.open("manual").stop();

            assertThat(containers.lifecycle.autostart()).containsExactly("booted");
            assertThat(runtime.probe("booted").state()).isEqualTo(State.RUNNING);
            assertThat(runtime.probe("manual").state()).isEqualTo(State.STOPPED);
        }
    }

    @Test
    void aDeleteWritesItsIntentBeforeItStopsAnythingAndLeavesNothing() throws Exception {
        FakeRuntime runtime = runtime();
        try (Containers containers = containers(runtime)) {
            containers.launch("web", List.of("small"), null);
            runtime.failAt("destroy");
            assertThatThrownBy(() -> containers.lifecycle.delete("web", true)).hasMessageContaining("injected failure at destroy");
            // the intent is on disk: the next agent completes the delete
            assertThat(containers.specs.record("web").status()).isEqualTo(ContainerRecord.Status.DELETING);
        }
        runtime.heal();
        try (Containers containers = containers(new FakeRuntime(runtime.lxcpath()))) {
            assertThat(containers.lifecycle.recover()).containsExactly("completed the interrupted delete of web");
            assertThat(runtime.lxcpath().resolve("web")).doesNotExist();
        }
    }

    @Test
    void stateChangesOfAContainerThatDoesNotExistAreNotFound() throws Exception {
        try (Containers containers = containers(runtime())) {
            assertThatThrownBy(() -> containers.lifecycle.changeState("ghost", Lifecycle.Action.START, false, Duration.ZERO))
                    .isInstanceOf(AgentException.NotFound.class).hasMessageContaining("ghost");
            assertThatThrownBy(() -> containers.lifecycle.delete("ghost", false)).isInstanceOf(AgentException.NotFound.class);
            assertThatThrownBy(() -> containers.lifecycle.requireDefined("ghost")).isInstanceOf(AgentException.NotFound.class);
        }
    }
}
