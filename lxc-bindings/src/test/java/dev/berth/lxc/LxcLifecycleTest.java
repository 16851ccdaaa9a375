package dev.berth.lxc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

@RequiresLxc
class LxcLifecycleTest {

    @Test
    void reportsTheInstalledLiblxcVersion() {
        assertThat(Lxc.version()).matches("5\\.\\d+\\.\\d+.*");
        assertThat(Lxc.isConfigItemSupported("lxc.uts.name")).isTrue();
        assertThat(Lxc.isConfigItemSupported("lxc.no.such.key")).isFalse();
        assertThat(Lxc.defaultLxcpath()).isAbsolute();
    }

    @Test
    void createsStartsRunsStopsAndDestroysABusyboxContainer(LxcSandbox sandbox) {
        try (LxcContainer c = Lxc.open(sandbox.name("life"), sandbox.lxcpath())) {
            assertThat(c.isDefined()).isFalse();
            c.setConfigItems(LxcSandbox.busyboxConfig());
            c.create("busybox", List.of());
            assertThat(c.isDefined()).isTrue();
            assertThat(c.state()).isEqualTo(LxcState.STOPPED);
            assertThat(Lxc.definedContainers(sandbox.lxcpath())).containsExactly(c.name());
            assertThat(Lxc.activeContainers(sandbox.lxcpath())).isEmpty();

            c.start();
            assertThat(c.state()).isEqualTo(LxcState.RUNNING);
            assertThat(c.initPid()).isPresent();
            assertThat(Path.of("/proc", Integer.toString(c.initPid().getAsInt()))).exists();
            assertThat(Lxc.activeContainers(sandbox.lxcpath())).containsExactly(c.name());

            ExecResult hostname = c.run(LxcCommand.of("hostname"));
            assertThat(hostname.exitCode()).isZero();
            assertThat(hostname.stdoutText().strip()).isEqualTo(c.name());

            c.stop();
            assertThat(c.state()).isEqualTo(LxcState.STOPPED);
            assertThat(c.initPid()).isEmpty();

            c.destroy();
            assertThat(c.isDefined()).isFalse();
            assertThat(c.directory()).doesNotExist();
            assertThat(Lxc.definedContainers(sandbox.lxcpath())).isEmpty();
        }
    }

    @Test
    void createsAContainerAroundAnExistingRootfs(LxcSandbox sandbox) throws Exception {
        Path rootfs;
        try (LxcContainer template = Busybox.create(sandbox, "tpl")) {
            rootfs = sandbox.scratch("rootfs");
            // Take the template's rootfs as "an existing rootfs directory" of our own.
            Files.delete(rootfs);
            Files.move(template.directory().resolve("rootfs"), rootfs);
            Files.createDirectories(template.directory().resolve("rootfs"));
            try (LxcContainer c = Lxc.open(sandbox.name("fromfs"), sandbox.lxcpath())) {
                    c.setConfigItems(LxcSandbox.busyboxConfig());
                // The busybox rootfs borrows the host's libraries and needs its own init settings.
                for (String key : List.of("lxc.mount.entry", "lxc.mount.auto", "lxc.autodev", "lxc.signal.halt")) {
                    for (String value : template.configItem(key).split("\n")) {
                        if (!value.isBlank()) {
                            c.setConfigItem(key, value);
                        }
                    }
                }
                c.createFromRootfs(rootfs);
                assertThat(c.configItem("lxc.rootfs.path")).isEqualTo(rootfs.toString());
                c.start();
                assertThat(c.run(LxcCommand.of("sh", "-c", "test -x /bin/busybox && echo ok")).stdoutText())
                        .isEqualTo("ok\n");
                c.stop();
                c.destroy();
                assertThat(rootfs).as("the container owns its rootfs").doesNotExist();
            }
        }
    }

