package dev.berth.agent.container;

import dev.berth.agent.runtime.RuntimeContainer;
import java.time.Duration;

/** How the agent stops a container: its init is asked to halt and given {@code timeout}, then it is killed. */
final class Halt {

    private Halt() {
    }

    /** With {@code force}, killed at once; a stopped container is left as it is. */
    static void stop(RuntimeContainer container, boolean force, Duration timeout) {
        if (!container.isRunning()) {
            return;
        }
        if (!force && container.shutdown(timeout)) {
            return;
        }
        // forced, or init ignored the halt signal: kill it, as the operator asked for a stop
        container.stop();
    }
}
