package dev.berth.agent.runtime;

import dev.berth.agent.exec.RunningCommand;
import dev.berth.agent.exec.Command;
import dev.berth.lxc.ExecResult;
import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcCommand;
import dev.berth.lxc.LxcContainer;
import dev.berth.lxc.LxcProcess;
import dev.berth.lxc.LxcState;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/** The runtime port on liblxc (Berth's own bindings): the only place the agent reaches liblxc. */
public final class LxcRuntime implements ContainerRuntime {

    private final Path lxcpath;
    private final StateProbe probe;
    private final UserNamespaces namespaces = new UserNamespaces();

    public LxcRuntime(Path lxcpath) {
        this.lxcpath = lxcpath;
        this.probe = new StateProbe(lxcpath);
    }

    @Override
    public Path lxcpath() {
        return lxcpath;
    }

    @Override
    public String version() {
        return Lxc.version();
    }

    @Override
    public List<String> names() {
        return probe.names();
    }

    @Override
    public Probe probe(String name) {
        StateProbe.Probe p = probe.probe(name);
        return p == null ? null : new Probe(state(p.state()), p.pid());
    }

    @Override
    public void forget(String name) {
        probe.forget(name);
    }

    @Override
    public RuntimeContainer open(String name) {
        return new Handle(Lxc.open(name, lxcpath), this);
    }

    @Override
    public void checkName(String name) {
        Lxc.validateName(name);
    }

    /** Per filesystem (its device): null when it can be id-mapped, else the reason. */
    private final java.util.Map<Object, String> idmapSupport = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void checkIdmappedMounts(Path lower) {
        Object device;
        try {
            device = java.nio.file.Files.getAttribute(lower, "unix:dev");
        } catch (IOException e) {
            return; // not there yet (an image made on first use): the start says, if it cannot
        }
        String reason = idmapSupport.computeIfAbsent(device, d -> {
            try {
                Mounts.MountException e = Mounts.probeIdmap(lower.toString(), namespaces.of(PROBE_SHIFT, IDMAP_SIZE));
                return e == null ? "" : e.getMessage();
            } catch (IOException e) {
                return e.getMessage();
            }
        });
        if (!reason.isEmpty()) {
            throw new dev.berth.agent.error.AgentException.Invalid("this host cannot mount " + lower + " id-mapped (" + reason
                    + "), which an unprivileged container's start needs: Linux 5.12 or later and a filesystem with id-mapped"
                    + " mounts (ext4, xfs, btrfs, tmpfs from 6.3) for the image store; move the image store (images: in"
                    + " berthd.yaml) to one, or set security.privileged: true in the profile");
        }
    }

    /** The map the probe uses: the pool's first range (any map proves the point; this one is cached anyway). */
    private static final long PROBE_SHIFT = 1_000_000;

