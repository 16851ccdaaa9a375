package dev.berth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcCommand;
import dev.berth.lxc.LxcContainer;
import dev.berth.lxc.LxcState;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@RequiresLxc
class ImageStoreTest {

    @Test
    void buildsTheBusyboxImageOnceAndReproducibly(LxcSandbox sandbox) {
        ImageStore store = new ImageStore(sandbox.scratch("images"));
        Image first = store.busybox();
        assertThat(first.aliases()).containsExactly("busybox");
        assertThat(first.fingerprint()).matches("[0-9a-f]{64}");
        assertThat(first.rootfs().resolve("bin/busybox")).isExecutable();
        assertThat(first.rootfs().resolve("bin/sh")).isSymbolicLink();
        assertThat(first.size()).isGreaterThan(1 << 20);
        assertThat(store.busybox()).isEqualTo(first);
        assertThat(store.find(first.fingerprint().substring(0, 12))).contains(first);
        assertThat(store.find("nope")).isEmpty();

        Image again = new ImageStore(sandbox.scratch("images2")).busybox();
        assertThat(again.fingerprint()).as("same recipe, same fingerprint").isEqualTo(first.fingerprint());
        assertThat(store.list()).containsExactly(first);
    }

    @Test
    void theFingerprintCoversContentModesAndNames(LxcSandbox sandbox) throws Exception {
        Path tree = sandbox.scratch("tree");
        Files.writeString(tree.resolve("a"), "x");
        String base = Fingerprint.of(tree);
        assertThat(Fingerprint.of(tree)).isEqualTo(base);
        Files.writeString(tree.resolve("a"), "y");
        String content = Fingerprint.of(tree);
        assertThat(content).isNotEqualTo(base);
        Files.setAttribute(tree.resolve("a"), "unix:mode", 0600);
        assertThat(Fingerprint.of(tree)).isNotEqualTo(content);
        Files.move(tree.resolve("a"), tree.resolve("b"));
        assertThat(Fingerprint.of(tree)).isNotEqualTo(content);
    }

    @Test
    void containersRunOnTheImageCopyOnWriteAndLeaveItUntouched(LxcSandbox sandbox) {
        ImageStore store = new ImageStore(sandbox.scratch("images"));
        Image image = store.busybox();
        for (String n : List.of("one", "two")) {
            try (LxcContainer c = Lxc.open(sandbox.name(n), sandbox.lxcpath())) {
                c.setConfigItems(LxcSandbox.busyboxConfig());
                c.setConfigItems(image.lxcConfig());
                c.setConfigItem("lxc.mount.auto", "proc:mixed sys:ro cgroup:mixed");
                c.createOnOverlay(image.rootfs());
                c.start();
                assertThat(c.state()).isEqualTo(LxcState.RUNNING);
                assertThat(c.run(LxcCommand.of("sh", "-c", "echo " + n + " > /root/who; cat /root/who")).stdoutText())
                        .isEqualTo(n + "\n");
                c.shutdown(java.time.Duration.ofSeconds(10)); // busybox init halts on SIGUSR1, from the image's config
                c.destroy();
            }
        }
        assertThat(image.rootfs().resolve("root/who")).doesNotExist();
        assertThat(Fingerprint.of(image.rootfs())).isEqualTo(image.fingerprint());
        assertThat(Map.copyOf(image.lxcConfig())).containsEntry("lxc.signal.halt", "SIGUSR1");
    }
}
