package dev.berth.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

@RequiresLxc
class LxcConcurrencyTest {

    @Test
    void severalThreadsDriveDifferentContainersAtOnce(LxcSandbox sandbox) throws Exception {
        try (LxcContainer base = Busybox.create(sandbox, "cbase")) {
            int threads = 4;
            try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
                List<Future<String>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    results.add(pool.submit(() -> {
                        StringBuilder seen = new StringBuilder();
                        for (int round = 0; round < 3; round++) {
                            try (LxcContainer c = base.cloneTo(sandbox.name("w" + id + "r" + round), CloneOptions.overlaySnapshot())) {
                                c.start();
                                seen.append(c.run(LxcCommand.of("hostname")).stdoutText().strip()).append(' ');
                                c.freeze();
                                c.unfreeze();
                                c.stop();
                                c.destroy();
                            }
                        }
                        return seen.toString().strip();
                    }));
                }
                for (int t = 0; t < threads; t++) {
                    assertThat(results.get(t).get()).isEqualTo(
                            sandbox.name("w" + t + "r0") + " " + sandbox.name("w" + t + "r1") + " " + sandbox.name("w" + t + "r2"));
                }
            }
            assertThat(Lxc.definedContainers(sandbox.lxcpath())).containsExactly(base.name());
        }
    }

    @Test
    void startingLeavesTheJvmsCgroupsAsTheyWereAndNoMonitorCgroupBehind(LxcSandbox sandbox) throws Exception {
        String before = Files.readString(Path.of("/proc/self/cgroup"));
        try (LxcContainer c = Busybox.create(sandbox, "clean")) {
            c.start();
            assertThat(Files.readString(Path.of("/proc/self/cgroup"))).isEqualTo(before);
            assertThat(LxcContainer.callerCgroupDrift()).isEmpty();
            assertThat(LxcSandbox.leakedCgroups("lxc.monitor." + c.name())).as("monitor cgroup while running").isNotEmpty();
            c.stop();
            c.destroy();
            assertThat(LxcSandbox.awaitMonitorsGone(sandbox.lxcpath(), 10_000)).isTrue();
            assertThat(LxcSandbox.leakedCgroups("lxc.monitor." + c.name())).isEmpty();
            assertThat(LxcSandbox.leakedCgroups("lxc.payload." + c.name())).isEmpty();
        }
        assertThat(Files.readString(Path.of("/proc/self/cgroup"))).isEqualTo(before);
    }
}