    @Test
    void freezesAndUnfreezes(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "frz")) {
            c.freeze();
            assertThat(c.state()).isEqualTo(LxcState.FROZEN);
            c.unfreeze();
            assertThat(c.state()).isEqualTo(LxcState.RUNNING);
            assertThat(c.run(LxcCommand.of("true")).exitCode()).isZero();
            c.stop();
        }
    }

    @Test
    void shutsDownCleanlyWithTheHaltSignal(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "halt")) {
            c.shutdown(Duration.ofSeconds(10));
            assertThat(c.state()).isEqualTo(LxcState.STOPPED);
        }
    }

    @Test
    void shutdownThatInitIgnoresTimesOutAndLeavesTheContainerRunning(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.create(sandbox, "deaf")) {
            c.setConfigItem("lxc.signal.halt", "SIGCONT"); // busybox init ignores SIGCONT
            c.saveConfig();
            c.start();
            assertThatThrownBy(() -> c.shutdown(Duration.ofSeconds(1)))
                    .isInstanceOf(LxcException.Timeout.class)
                    .hasMessageContaining("did not shut down within 1000 ms");
            assertThat(c.state()).isEqualTo(LxcState.RUNNING);
            c.stop();
        }
    }

    @Test
    void waitsForAState(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "wait")) {
            c.waitFor(LxcState.RUNNING, Duration.ofSeconds(1));
            assertThatThrownBy(() -> c.waitFor(LxcState.STOPPED, Duration.ofMillis(500)))
                    .isInstanceOf(LxcException.Timeout.class)
                    .hasMessageContaining("not STOPPED within 500 ms (now RUNNING)");
            c.stop();
        }
    }

    @Test
    void readsWritesClearsAndSavesConfigItems(LxcSandbox sandbox) throws Exception {
        try (LxcContainer c = Busybox.create(sandbox, "cfg")) {
            assertThat(c.configItem("lxc.uts.name")).isEqualTo(c.name());
            assertThat(c.configKeys("lxc.net.0")).contains("type");
            c.setConfigItem("lxc.cgroup.memory.limit_in_bytes", "64M");
            c.setConfigItem("lxc.environment", "BERTH=1");
            assertThat(c.configItem("lxc.cgroup.memory.limit_in_bytes")).isEqualTo("64M");
            c.saveConfig();
            assertThat(Files.readString(c.directory().resolve("config")))
                    .contains("lxc.cgroup.memory.limit_in_bytes = 64M", "lxc.environment = BERTH=1");

            assertThat(c.clearConfigItem("lxc.environment")).isTrue();
            assertThat(c.configItem("lxc.environment")).isEmpty();

            assertThatThrownBy(() -> c.setConfigItem("lxc.no.such.key", "1"))
                    .isInstanceOf(LxcException.ConfigRejected.class)
                    .hasMessageContaining("lxc.no.such.key");
            assertThatThrownBy(() -> c.setConfigItem("lxc.signal.halt", "SIGNOPE"))
                    .isInstanceOf(LxcException.ConfigRejected.class)
                    .hasMessageContaining("lxc.signal.halt = SIGNOPE");

            try (LxcContainer reopened = Lxc.open(c.name(), sandbox.lxcpath())) {
                assertThat(reopened.configItem("lxc.cgroup.memory.limit_in_bytes")).isEqualTo("64M");
            }
        }
    }

    @Test
    void readsAndWritesCgroupItemsOfARunningContainer(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.create(sandbox, "cg")) {
            c.setConfigItem("lxc.cgroup.memory.limit_in_bytes", "256M");
            c.saveConfig();
            c.start();
            assertThat(c.memoryLimit()).isEqualTo(256L << 20);
            long usage = c.memoryUsage();
            assertThat(usage).isBetween(1L << 10, 256L << 20);

            c.setMemoryLimit(128L << 20);
            assertThat(c.memoryLimit()).isEqualTo(128L << 20);
            assertThat(c.cgroupItem("pids.current").strip()).matches("\\d+");
            assertThatThrownBy(() -> c.setCgroupItem("memory.no_such_file", "1"))
                    .isInstanceOf(LxcException.OperationFailed.class);
            c.stop();
        }
    }

    @Test
    void renamesAStoppedContainer(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.create(sandbox, "old")) {
            String newName = sandbox.name("new");
            c.rename(newName);
            assertThat(c.name()).isEqualTo(newName);
            assertThat(Lxc.definedContainers(sandbox.lxcpath())).containsExactly(newName);
            c.start();
            assertThat(c.isRunning()).isTrue();
            c.stop();
        }
    }
}
