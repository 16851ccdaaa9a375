package dev.berth.agent.oci;

import java.util.Locale;

/**
 * What the app's supervisor says of it: {@code running}, {@code restarting} (after an exit, waiting
 * its back-off), {@code exited} (ended and its policy does not restart it), {@code stopped} (by the
 * agent), or {@code absent} (no supervisor has run yet). Written in the status file and shown in the
 * API in lower case.
 */
public enum AppStatus {
    RUNNING, RESTARTING, EXITED, STOPPED, ABSENT;

    /** The word the supervisor writes; an unknown word reads as {@link #ABSENT}. */
    public static AppStatus of(String word) {
        for (AppStatus s : values()) {
            if (s.word().equals(word)) {
                return s;
            }
        }
        return ABSENT;
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** No app process runs, and none will without the agent. */
    public boolean ended() {
        return this == STOPPED || this == EXITED || this == ABSENT;
    }
}
