package dev.berth.agent.runtime;

/** A system container's run state, as the runtime reports it. */
public enum State {
    STOPPED, STARTING, RUNNING, STOPPING, ABORTING, FREEZING, FROZEN, THAWED
}
