package dev.berth.puppet;

import java.time.Instant;
import java.util.List;

/**
 * One drift check of one container: the resources found out of sync (Puppet's, and the envelope's:
 * the container's own LXC config and live limits against its profile), what was corrected, and what
 * failed. {@code status}: {@code in-sync}, {@code drifted} (found, left as found: policy report),
 * {@code corrected} (found and reconciled: policy enforce), or {@code failed} (the check could not
 * tell: a manifest that does not compile, a run that failed or timed out).
 */
public record DriftReport(String container, Instant time, String policy, String status, List<Drift> resources,
                          List<String> failures, long durationMs, String puppetVersion) {

    public static final String IN_SYNC = "in-sync";
    public static final String DRIFTED = "drifted";
    public static final String CORRECTED = "corrected";
    public static final String FAILED = "failed";

    public DriftReport {
        resources = List.copyOf(resources);
        failures = List.copyOf(failures);
    }

    /**
     * One property out of sync. {@code source} is {@code puppet} or {@code envelope}; {@code is} and
     * {@code should} are the values as Puppet (or the agent) reports them; {@code corrected} says
     * whether an enforcing run put it back.
     */
    public record Drift(String source, String resource, String property, String is, String should, boolean corrected,
                        String file, Integer line) {

        public Drift corrected(boolean done) {
            return new Drift(source, resource, property, is, should, done, file, line);
        }
    }

    /** One word for a table: in-sync, drifted(N), corrected(N), failed. */
    public String summary() {
        return switch (status) {
            case DRIFTED, CORRECTED -> status + "(" + resources.size() + ")";
            default -> status;
        };
    }
}
