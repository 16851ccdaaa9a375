package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.agent.image.ImageStore;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcCommand;
import dev.berth.lxc.LxcContainer;
import dev.berth.lxc.LxcState;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.profile.HostFacts;
import dev.berth.profile.ProfileDocument;
import dev.berth.profile.ProfileException;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

@RequiresLxc
class LaunchTest {

    private static final HostFacts HOST = new HostFacts(HostFacts.Cgroups.V1, 8L << 30, Path.of("/var/lib/berth/volumes"),
            "berthbr0", 100000, 65536, List.of(Path.of("/srv")));

    private static Containers containers(LxcSandbox sandbox) {
        ProfileRegistry profiles = ProfileRegistry.of(List.of(
                ProfileDocument.parse("small.yaml", """
                        name: small
                        image: busybox
                        limits: {memory: 64MiB, pids: 64}
                        security: {privileged: true, nesting: false}
                        environment: {GREETING: hello}
                        """),
                ProfileDocument.parse("broken.yaml", """
                        name: broken
                        extends: [small]
                        image: no-init
                        """)));
        return Containers.onLxc(sandbox.lxcpath(), new ImageStore(sandbox.scratch("images")), profiles, HOST,
                new AgentLog(new Events(), AgentLog.Level.INFO));
    }

    @Test
    void launchesFromAProfileOnTheBusyboxImage(LxcSandbox sandbox) {
        Containers containers = containers(sandbox);
        String name = sandbox.name("web1");
        ContainerRecord record = containers.launch(name, List.of("small"), null);
        assertThat(record.profiles()).containsExactly("small");
        assertThat(containers.specs.record(name)).isEqualTo(record);
        try (LxcContainer c = Lxc.open(name, sandbox.lxcpath())) {
            assertThat(c.state()).isEqualTo(LxcState.RUNNING);
            assertThat(c.memoryLimit()).isEqualTo(64L << 20);
            assertThat(c.run(LxcCommand.of("hostname")).stdoutText().strip()).isEqualTo(name);
            assertThat(c.run(LxcCommand.of("sh", "-c", "cat /proc/1/environ | tr '\\\\0' '\\\\n' | grep GREETING"))
                    .stdoutText()).contains("GREETING=hello");
        }
        containers.lifecycle.delete(name, false);
        assertThat(Lxc.definedContainers(sandbox.lxcpath())).isEmpty();
        assertThatThrownBy(() -> containers.specs.record(name)).isInstanceOf(AgentException.NotFound.class);
    }

    @Test
    void aTornRecordAfterAHostCrashIsRecoveredAsAnInterruptedLaunch(LxcSandbox sandbox) throws Exception {
        // Records are flushed behind the operation; a host crash can leave a launch's first record empty.
        Containers containers = containers(sandbox);
        String kept = sandbox.name("kept");
        String torn = sandbox.name("torn");
        containers.launch(kept, List.of("small"), null);
        containers.launch(torn, List.of("small"), null);
        int keptPid;
        try (LxcContainer c = Lxc.open(kept, sandbox.lxcpath())) {
            keptPid = c.initPid().orElseThrow();
        }
        java.nio.file.Files.write(sandbox.lxcpath().resolve(torn).resolve("berth.json"), new byte[0]);

        List<String> actions = containers(sandbox).lifecycle.recover();

        assertThat(actions).containsExactly("rolled back the interrupted launch of " + torn);
        assertThat(Lxc.definedContainers(sandbox.lxcpath())).containsExactly(kept);
        assertThat(sandbox.lxcpath().resolve(torn)).doesNotExist();
        try (LxcContainer c = Lxc.open(kept, sandbox.lxcpath())) {
            assertThat(c.initPid().orElseThrow()).as("a ready container is left running").isEqualTo(keptPid);
        }
        containers.lifecycle.delete(kept, false);
    }

    @Test
    void aLaunchThatFailsLeavesNothingAndFreesTheName(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String name = sandbox.name("fail");
        // On an image without an init: liblxc defines it, then cannot exec /sbin/init and the start fails.
        containers.images.add(java.util.Map.of("kind", "test", "what", "a rootfs without /sbin/init"), List.of("no-init"), rootfs -> {
            java.nio.file.Files.createDirectories(rootfs.resolve("etc"));
            return List.of();
        });
        assertThatThrownBy(() -> containers.launch(name, List.of("broken"), null))
                .isInstanceOf(dev.berth.lxc.LxcException.StartFailed.class);
        assertThat(Lxc.definedContainers(sandbox.lxcpath())).isEmpty();
        assertThat(sandbox.lxcpath().resolve(name)).doesNotExist();
        assertThat(java.nio.file.Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(sandbox.lxcpath().toString());
        containers.launch(name, List.of("small"), null);
        containers.lifecycle.delete(name, false);
    }

    @Test
    void badInputIsRefusedBeforeAnythingIsTouched(LxcSandbox sandbox) {
        Containers containers = containers(sandbox);
        assertThatThrownBy(() -> containers.launch("a/b", List.of("small"), null))
                .isInstanceOf(dev.berth.lxc.LxcException.InvalidName.class);
        assertThatThrownBy(() -> containers.launch(sandbox.name("x"), List.of("smal"), null))
                .isInstanceOf(ProfileException.class).hasMessageContaining("did you mean 'small'?");
        assertThatThrownBy(() -> containers.launcher.launch(sandbox.name("x"), new Launcher.LaunchRequest(List.of("small"), null, "no-such-image", false)))
                .isInstanceOf(AgentException.NotFound.class).hasMessageContaining("no image \"no-such-image\"");
        assertThatThrownBy(() -> containers.lifecycle.delete(sandbox.name("ghost"), false)).isInstanceOf(AgentException.NotFound.class);
        assertThat(Lxc.definedContainers(sandbox.lxcpath())).isEmpty();
    }

    @Test
    void ofTwentyConcurrentLaunchesOfOneNameExactlyOneSucceeds(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        containers.launch(sandbox.name("warm"), List.of("small"), null); // builds the image first
        String name = sandbox.name("dup");
        List<Callable<String>> launches = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            launches.add(() -> {
                try {
                    containers.launch(name, List.of("small"), null);
                    return "ok";
                } catch (AgentException.Busy | AgentException.Conflict e) {
                    return "conflict";
                }
            });
        }
        List<String> outcomes = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(20)) {
            for (Future<String> f : pool.invokeAll(launches)) {
                outcomes.add(f.get());
            }
        }
        assertThat(outcomes).containsOnlyOnce("ok").hasSize(20);
        assertThat(outcomes.stream().filter("conflict"::equals)).hasSize(19);
        containers.lifecycle.delete(name, false);
        containers.lifecycle.delete(sandbox.name("warm"), false);
    }
}
