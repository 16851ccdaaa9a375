package dev.berth.agent.drift;

import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.exec.ExecResult;
import dev.berth.agent.exec.Command;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.puppet.ContainerAccess;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The bridge's port on a running container: commands through liblxc's attach (under
 * {@code timeout -s KILL}, which kills the command's whole process group), files through the
 * container's root as the kernel resolves it (never leaving it).
 */
final class AgentAccess implements ContainerAccess {

    private final RuntimeContainer container;
    private final ContainerRoot root;

    AgentAccess(RuntimeContainer container, ContainerRoot root) {
        this.container = container;
        this.root = root;
    }

    @Override
    public Result run(List<String> argv, Map<String, String> env, Duration timeout) {
        List<String> limited = new ArrayList<>(List.of("timeout", "-s", "KILL", Long.toString(Math.max(1, timeout.toSeconds()))));
        limited.addAll(argv);
        long start = System.nanoTime();
        ExecResult result = container.run(new Command(limited, env, "/", 0, 0, null));
        boolean timedOut = (result.exitCode() == 137 || result.exitCode() == 124)
                && System.nanoTime() - start >= timeout.toNanos() - 500_000_000L;
        return new Result(result.exitCode(), result.stdoutText(), result.stderrText(), timedOut);
    }

    @Override
    public void write(String path, byte[] content, int mode) {
        root.mkdirs(path.substring(0, path.lastIndexOf('/')), 0700, 0, 0);
        root.write(path, new ByteArrayInputStream(content), mode, 0, 0);
    }

    @Override
    public byte[] read(String path) {
        try (InputStream in = root.read(path)) {
            return in.readAllBytes();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public void delete(String path) {
        root.delete(path);
    }

    @Override
    public void copyTree(Path hostDir, String path) {
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (ContainerRoot host = ContainerRoot.of("the host", hostDir, 0)) {
            host.archive("/", tar);
        }
        root.delete(path);
        root.mkdirs(path, 0755, 0, 0);
        root.extract(path, new ByteArrayInputStream(tar.toByteArray()), 0, 0);
    }
}
