package dev.berth.agent.container;

import dev.berth.agent.image.InitSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Waits, after a start, for the container's init to be ready to take commands: for systemd, its
 * private bus socket ({@code systemctl} fails with "Failed to connect to bus" until it exists, some
 * hundred milliseconds after the container is RUNNING). Looked at from the host through
 * {@code /proc/<init>/root}, so waiting costs no process inside. Other inits are ready at once.
 */
record InitReady(InitSystem init, Duration timeout) {

    private static final Duration POLL = Duration.ofMillis(5);

    /** Whether init became ready within the timeout. */
    boolean await(int initPid) throws InterruptedException {
        if (init != InitSystem.SYSTEMD) {
            return true;
        }
        Path bus = Path.of("/proc", Integer.toString(initPid), "root", "run/systemd/private");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(bus)) {
            if (System.nanoTime() > deadline || !Files.exists(Path.of("/proc", Integer.toString(initPid)))) {
                return false;
            }
            Thread.sleep(POLL);
        }
        return true;
    }
}
