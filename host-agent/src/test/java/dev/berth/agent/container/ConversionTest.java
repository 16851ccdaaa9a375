package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.agent.exec.Command;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.profile.HostFacts;
import dev.berth.profile.ProfileDocument;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A privileged container made unprivileged in place ({@code security.privileged=false} set on it), and the same after a crash. */
@RequiresLxc
class ConversionTest {

    private static Containers containers(LxcSandbox sandbox) {
        ProfileRegistry profiles = ProfileRegistry.of(List.of(ProfileDocument.parse("old.yaml", """
                name: old
                image: busybox
                security: {privileged: true}
                """)));
        HostFacts host = new HostFacts(HostFacts.Cgroups.V1, 8L << 30, sandbox.scratch("volumes"), "berthbr0", 100000, 65536,
                List.of());
        return Containers.onLxc(sandbox.lxcpath(), new ImageStore(sandbox.scratch("images")), profiles, host,
                new AgentLog(new Events(), AgentLog.Level.INFO));
    }

    private static String run(Containers containers, String name, String script) {
        try (RuntimeContainer c = containers.runtime.open(name)) {
            return c.run(Command.of("sh", "-c", script)).stdoutText();
        }
    }

    private static final String FILES = "echo r > /rootfile; echo u > /userfile; chown 1000:1001 /userfile;"
            + " cp /bin/busybox /suid; chmod 4755 /suid; ln /userfile /hardlink";
    private static final String LOOK = "stat -c '%n %u:%g %a %h' /rootfile /userfile /suid /hardlink";

    @Test
    void aRunningPrivilegedContainerIsConvertedWithItsFilesOwnersAndBitsAsTheyWere(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String name = sandbox.name("cv");
        try (containers) {
            containers.launch(name, List.of("old"), null);
            run(containers, name, FILES);
            String before = run(containers, name, LOOK);
            assertThat(containers.specs.privilegedOf(name)).isTrue();

            Reconfigure.Reapplied done = containers.reconfigure.update(name, Map.of("security.privileged", false));
            assertThat(done.appliedLive()).anyMatch(l -> l.startsWith("security.privileged=false (converted to unprivileged"));

            ContainerRecord record = containers.specs.record(name);
            assertThat(record.idmapStart()).isGreaterThanOrEqualTo(Containers.POOL_START);
            assertThat(containers.specs.privilegedOf(name)).isFalse();
            int pid = containers.runtime.probe(name).pid();
            assertThat(Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("Uid:")).findFirst()
                    .orElseThrow()).contains(Long.toString(record.idmapStart()));
            // as the container sees them: the same owners, modes (setuid kept) and link counts
            assertThat(run(containers, name, LOOK)).isEqualTo(before);
            Path delta = sandbox.lxcpath().resolve(name).resolve("overlay/delta");
            assertThat((int) Files.getAttribute(delta.resolve("userfile"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                    .isEqualTo((int) (record.idmapStart() + 1000));
            assertThat((int) Files.getAttribute(delta.resolve("suid"), "unix:uid")).isEqualTo((int) (long) record.idmapStart());
            assertThat(sandbox.lxcpath().resolve(name).resolve(Conversion.INTENT)).doesNotExist();
            containers.lifecycle.delete(name, true);
        }
    }

    @Test
    void aConversionAnAgentWasKilledInIsFinishedAtItsNextStart(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String name = sandbox.name("cw");
        try (containers) {
            containers.launch(name, List.of("old"), null);
            run(containers, name, FILES);
            String before = run(containers, name, LOOK);
            containers.lifecycle.changeState(name, Lifecycle.Action.STOP, true, java.time.Duration.ZERO);
            // killed right after the intent: stopped, the range chosen, nothing shifted yet
            long shift = Containers.POOL_START + 5 * IdPool.SIZE;
            Files.writeString(sandbox.lxcpath().resolve(name).resolve(Conversion.INTENT), "{\"shift\":" + shift + ",\"wasRunning\":true}");

            assertThat(containers.reconfigure.recoverConversions()).singleElement().asString()
                    .startsWith("finished the interrupted conversion of " + name);
            assertThat(containers.specs.record(name).idmapStart()).isEqualTo(shift);
            assertThat(containers.runtime.probe(name).pid()).as("running again").isNotNull();
            assertThat(run(containers, name, LOOK)).isEqualTo(before);
            containers.lifecycle.delete(name, true);
        }
    }
}
