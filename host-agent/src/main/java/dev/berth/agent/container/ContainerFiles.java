package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.files.Tar;
import dev.berth.agent.runtime.ContainerRuntime;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Locale;

/**
 * The files of running containers, reached through their roots ({@link ContainerRoot}: every path
 * resolved by the kernel beneath the root, owners as the container sees them). The one place that
 * opens a running container's root; the files API, the app and drift services come here.
 */
public final class ContainerFiles {

    private final ContainerRuntime runtime;

    public ContainerFiles(ContainerRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * The root of running container {@code name}, owners shifted by its id map. The caller closes it.
     *
     * @throws AgentException.NotFound when no container {@code name} is defined
     * @throws AgentException.Conflict when it is not running
     */
    public ContainerRoot runningRoot(String name) {
        runtime.checkName(name);
        ContainerRuntime.Probe probe = runtime.probe(name);
        if (probe == null) {
            throw new AgentException.NotFound("no container \"" + name + "\"");
        }
        if (probe.pid() == null) {
            throw new AgentException.Conflict("container \"" + name + "\" is " + probe.state().name().toLowerCase(Locale.ROOT)
                    + "; files are reached through its running root: start it first");
        }
        return runningRoot(name, probe.pid());
    }

    /** The root of container {@code name} whose init is {@code initPid} (from a probe the caller made). The caller closes it. */
    public ContainerRoot runningRoot(String name, int initPid) {
        return ContainerRoot.ofProcess(name, initPid, runtime.idShift(name));
    }

    /** Where a pull writes: {@link #open} is called once, with what is at the path, before any content. */
    public interface Sink {
        OutputStream open(ContainerRoot.Stat stat);
    }

    /**
     * Copies what is at {@code path} in container {@code name} to {@code sink}: a file's content, or a
     * directory as a tar stream.
     *
     * @throws AgentException.Invalid when the path is neither a file nor a directory
     */
    public void pull(String name, String path, Sink sink) {
        try (ContainerRoot root = runningRoot(name)) {
            ContainerRoot.Stat stat = root.stat(path);
            if (stat.type() != Tar.Type.DIRECTORY && stat.type() != Tar.Type.FILE) {
                throw new AgentException.Invalid("path", path + " in " + name + " is neither a file nor a directory");
            }
            try (OutputStream out = sink.open(stat)) {
                if (stat.type() == Tar.Type.DIRECTORY) {
                    root.archive(path, out);
                } else {
                    try (InputStream in = root.read(path)) {
                        in.transferTo(out);
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot send " + path + " from " + name + ": " + e.getMessage(), e);
            }
        }
    }

    /** What a push made: a file, or the entries of a directory's tar stream. */
    public record Pushed(String path, Tar.Type type, Integer entries) {
    }

    /**
     * Writes {@code content} at {@code path} in container {@code name}: a file (with {@code mode}), or
     * a directory unpacked from a tar stream; owned by {@code uid}/{@code gid} as the container sees them.
     */
    public Pushed push(String name, String path, Tar.Type type, InputStream content, int mode, int uid, int gid) {
        try (ContainerRoot root = runningRoot(name)) {
            if (type == Tar.Type.DIRECTORY) {
                return new Pushed(path, type, root.extract(path, content, uid, gid));
            }
            root.write(path, content, mode, uid, gid);
            return new Pushed(path, type, null);
        }
    }
}
