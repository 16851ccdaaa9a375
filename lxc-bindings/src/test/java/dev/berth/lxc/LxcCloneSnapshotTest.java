package dev.berth.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

@RequiresLxc
class LxcCloneSnapshotTest {

    @Test
    void anOverlayCloneSharesTheSourceRootfsCopyOnWrite(LxcSandbox sandbox) throws Exception {
        try (LxcContainer base = Busybox.create(sandbox, "base");
             LxcContainer clone = base.cloneTo(sandbox.name("cow"), CloneOptions.overlaySnapshot())) {
            assertThat(clone.configItem("lxc.rootfs.path"))
                    .isEqualTo(base.directory().resolve("rootfs") + ":" + clone.directory().resolve("overlay/delta"));
            assertThat(clone.directory().resolve("overlay/delta")).isDirectory();
            clone.start();
            clone.run(LxcCommand.of("sh", "-c", "echo changed > /etc/motd"));
            assertThat(clone.run(LxcCommand.of("cat", "/etc/motd")).stdoutText()).isEqualTo("changed\n");
            assertThat(clone.run(LxcCommand.of("hostname")).stdoutText().strip()).isEqualTo(clone.name());
            clone.stop();
            // The write landed in the clone's delta, not in the shared base.
            assertThat(clone.directory().resolve("overlay/delta/etc/motd")).hasContent("changed");
            assertThat(base.directory().resolve("rootfs/etc/motd")).doesNotExist();
            clone.destroy();
            assertThat(base.directory().resolve("rootfs/bin/busybox")).exists();
        }
    }

    @Test
    void containersOnAnOverlayOfASharedRootfsNeverWriteIt(LxcSandbox sandbox) throws Exception {
        try (LxcContainer template = Busybox.create(sandbox, "img")) {
            java.nio.file.Path shared = template.directory().resolve("rootfs");
            for (String n : java.util.List.of("ov1", "ov2")) {
                try (LxcContainer c = Lxc.open(sandbox.name(n), sandbox.lxcpath())) {
                    c.setConfigItems(LxcSandbox.busyboxConfig());
                    for (String key : java.util.List.of("lxc.mount.entry", "lxc.mount.auto", "lxc.autodev", "lxc.signal.halt")) {
                        for (String value : template.configItem(key).split("\n")) {
                            if (!value.isBlank()) {
                                c.setConfigItem(key, value);
                            }
                        }
                    }
                    c.createOnOverlay(shared);
                    c.start();
                    c.run(LxcCommand.of("sh", "-c", "echo " + n + " > /etc/owner"));
                    assertThat(c.run(LxcCommand.of("cat", "/etc/owner")).stdoutText()).isEqualTo(n + "\n");
                    c.stop();
                    assertThat(c.directory().resolve("overlay/delta/etc/owner")).hasContent(n);
                    c.destroy();
                    assertThat(c.directory()).doesNotExist();
                }
            }
            assertThat(shared.resolve("etc/owner")).doesNotExist();
            assertThat(shared.resolve("bin/busybox")).exists();
        }
    }

    @Test
    void aFullCopyIsIndependentOfItsSource(LxcSandbox sandbox) {
        try (LxcContainer base = Busybox.create(sandbox, "src");
             LxcContainer copy = base.cloneTo(sandbox.name("copy"), CloneOptions.copy().inLxcpath(sandbox.lxcpath()))) {
            assertThat(copy.directory().resolve("rootfs/bin/busybox")).exists();
            base.destroy();
            copy.start();
            assertThat(copy.run(LxcCommand.of("true")).exitCode()).isZero();
            copy.stop();
        }
    }

    @Test
    void snapshotsRestoreOldContentAndDieWithTheContainer(LxcSandbox sandbox) throws Exception {
        try (LxcContainer c = Busybox.create(sandbox, "snap")) {
            Files.writeString(c.directory().resolve("rootfs/etc/version"), "one");
            String first = c.snapshot();
            assertThat(first).isEqualTo("snap0");
            Files.writeString(c.directory().resolve("rootfs/etc/version"), "two");
            assertThat(c.snapshots()).extracting(LxcSnapshot::name).containsExactly("snap0");
            assertThat(c.snapshots().getFirst().timestamp()).isNotBlank();

            c.restoreSnapshot(first);
            c.start();
            assertThat(c.run(LxcCommand.of("cat", "/etc/version")).stdoutText()).isEqualTo("one");
            c.stop();

            String restoredAs = sandbox.name("fromsnap");
            c.restoreSnapshotAs(first, restoredAs);
            assertThat(Lxc.definedContainers(sandbox.lxcpath())).contains(restoredAs);

            String second = c.snapshot();
            c.destroySnapshot(second);
            assertThat(c.snapshots()).extracting(LxcSnapshot::name).containsExactly("snap0");

            c.destroy();
            assertThat(c.isDefined()).isFalse();
            assertThat(sandbox.lxcpath().resolve(c.name())).doesNotExist();
        }
    }
}
