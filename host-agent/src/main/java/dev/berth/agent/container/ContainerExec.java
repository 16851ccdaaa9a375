package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.exec.Command;
import dev.berth.agent.exec.RunningCommand;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;

/** Commands in running containers: the one place the exec API starts a process inside one. */
public final class ContainerExec {

    private final ContainerRuntime runtime;

    public ContainerExec(ContainerRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Starts {@code command} in container {@code name}, on a pseudo-terminal with {@code tty}. The
     * caller owns the process (and closes it); it outlives the handle it was started through.
     *
     * @throws AgentException.NotFound when no container {@code name} is defined
     * @throws AgentException.Conflict when it is not running
     */
    public RunningCommand start(String name, Command command, boolean tty) {
        runtime.checkName(name);
        try (RuntimeContainer c = runtime.open(name)) {
            if (!c.isRunning()) {
                if (!c.isDefined()) {
                    throw new AgentException.NotFound("no container \"" + name + "\"");
                }
                throw new AgentException.Conflict("container \"" + name + "\" is not running; start it first");
            }
            return c.spawn(command, tty);
        }
    }
}
