package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.exec.Command;
import dev.berth.agent.exec.ExecResult;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.image.InitSystem;
import dev.berth.agent.oci.AppRuntime;
import dev.berth.agent.oci.AppStatus;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Wait;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;
import java.time.Duration;

/**
 * The app's supervisor after a system container starts: its init starts it (a unit or an inittab
 * line the launch wrote), or, for an init the agent cannot hook, the agent does.
 */
final class AppStart {

    private static final Duration APP_START_TIMEOUT = Duration.ofSeconds(30);

    private final ContainerRuntime runtime;
    private final ContainerSpecs specs;
    private final ContainerFiles files;
    private final AgentLog log;

    AppStart(ContainerRuntime runtime, ContainerSpecs specs, AgentLog log) {
        this.runtime = runtime;
        this.specs = specs;
        this.files = new ContainerFiles(runtime);
        this.log = log;
    }

    /**
     * After a launch started container {@code name}: starts the supervisor if the agent must, and
     * waits until it has reported, so that a runtime that cannot run at all fails the launch.
     */
    void awaitSupervisor(String name, RuntimeContainer container, int pid, InitSystem init) throws InterruptedException {
        try (ContainerRoot root = files.runningRoot(name, pid)) {
            if (AppRuntime.agentStarts(init)) {
                AppRuntime.start(container, root, init);
            }
            if (!Wait.upTo(APP_START_TIMEOUT, Duration.ofMillis(20)).until(() -> AppRuntime.status(root).state() != AppStatus.ABSENT)) {
                ExecResult crun = container.run(Command.of("sh", "-c", AppRuntime.CRUN
                        + " --version 2>&1 | head -1; tail -n 5 " + AppRuntime.LOG + " 2>&1"));
                throw new AgentException.Invalid("the app's supervisor did not report within " + APP_START_TIMEOUT.toSeconds()
                        + " s in " + name + " (crun: " + crun.stdoutText().strip().replace('\n', ' ')
                        + "); is crun installed on the host (scripts/setup.sh installs it)?");
            }
        }
    }

    /** After a start, restart, restore or autostart of container {@code name}: its supervisor, if the agent starts it. */
    void afterStart(String name) {
        if (specs.appSpecOf(name) == null) {
            return;
        }
        InitSystem init = specs.initOf(name);
        if (!AppRuntime.agentStarts(init)) {
            return;
        }
        try (RuntimeContainer container = runtime.open(name)) {
            int pid = container.initPid().orElse(-1);
            try (ContainerRoot root = files.runningRoot(name, pid)) {
                AppRuntime.start(container, root, init);
            }
        } catch (RuntimeException e) {
            log.warn("Could not start the app in " + name + ": " + e.getMessage());
        }
    }
}
