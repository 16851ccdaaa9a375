package dev.berth.agent.container;

/**
 * Named places in multi-step operations where a crash test can freeze the agent, to kill it there:
 * {@code -Dberth.failpoint=launch-after-define} makes a launch announce itself on stderr and wait
 * forever at that point. Inert unless the property is set.
 */
public final class Failpoints {

    private static final String ACTIVE = System.getProperty("berth.failpoint");

    private Failpoints() {
    }

    public static void hit(String name) {
        if (name.equals(ACTIVE)) {
            System.err.println("FAILPOINT " + name);
            System.err.flush();
            try {
                Thread.sleep(Long.MAX_VALUE); // held here until the test kills the agent
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
