package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.agent.runtime.FakeRuntime;
import dev.berth.agent.runtime.State;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.profile.ProfileDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launch's undo order and the recovery decisions, on the in-memory runtime: no root, no liblxc
 * (the real-container tests, LaunchTest and CrashRecoveryTest, prove the same on liblxc).
 */
@Tag("no-root")
class LaunchLogicTest {

    private static final ProfileRegistry PROFILES = ProfileRegistry.of(List.of(ProfileDocument.parse("small.yaml",
            "name: small\nimage: busybox\nlimits: {memory: 64MiB}\nsecurity: {privileged: true}\n")));

    @TempDir
    Path dir;

    private Containers containers(FakeRuntime runtime) throws Exception {
        return Containers.onFake(runtime, PROFILES, dir);
    }

    private FakeRuntime runtime() throws Exception {
        return new FakeRuntime(Files.createDirectories(dir.resolve("containers")));
    }

    @Test
    void aLaunchDefinesThenStartsAndRecordsTheContainerReadyInADirectoryClosedToOthers() throws Exception {
        FakeRuntime runtime = runtime();
        try (Containers containers = containers(runtime)) {
            ContainerRecord record = containers.launch("web", List.of("small"), null);
            assertThat(record.status()).isEqualTo(ContainerRecord.Status.READY);
            assertThat(runtime.calls()).containsSubsequence("setConfigItems web", "createOnOverlay web", "start web");
            assertThat(runtime.probe("web").state()).isEqualTo(State.RUNNING);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(runtime.lxcpath().resolve("web"))))
                    .isEqualTo("rwx------");
            assertThat(Files.readString(runtime.lxcpath().resolve("web/config"))).contains("lxc.uts.name = web",
                    "lxc.cgroup.memory.limit_in_bytes = " + (64L << 20));
        }
    }

    @Test
    void aStartThatFailsIsUndoneInReverseAndFreesTheName() throws Exception {
        FakeRuntime runtime = runtime().failAt("start");
        try (Containers containers = containers(runtime)) {
            assertThatThrownBy(() -> containers.launch("web", List.of("small"), null)).hasMessageContaining("injected failure at start");
            List<String> calls = runtime.calls();
            assertThat(calls).containsSubsequence("createOnOverlay web", "start web", "destroy web");
            assertThat(calls).doesNotContain("stop web"); // it never ran: nothing to stop
            assertThat(runtime.lxcpath().resolve("web")).doesNotExist();
            runtime.heal();
            assertThat(containers.launch("web", List.of("small"), null).status()).isEqualTo(ContainerRecord.Status.READY);
        }
    }

    @Test
    void aDefineThatFailsLeavesNoDirectoryAndDestroysNothing() throws Exception {
        FakeRuntime runtime = runtime().failAt("createOnOverlay");
        try (Containers containers = containers(runtime)) {
            assertThatThrownBy(() -> containers.launch("web", List.of("small"), null)).hasMessageContaining("createOnOverlay");
            assertThat(runtime.calls()).doesNotContain("destroy web", "start web");
            assertThat(runtime.lxcpath().resolve("web")).doesNotExist();
            assertThat(runtime.names()).isEmpty();
        }
    }

    @Test
    void recoveryRollsBackInterruptedLaunchesCompletesDeletesAndLeavesReadyContainersAsTheyAre() throws Exception {
        FakeRuntime runtime = runtime();
        try (Containers containers = containers(runtime)) {
            for (String name : List.of("creating", "deleting", "ready", "restoring")) {
                containers.launch(name, List.of("small"), null);
            }
        }
        status(runtime.lxcpath().resolve("creating"), "CREATING");
        status(runtime.lxcpath().resolve("deleting"), "DELETING");
        // a restore killed while copying, of a container that ran: undone, and the container started again
        Path restoring = runtime.lxcpath().resolve("restoring");
        Files.createDirectories(restoring.resolve("overlay/delta.restoring"));
        Files.writeString(restoring.resolve("restore.json"), "{\"snapshot\":\"s1\",\"wasRunning\":true,\"phase\":\"COPYING\"}");
        runtime.open("restoring").stop();

        FakeRuntime restarted = new FakeRuntime(runtime.lxcpath());
        restarted.running("ready");
        try (Containers containers = containers(restarted)) {
            List<String> actions = containers.lifecycle.recover();
            assertThat(actions).containsExactlyInAnyOrder(
                    "rolled back the interrupted launch of creating",
                    "completed the interrupted delete of deleting",
                    "undid the interrupted restore of restoring to snapshot s1 (its files are as before); started it again");
            assertThat(restarted.names()).containsExactly("ready", "restoring");
            assertThat(restarted.calls()).doesNotContain("stop ready", "start ready");
            assertThat(restarted.probe("restoring").state()).isEqualTo(State.RUNNING);
            assertThat(restoring.resolve("overlay/delta.restoring")).doesNotExist();
            assertThat(restoring.resolve("restore.json")).doesNotExist();
        }
    }

    @Test
    void aHostWithoutIdmappedMountsRefusesAnUnprivilegedLaunchBeforeTheOperationAndTakesAPrivilegedOne() throws Exception {
        FakeRuntime runtime = runtime().withoutIdmappedMounts("mount_setattr (idmap): EINVAL (invalid argument)");
        try (Containers containers = Containers.onFake(runtime, ProfileRegistry.of(List.of(
                ProfileDocument.parse("u.yaml", "name: u\nimage: busybox\n"),
                ProfileDocument.parse("p.yaml", "name: p\nimage: busybox\nsecurity: {privileged: true}\n"))), dir)) {
            assertThatThrownBy(() -> containers.launcher.check(Launcher.LaunchRequest.of("u")))
                    .isInstanceOf(dev.berth.agent.error.AgentException.Invalid.class)
                    .hasMessageContaining("cannot mount").hasMessageContaining("EINVAL").hasMessageContaining("security.privileged: true");
            containers.launcher.check(Launcher.LaunchRequest.of("p"));
            assertThat(runtime.calls()).isEmpty(); // nothing was made
        }
    }

    private static void status(Path containerDir, String status) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path file = containerDir.resolve("berth.json");
        ObjectNode record = (ObjectNode) json.readTree(file.toFile());
        record.put("status", status);
        Files.write(file, json.writeValueAsBytes(record));
    }
}
