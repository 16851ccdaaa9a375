package dev.berth.lxc;

import java.util.Locale;

/** The states liblxc reports for a container ({@code lxc_container.state}). */
public enum LxcState {
    STOPPED, STARTING, RUNNING, STOPPING, ABORTING, FREEZING, FROZEN, THAWED;

    /** Parses liblxc's state string, such as {@code "RUNNING"}. */
    public static LxcState parse(String state) {
        return valueOf(state.trim().toUpperCase(Locale.ROOT));
    }
}
