package dev.berth.agent.runtime;

import dev.berth.agent.exec.ExecResult;
import dev.berth.agent.exec.RunningCommand;
import dev.berth.agent.exec.Command;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * One system container as the agent uses it: its state, its config, its lifecycle and commands run
 * in it. Obtained from {@link ContainerRuntime#open}; close it when done.
 */
public interface RuntimeContainer extends AutoCloseable {

    String name();

    /** The container's own directory (config, layer, log). */
    Path directory();

    boolean isDefined();

    boolean isRunning();

    State state();

    OptionalInt initPid();

    /** Defines the container on a copy-on-write overlay of {@code lower}, with the config items set so far. */
    void createOnOverlay(Path lower);

    /**
     * Defines an unprivileged container on {@code lower} (an image, shared), with its own layer owned by
     * its root ({@code shift} on the host): the image is id-mapped into it at each start, never copied.
     * {@code binds} (key to host directory) are bind-mounted at {@link #stagedBind} for each start.
     */
    void createOnIdmappedOverlay(Path lower, long shift, Map<String, Path> binds);

    /** Moves a stopped container defined on liblxc's overlay to the id-mapped rootfs of {@link #createOnIdmappedOverlay} (its layer stays). */
    void convertToIdmappedOverlay(Path lower, long shift, Map<String, Path> binds);

    /**
     * Where bind {@code key} of an unprivileged container is staged for its starts (its config's mount
     * entry names this path; the agent mounts the host source there, see {@link #createOnIdmappedOverlay}).
     */
    default Path stagedBind(String key) {
        return directory().resolve("binds").resolve(key);
    }

    /** The host sources of the staged binds, by key (empty for a privileged container). */
    Map<String, Path> stagedBindSources();

    void destroy();

    /** Starts it as its saved config says; returns once it runs. */
    void start();

    /** Kills it at once. */
    void stop();

    /** Asks its init to halt and waits up to {@code timeout}; false if it had not stopped by then. */
    boolean shutdown(Duration timeout);

    void freeze();

    void unfreeze();

    /** A config item's value ("" when unset; several values one per line). */
    String configItem(String key);

    void setConfigItem(String key, String value);

    /** Config items in order (a key may repeat). */
    void setConfigItems(List<Map.Entry<String, String>> items);

    boolean clearConfigItem(String key);

    void saveConfig();

    String cgroupItem(String key);

    void setCgroupItem(String key, String value);

    /** The addresses of its interfaces (it runs). */
    List<String> addresses();

    long memoryUsage();

    long memoryLimit();

    ExecResult run(Command command);

    /** Runs {@code command}, streaming its output; returns its exit code. */
    int run(Command command, OutputStream stdout, OutputStream stderr);

    RunningCommand spawn(Command command, boolean tty);

    @Override
    void close();
}
