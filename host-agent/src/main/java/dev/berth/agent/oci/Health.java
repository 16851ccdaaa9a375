package dev.berth.agent.oci;

import java.util.Locale;

/**
 * An app's health: {@code none} without a check; {@code starting} from a new run until the check
 * has passed once or failed for its whole grace; then {@code healthy} or {@code unhealthy}.
 */
public enum Health {
    NONE, STARTING, HEALTHY, UNHEALTHY;

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Known to be up or down, as opposed to not checked or not yet judged. */
    public boolean judged() {
        return this == HEALTHY || this == UNHEALTHY;
    }
}
