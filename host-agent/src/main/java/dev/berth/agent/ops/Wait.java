package dev.berth.agent.ops;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * A wait for a condition that nothing signals (a file another process writes, a directory another
 * thread removes): checked at once, then every {@code poll}, until it holds or {@code timeout} passes.
 */
public record Wait(Duration timeout, Duration poll) {

    public static Wait upTo(Duration timeout, Duration poll) {
        return new Wait(timeout, poll);
    }

    /** Whether {@code condition} came to hold within the timeout. */
    public boolean until(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(poll);
        }
        return true;
    }
}