    @Override
    public List<String> releaseStrayMounts() {
        List<String> released = new java.util.ArrayList<>();
        try {
            for (Path dir : IdmappedRootfs.strays(lxcpath)) {
                if (IdmappedRootfs.detach(dir)) {
                    released.add("detached the rootfs mounts of " + dir.getFileName() + ", left by an agent stopped while it started");
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot release the rootfs mounts under " + lxcpath + ": " + e.getMessage(), e);
        }
        return released;
    }

    @Override
    public void close() {
        probe.close();
        namespaces.close();
    }

    /** Mounts an unprivileged container's rootfs, starts it, and detaches the mounts from the host again. */
    private void startIdmapped(LxcContainer c) {
        Path dir = c.directory();
        try {
            mountRootfs(c);
            c.start();
        } finally {
            try {
                IdmappedRootfs.detach(dir); // the container keeps its copy; the host keeps nothing
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot detach the rootfs mounts of " + c.name() + ": " + e.getMessage(), e);
            }
        }
    }

    private void mountRootfs(LxcContainer c) {
        Path dir = c.directory();
        try {
            IdmappedRootfs.mount(dir, namespaces.of(idShift(c.name()), IDMAP_SIZE));
        } catch (Mounts.MountException e) {
            throw new dev.berth.agent.error.AgentException.Failed("cannot mount the root filesystem of " + c.name() + ": "
                    + e.getMessage() + (e.errno == Mounts.EINVAL || e.errno == 95 || e.errno == 38
                    ? "; this kernel or the image store's filesystem cannot do id-mapped mounts (Linux 5.12 or later,"
                    + " ext4, xfs, btrfs or tmpfs), which unprivileged containers need: move the image store"
                    + " (images: in berthd.yaml) to such a filesystem, or set security.privileged: true" : ""), e);
        } catch (IOException e) {
            throw new dev.berth.agent.error.AgentException.Failed("cannot mount the root filesystem of " + c.name() + ": "
                    + e.getMessage(), e);
        }
    }

    /** The ids a container's map gives it: 65,536, as LXD and Podman do. */
    static final long IDMAP_SIZE = 65536;

    static State state(LxcState state) {
        return State.valueOf(state.name());
    }

    private static LxcCommand lxc(Command c) {
        return new LxcCommand(c.argv(), c.env(), c.cwd(), c.uid(), c.gid(), c.stdin());
    }

    /** One liblxc handle behind the port. */
    private record Handle(LxcContainer c, LxcRuntime runtime) implements RuntimeContainer {

        @Override
        public String name() {
            return c.name();
        }

        @Override
        public Path directory() {
            return c.directory();
        }

        @Override
        public boolean isDefined() {
            return c.isDefined();
        }

        @Override
        public boolean isRunning() {
            return c.isRunning();
        }

        @Override
        public State state() {
            return LxcRuntime.state(c.state());
        }

        @Override
        public OptionalInt initPid() {
            return c.initPid();
        }

        @Override
        public void createOnOverlay(Path lower) {
            c.createOnOverlay(lower);
        }

        @Override
        public void createOnIdmappedOverlay(Path lower, long shift, Map<String, Path> binds) {
            try {
                IdmappedRootfs.prepare(c.directory(), lower, shift);
                IdmappedRootfs.stageBinds(c.directory(), binds, shift);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot lay out " + c.name() + "'s layer: " + e.getMessage(), e);
            }
            c.defineOnMountedRootfs(IdmappedRootfs.rootfs(c.directory()));
        }

        @Override
        public void convertToIdmappedOverlay(Path lower, long shift, Map<String, Path> binds) {
            try {
                IdmappedRootfs.prepare(c.directory(), lower, shift);
                IdmappedRootfs.stageBinds(c.directory(), binds, shift);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot lay out " + c.name() + "'s layer: " + e.getMessage(), e);
            }
            c.setConfigItem("lxc.rootfs.path", "dir:" + IdmappedRootfs.rootfs(c.directory()));
            c.saveConfig();
        }

        @Override
        public Map<String, Path> stagedBindSources() {
            try {
                return IdmappedRootfs.binds(c.directory());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot read the staged binds of " + c.name() + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void destroy() {
            c.destroy();
        }

        @Override
        public void start() {
            if (IdmappedRootfs.isIdmapped(c.directory())) {
                runtime.startIdmapped(c);
            } else {
                c.start();
            }
        }

        @Override
        public void stop() {
            c.stop();
        }

        @Override
        public boolean shutdown(Duration timeout) {
            try {
                c.shutdown(timeout);
                return true;
            } catch (dev.berth.lxc.LxcException.Timeout e) {
                return false;
            }
        }

        @Override
        public void freeze() {
            c.freeze();
        }

        @Override
        public void unfreeze() {
            c.unfreeze();
        }

        @Override
        public String configItem(String key) {
            return c.configItem(key);
        }

        @Override
        public void setConfigItem(String key, String value) {
            c.setConfigItem(key, value);
        }

        @Override
        public void setConfigItems(List<Map.Entry<String, String>> items) {
            c.setConfigItems(items);
        }

        @Override
        public boolean clearConfigItem(String key) {
            return c.clearConfigItem(key);
        }

        @Override
        public void saveConfig() {
            c.saveConfig();
        }

        @Override
        public String cgroupItem(String key) {
            return c.cgroupItem(key);
        }

        @Override
        public void setCgroupItem(String key, String value) {
            c.setCgroupItem(key, value);
        }

        @Override
        public List<String> addresses() {
            return c.ipAddresses(null, null).stream().map(java.net.InetAddress::getHostAddress).toList();
        }

        @Override
        public long memoryUsage() {
            return c.memoryUsage();
        }

        @Override
        public long memoryLimit() {
            return c.memoryLimit();
        }

        @Override
        public dev.berth.agent.exec.ExecResult run(Command command) {
            ExecResult r = c.run(lxc(command));
            return new dev.berth.agent.exec.ExecResult(r.exitCode(), r.stdout(), r.stderr());
        }

        @Override
        public int run(Command command, OutputStream stdout, OutputStream stderr) {
            return c.run(lxc(command), stdout, stderr);
        }

        @Override
        public RunningCommand spawn(Command command, boolean tty) {
            return new Spawned(c.spawn(lxc(command), tty));
        }

        @Override
        public void close() {
            c.close();
        }

        @Override
        public String toString() {
            return c.toString();
        }
    }

    private record Spawned(LxcProcess p) implements RunningCommand {

        @Override
        public int pid() {
            return p.pid();
        }

        @Override
        public boolean tty() {
            return p.tty();
        }

        @Override
        public OutputStream stdin() {
            return p.stdin();
        }

        @Override
        public void closeStdin() throws IOException {
            p.closeStdin();
        }

        @Override
        public InputStream stdout() {
            return p.stdout();
        }

        @Override
        public InputStream stderr() {
            return p.stderr();
        }

        @Override
        public void resize(int columns, int rows) {
            p.resize(columns, rows);
        }

        @Override
        public void signal(int signal) {
            p.signal(signal);
        }

        @Override
        public int waitFor() {
            return p.waitFor();
        }

        @Override
        public void close() {
            p.close();
        }
    }
}
