package dev.berth.lxc;

import static dev.berth.lxc.ffm.Layouts.LXC_SNAPSHOT;

import dev.berth.lxc.ffm.Layouts;
import dev.berth.lxc.ffm.Liblxc;
import dev.berth.lxc.ffm.Liblxc.Sig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One liblxc container handle ({@code struct lxc_container *}), opened with {@link Lxc#open} and
 * released with {@link #close()} ({@code lxc_container_put}).
 *
 * <p><b>Threads.</b> A handle has one owner. Its methods take a lock, so a handle shared by mistake
 * serialises rather than corrupting liblxc's state, but the intended use is one handle per thread:
 * different handles, to the same or to different containers, may be used from any number of threads
 * at once (liblxc guards each container with its own locks).
 *
 * <p><b>Forking calls.</b> {@link #start()}, {@link #run} and {@link #cloneTo} run in
 * {@code berth-forkd}, a small fork server (LXD's "forkstart"/"forkexec" idea): liblxc forks its
 * caller for them, and its daemonized start also moves the caller into the monitor's cgroups. Done
 * from the JVM, that costs milliseconds of page-table copying per call, moves the JVM between
 * cgroups and leaves every monitor holding a copy-on-write image of the JVM. The JVM's cgroups and
 * file descriptors are never touched, and liblxc removes {@code lxc.monitor.<name>} when the
 * container stops.
 *
 * <p><b>Errors.</b> Every failure is an {@link LxcException} carrying the ERROR lines liblxc wrote to
 * this container's log file ({@code <lxcpath>/<name>/lxc.log}) during the failed call.
 */
public final class LxcContainer implements AutoCloseable {

    private static final String LOG_FILE = "lxc.log";
    private static final int CLONE_KEEPNAME = 1;
    private static final int CLONE_KEEPMACADDR = 1 << 1;
    private static final int CLONE_SNAPSHOT = 1 << 2;
    private static final int CREATE_QUIET = 1;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int START_RUNNING = 0;
    /** Threads that copy command output; reused, since a thread per stream per command costs more than the command. */
    private static final ExecutorService PUMPS = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("lxc-pump-", 0).factory());
    private static final int START_NOT_DEFINED = 3;
    /** This JVM's cgroups at start-up; starting containers must never change them. */
    private static final CallerCgroups CGROUPS = CallerCgroups.capture();

    private final ReentrantLock lock = new ReentrantLock();
    private final Path lxcpath;
    private String name;
    private MemorySegment handle;

    LxcContainer(String name, Path lxcpath, MemorySegment handle) {
        this.name = name;
        this.lxcpath = lxcpath;
        this.handle = Liblxc.containerAt(handle);
        if (isDefined()) {
            attachLog();
        }
    }

    public String name() {
        return name;
    }

    public Path lxcpath() {
        return lxcpath;
    }

    /** The container's directory, {@code <lxcpath>/<name>}. */
    public Path directory() {
        return lxcpath.resolve(name);
    }

    /** This container's liblxc log file. */
    public Path logFile() {
        return directory().resolve(LOG_FILE);
    }

    public boolean isDefined() {
        return callBool("is_defined");
    }

    public boolean isRunning() {
        return callBool("is_running");
    }

    public LxcState state() {
        return LxcState.parse(callString("state"));
    }

    /** The host pid of the container's init, or empty when it is not running. */
    public OptionalInt initPid() {
        int pid = callInt("init_pid");
        return pid > 0 ? OptionalInt.of(pid) : OptionalInt.empty();
    }

    // ---- create, clone, rename, destroy ----

    /**
     * Creates the container by running an LXC template ({@code busybox}, {@code download}, ...) with
     * the configuration set on this handle so far plus the host's defaults, into a {@code dir} rootfs.
     */
    public void create(String template, List<String> templateArgs) {
        requireNotDefined();
        withLog("create", true, (arena) -> {
            MemorySegment argv = Liblxc.cStringArray(arena, templateArgs);
            return (boolean) Sig.CREATE.handle().invokeExact(fn("create"), handle,
                    arena.allocateFrom(template), MemorySegment.NULL, MemorySegment.NULL, CREATE_QUIET, argv);
        });
    }

    /**
     * Defines the container around an existing root filesystem, with the configuration set on this
     * handle so far. The container owns {@code rootfs} from now on: {@link #destroy()} deletes it.
     */
    public void createFromRootfs(Path rootfs) {
        requireDirectory(rootfs);
        requireNotDefined();
        setConfigItem("lxc.rootfs.path", "dir:" + rootfs.toAbsolutePath());
        withLog("create", true, (arena) -> (boolean) Sig.CREATE.handle().invokeExact(fn("create"), handle,
                MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, 0, MemorySegment.NULL));
    }

    /**
     * Defines the container on a copy-on-write overlay of {@code lower}, a root filesystem shared
     * with other containers (an image): its writes go to {@code <directory>/overlay/delta}.
     * {@link #destroy()} deletes only that layer; {@code lower} is never written.
     */
    public void createOnOverlay(Path lower) {
        requireDirectory(lower);
        requireNotDefined();
        Path delta = directory().resolve("overlay/delta");
        // liblxc's create insists that lxc.rootfs.path name an existing directory, which an overlay
        // spec never does; defining a container is writing its config, so write it directly.
        lock.lock();
        try {
            Files.createDirectories(delta);
            attachLog();
            setConfigItem("lxc.rootfs.path", "overlay:" + lower.toAbsolutePath() + ":" + delta);
            // save_config itself, not saveConfig(): the container is not defined until this writes it.
            withLog("save config", false,
                    (arena) -> (boolean) Sig.BOOL_C_PTR.handle().invokeExact(fn("save_config"), handle, MemorySegment.NULL));
        } catch (IOException e) {
            deleteQuietly(directory());
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            deleteQuietly(directory());
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Defines the container on a root filesystem its owner mounts at {@code rootfs} before each start
     * (an unprivileged container's id-mapped overlay): the config is written as it is, nothing is
     * created or chowned (liblxc's create would run id-mapping helpers for a directory it must not
     * touch). {@link #destroy()} removes the empty mount point, never what is mounted there.
     */
    public void defineOnMountedRootfs(Path rootfs) {
        requireDirectory(rootfs);
        requireNotDefined();
        lock.lock();
        try {
            attachLog();
            setConfigItem("lxc.rootfs.path", "dir:" + rootfs.toAbsolutePath());
            withLog("save config", false,
                    (arena) -> (boolean) Sig.BOOL_C_PTR.handle().invokeExact(fn("save_config"), handle, MemorySegment.NULL));
        } catch (RuntimeException e) {
            deleteQuietly(directory());
            throw e;
        } finally {
            lock.unlock();
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // nothing was there
        }
    }

    private static void requireDirectory(Path rootfs) {
        if (!Files.isDirectory(rootfs)) {
            throw new IllegalArgumentException("rootfs " + rootfs + " is not a directory");
        }
    }

    /**
     * Clones this stopped container as {@code newName}. With {@link CloneOptions#snapshot()} the new
     * rootfs is an overlayfs layer over this one (copy-on-write); otherwise a full copy.
     *
     * @return a handle on the new container, owned by the caller
     */
    public LxcContainer cloneTo(String newName, CloneOptions options) {
        Lxc.validateName(newName);
        Path targetPath = options.lxcpath() == null ? lxcpath : options.lxcpath();
        int flags = (options.snapshot() ? CLONE_SNAPSHOT : 0) | (options.keepName() ? CLONE_KEEPNAME : 0)
                | (options.keepMac() ? CLONE_KEEPMACADDR : 0);
        lock.lock();
        try (LogMark mark = LogMark.of(logFile())) {
            requireDefined("clone");
            if (isRunning()) {
                throw new LxcException.AlreadyRunning(name, "clone");
            }
            if (Files.exists(targetPath.resolve(newName).resolve("config"))) {
                throw new LxcException.AlreadyDefined(newName);
            }
            ForkServer.Reply reply = ForkServer.cloneTo(lxcpath, name, targetPath, newName, flags, options.backingStore());
            if (reply.status() != 0) {
                throw new LxcException.OperationFailed(name, "clone to " + newName, mark.errors(reply.error()));
            }
            return Lxc.open(newName, targetPath);
        } finally {
            lock.unlock();
        }
    }

    /** Renames this stopped container (its directory, config and rootfs path follow). */
    public void rename(String newName) {
        Lxc.validateName(newName);
        requireStopped("rename");
        withLog("rename to " + newName, false,
                (arena) -> (boolean) Sig.BOOL_C_PTR.handle().invokeExact(fn("rename"), handle, arena.allocateFrom(newName)));
        // liblxc leaves the old handle describing the old name: take a fresh one for the new name.
        lock.lock();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment renamed = (MemorySegment) Liblxc.LXC_CONTAINER_NEW.invokeExact(
                    arena.allocateFrom(newName), arena.allocateFrom(lxcpath.toString()));
            if (renamed.equals(MemorySegment.NULL)) {
                throw new LxcException.OperationFailed(newName, "open after rename", List.of());
            }
            int ignored = (int) Liblxc.LXC_CONTAINER_PUT.invokeExact(handle);
            handle = Liblxc.containerAt(renamed);
            name = newName;
            attachLog();
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /** Destroys this stopped container, its snapshots and its rootfs. */
    public void destroy() {
        requireStopped("destroy");
        // destroy_with_snapshots fails outright when there is no snapshot directory.
        String function = snapshots().isEmpty() ? "destroy" : "destroy_with_snapshots";
        withLog("destroy", false, (arena) -> (boolean) Sig.BOOL_C.handle().invokeExact(fn(function), handle));
    }

    // ---- run state ----

    /**
     * Starts the container daemonized, as its saved config describes (call {@link #saveConfig()}
     * after changing it), and returns once liblxc reports it RUNNING.
     *
     * @throws LxcException.StartFailed with liblxc's explanation when it does not start
     */
    public void start() {
        lock.lock();
        try (LogMark mark = LogMark.of(logFile())) {
            requireDefined("start");
            if (isRunning()) {
                throw new LxcException.AlreadyRunning(name, "start");
            }
            ForkServer.Reply reply = ForkServer.start(lxcpath, name, logFile());
            if (reply.status() == START_NOT_DEFINED) {
                throw new LxcException.NotDefined(name, "start");
            }
            if (reply.status() != START_RUNNING) {
                CGROUPS.removeMonitorCgroups(name);
                throw new LxcException.StartFailed(name, mark.errors(reply.error()));
            }
        } finally {
            lock.unlock();
        }
    }

    /** Kills the container (SIGKILL to its init) and waits until it is STOPPED. */
    public void stop() {
        requireRunningOrFrozen("stop");
        withLog("stop", false, (arena) -> (boolean) Sig.BOOL_C.handle().invokeExact(fn("stop"), handle));
        waitFor(LxcState.STOPPED, STOP_TIMEOUT);
    }

    /**
     * Asks the container's init to shut down cleanly (its halt signal) and waits for it.
     *
     * @throws LxcException.Timeout if it has not stopped within {@code timeout}; it is left running
     */
    public void shutdown(Duration timeout) {
        requireRunningOrFrozen("shut down");
        int seconds = seconds(timeout);
        boolean stopped = locked(arena -> (boolean) Sig.BOOL_C_INT.handle().invokeExact(fn("shutdown"), handle, seconds));
        if (!stopped) {
            throw new LxcException.Timeout(name, "did not shut down within " + timeout.toMillis() + " ms");
        }
    }

    public void freeze() {
        requireRunningOrFrozen("freeze");
        withLog("freeze", false, (arena) -> (boolean) Sig.BOOL_C.handle().invokeExact(fn("freeze"), handle));
    }

    public void unfreeze() {
        requireRunningOrFrozen("unfreeze");
        withLog("unfreeze", false, (arena) -> (boolean) Sig.BOOL_C.handle().invokeExact(fn("unfreeze"), handle));
    }

    /**
     * Waits until the container is in {@code state}, through liblxc's state monitor (no polling).
     * liblxc counts in whole seconds, so {@code timeout} is rounded up.
     *
     * @throws LxcException.Timeout if it is not in that state in time
     */
    public void waitFor(LxcState state, Duration timeout) {
        boolean reached = locked(arena -> (boolean) Sig.BOOL_C_PTR_INT.handle().invokeExact(fn("wait"), handle,
                arena.allocateFrom(state.name()), seconds(timeout)));
        if (!reached) {
            throw new LxcException.Timeout(name, "not " + state + " within " + timeout.toMillis() + " ms (now "
                    + state() + ")");
        }
    }

    // ---- configuration ----

    /**
     * The value of a config item ({@code ""} when unset). A key that holds a list
     * ({@code lxc.mount.entry}) gives one value per line.
     */
    public String configItem(String key) {
        String value = readSized("get_config_item", key, true);
        return value.endsWith("\n") ? value.substring(0, value.length() - 1) : value;
    }

    /**
     * liblxc keeps a value as given and writes {@code key = value} lines: a line break (or a NUL, where
     * C would cut the string) in a key or value would become another config item on the next load,
     * such as an {@code lxc.hook} that runs on the host. Refused here whatever the caller checked.
     */
    private void refuseLineBreaks(String key, String value) {
        for (String text : new String[] {key, value}) {
            if (text != null && text.chars().anyMatch(c -> c == '\n' || c == '\r' || c == 0)) {
                throw new LxcException.ConfigRejected(name, key, "(a value with a line break or NUL)",
                        List.of("refused by Berth before liblxc saw it: it could start another config item"));
            }
        }
    }

    /** The config keys under {@code prefix} ({@code "lxc.net.0"}), or every key for {@code null}. */
    public List<String> configKeys(String prefix) {
        String keys = readSized("get_keys", prefix, true);
        return keys.isEmpty() ? List.of() : List.of(keys.split("\n"));
    }

    /** Sets a config item on this handle; {@link #saveConfig()} writes it to the container's config. */
    public void setConfigItem(String key, String value) {
        setConfigItems(List.of(Map.entry(key, value)));
    }

    /** Sets several config items in order. */
    public void setConfigItems(Map<String, String> items) {
        setConfigItems(List.copyOf(items.entrySet()));
    }

    /**
     * Sets config items in order; a key may repeat (as {@code lxc.idmap} does). One lock and one log
     * mark for the lot: a launch sets dozens.
     */
    public void setConfigItems(List<Map.Entry<String, String>> items) {
        lock.lock();
        try (Arena arena = Arena.ofConfined(); LogMark mark = LogMark.of(logFile())) {
            for (Map.Entry<String, String> item : items) {
                refuseLineBreaks(item.getKey(), item.getValue());
                boolean ok = (boolean) Sig.BOOL_C_PTR_PTR.handle().invokeExact(fn("set_config_item"), handle,
                        arena.allocateFrom(item.getKey()), arena.allocateFrom(item.getValue()));
                if (!ok) {
                    throw new LxcException.ConfigRejected(name, item.getKey(), item.getValue(), mark.errors(errorString()));
                }
            }
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Clears a config item, or every item under a prefix such as {@code lxc.net}, on this handle.
     *
     * @return whether liblxc cleared anything (it answers false for an unknown key and for one with no value)
     */
    public boolean clearConfigItem(String key) {
        return locked(arena -> (boolean) Sig.BOOL_C_PTR.handle().invokeExact(fn("clear_config_item"), handle,
                arena.allocateFrom(key)));
    }

    /** Writes this handle's configuration to the container's config file. */
    public void saveConfig() {
        requireDefined("save the config of");
        withLog("save config", false,
                (arena) -> (boolean) Sig.BOOL_C_PTR.handle().invokeExact(fn("save_config"), handle, MemorySegment.NULL));
    }

    // ---- network ----

    /** The network interfaces inside the running container. */
    public List<String> interfaces() {
        requireRunningOrFrozen("list interfaces of");
        return locked(arena -> Liblxc.takeStringArray(
                (MemorySegment) Sig.PTR_C.handle().invokeExact(fn("get_interfaces"), handle)));
    }

    /**
     * The addresses inside the running container.
     *
     * @param iface  one interface, or null for all
     * @param family {@code "inet"}, {@code "inet6"}, or null for both
     */
    public List<InetAddress> ipAddresses(String iface, String family) {
        requireRunningOrFrozen("list addresses of");
        lock.lock();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ips = (MemorySegment) Sig.PTR_C_PTR_PTR_INT.handle().invokeExact(fn("get_ips"), handle,
                    Liblxc.cString(arena, iface), Liblxc.cString(arena, family), 0);
            List<InetAddress> addresses = new ArrayList<>();
            for (String ip : Liblxc.takeStringArray(ips)) {
                addresses.add(InetAddress.ofLiteral(ip));
            }
            return addresses;
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    // ---- running commands ----

    /** Runs a command inside the running container and collects its output. */
    public ExecResult run(LxcCommand command) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exitCode = run(command, out, err);
        return new ExecResult(exitCode, out.toByteArray(), err.toByteArray());
    }

    /**
     * Runs a command inside the running container, streaming its output as it comes.
     *
     * @return its exit status, or 128 + the signal number when a signal killed it
     */
    public int run(LxcCommand command, OutputStream stdout, OutputStream stderr) {
        try (LxcProcess process = spawn(command, false)) {
            Future<?> feeder = PUMPS.submit(() -> {
                try {
                    process.stdin().write(command.stdin());
                } catch (IOException e) {
                    // the command closed its input early: what it did not read is dropped
                }
                process.closeStdin();
                return null;
            });
            Future<?> outPump = PUMPS.submit(() -> process.stdout().transferTo(stdout));
            Future<?> errPump = PUMPS.submit(() -> process.stderr().transferTo(stderr));
            outPump.get();
            errPump.get();
            feeder.get();
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LxcException.OperationFailed(name, "run " + command.argv() + " (interrupted)", List.of());
        } catch (ExecutionException e) {
            throw Liblxc.rethrow(e.getCause());
        }
    }

    /**
     * Starts a command inside the running container and returns at once: the caller feeds its input,
     * reads its output as it comes, and waits for it. With {@code tty} its stdin, stdout and stderr
     * are one new pseudo-terminal (its controlling terminal, in a session of its own), as for an
     * interactive shell; the command's {@code stdin} bytes are not used.
     */
    public LxcProcess spawn(LxcCommand command, boolean tty) {
        if (tty) {
            int[] pty = LxcProcess.openPty(initPid().orElse(-1));
            try {
                ForkServer.Spawned spawned = spawnOrExplain(command, new int[] {pty[1], pty[1], pty[1]}, true);
                return new LxcProcess(name, spawned, true, pty[0], pty[0], -1);
            } catch (RuntimeException e) {
                Pipe.closeFd(pty[0]);
                throw e;
            } finally {
                Pipe.closeFd(pty[1]);
            }
        }
        Pipe in = Pipe.open();
        Pipe out = Pipe.open();
        Pipe err = Pipe.open();
        try {
            ForkServer.Spawned spawned = spawnOrExplain(command, new int[] {in.readFd(), out.writeFd(), err.writeFd()}, false);
            return new LxcProcess(name, spawned, false, in.takeWrite(), out.takeRead(), err.takeRead());
        } finally {
            in.close();
            out.close();
            err.close();
        }
    }

    private ForkServer.Spawned spawnOrExplain(LxcCommand command, int[] stdio, boolean tty) {
        try (LogMark mark = LogMark.of(logFile())) {
            try {
                return ForkServer.spawn(lxcpath, name, command, environment(command), stdio, tty);
            } catch (IllegalStateException e) {
                requireRunningOrFrozen("run a command in");
                throw new LxcException.OperationFailed(name, "run " + command.argv(), mark.errors(e.getMessage()));
            }
        }
    }

    /** The attached process's whole environment: a default PATH, then the command's own variables. */
    private static List<String> environment(LxcCommand command) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", LxcCommand.DEFAULT_PATH);
        env.putAll(command.env());
        return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    /** The hierarchies in which this JVM is not where it started (empty when starts left it clean). */
    static List<String> callerCgroupDrift() {
        return CGROUPS.strayHierarchies();
    }

    static int decodeWaitStatus(int status) {
        int signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    // ---- snapshots ----

    /** Snapshots this container (copy-on-write where the storage allows) and returns the snapshot's name. */
    public String snapshot() {
        requireDefined("snapshot");
        lock.lock();
        try (LogMark mark = LogMark.of(logFile())) {
            int index = (int) Sig.INT_C_PTR.handle().invokeExact(fn("snapshot"), handle, MemorySegment.NULL);
            if (index < 0) {
                throw new LxcException.OperationFailed(name, "snapshot", mark.errors(errorString()));
            }
            return "snap" + index;
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    public List<LxcSnapshot> snapshots() {
        requireDefined("list snapshots of");
        lock.lock();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(Layouts.C_POINTER);
            int count = (int) Sig.INT_C_PTR.handle().invokeExact(fn("snapshot_list"), handle, out);
            if (count < 0) {
                throw new LxcException.OperationFailed(name, "list snapshots", List.of());
            }
            MemorySegment array = out.get(Layouts.C_POINTER, 0);
            if (count == 0) {
                return List.of();
            }
            array = array.reinterpret(LXC_SNAPSHOT.byteSize() * count);
            List<LxcSnapshot> snapshots = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                MemorySegment snap = array.asSlice(i * LXC_SNAPSHOT.byteSize(), LXC_SNAPSHOT);
                snapshots.add(new LxcSnapshot(
                        Liblxc.string(pointer(snap, "name")),
                        Liblxc.string(pointer(snap, "timestamp")),
                        Path.of(Liblxc.string(pointer(snap, "lxcpath")))));
                Sig.VOID_PTR.handle().invokeExact(pointer(snap, "free"), snap);
            }
            Liblxc.free(array);
            return snapshots;
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Restores snapshot {@code snapshot} over this stopped container. liblxc replaces the rootfs and
     * config; the snapshot itself stays.
     */
    public void restoreSnapshot(String snapshot) {
        requireStopped("restore a snapshot of");
        withLog("restore snapshot " + snapshot, false, (arena) -> (boolean) Sig.BOOL_C_PTR_PTR.handle().invokeExact(
                fn("snapshot_restore"), handle, arena.allocateFrom(snapshot), arena.allocateFrom(name)));
    }

    /** Makes a new container {@code newName} from snapshot {@code snapshot} of this one. */
    public void restoreSnapshotAs(String snapshot, String newName) {
        Lxc.validateName(newName);
        requireDefined("restore a snapshot of");
        withLog("restore snapshot " + snapshot + " as " + newName, false,
                (arena) -> (boolean) Sig.BOOL_C_PTR_PTR.handle().invokeExact(fn("snapshot_restore"), handle,
                        arena.allocateFrom(snapshot), arena.allocateFrom(newName)));
    }

    public void destroySnapshot(String snapshot) {
        requireDefined("delete a snapshot of");
        withLog("delete snapshot " + snapshot, false, (arena) -> (boolean) Sig.BOOL_C_PTR.handle().invokeExact(
                fn("snapshot_destroy"), handle, arena.allocateFrom(snapshot)));
    }

    // ---- cgroups ----

    /** Reads a cgroup file of the running container, such as {@code memory.limit_in_bytes}. */
    public String cgroupItem(String key) {
        requireRunningOrFrozen("read cgroup " + key + " of");
        return readSized("get_cgroup_item", key, false);
    }

    /** Writes a cgroup file of the running container, such as {@code memory.limit_in_bytes}. */
    public void setCgroupItem(String key, String value) {
        requireRunningOrFrozen("set cgroup " + key + " of");
        withLog("set cgroup " + key + " = " + value, false, (arena) -> (boolean) Sig.BOOL_C_PTR_PTR.handle().invokeExact(
                fn("set_cgroup_item"), handle, arena.allocateFrom(key), arena.allocateFrom(value)));
    }

    /** Memory the running container uses now, in bytes, from whichever cgroup layout the host has. */
    public long memoryUsage() {
        return Long.parseLong(cgroupItem(CgroupLayout.host().memoryUsageKey()).trim());
    }

    /** The container's memory limit in bytes; {@link Long#MAX_VALUE} when unlimited. */
    public long memoryLimit() {
        String value = cgroupItem(CgroupLayout.host().memoryLimitKey()).trim();
        return CgroupLayout.parseLimit(value);
    }

    /** Sets the running container's memory limit, in bytes. */
    public void setMemoryLimit(long bytes) {
        setCgroupItem(CgroupLayout.host().memoryLimitKey(), Long.toString(bytes));
    }

    // ---- lifetime ----

    /** Releases the handle ({@code lxc_container_put}); safe to call twice. The container itself is untouched. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (handle != null) {
                int ignored = (int) Liblxc.LXC_CONTAINER_PUT.invokeExact(handle);
                handle = null;
            }
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "LxcContainer[" + name + " in " + lxcpath + "]";
    }

    // ---- internals ----

    @FunctionalInterface
    private interface NativeBool {
        boolean call(Arena arena) throws Throwable;
    }

    /** Runs a bool-returning liblxc call under the lock; on false, throws with what liblxc logged. */
    private void withLog(String operation, boolean creating, NativeBool call) {
        lock.lock();
        try (Arena arena = Arena.ofConfined()) {
            if (creating) {
                Files.createDirectories(directory());
                attachLog();
            }
            try (LogMark mark = LogMark.of(logFile())) {
                if (!call.call(arena)) {
                    throw new LxcException.OperationFailed(name, operation, mark.errors(errorString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /** liblxc's size-query-then-fill idiom: {@code int f(c, key, char *retv, int inlen)}. */
    private String readSized(String function, String key, boolean config) {
        lock.lock();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cKey = Liblxc.cString(arena, key);
            MemorySegment target = fn(function);
            int length = (int) Sig.INT_C_PTR_PTR_INT.handle().invokeExact(target, handle, cKey, MemorySegment.NULL, 0);
            if (length < 0) {
                if (config) {
                    throw new LxcException.ConfigRejected(name, key, null, List.of("unknown or unreadable key"));
                }
                throw new LxcException.OperationFailed(name, "read " + key, List.of());
            }
            // Live values (memory usage) can grow between the size query and the read: leave room, and
            // ask again with more if it still did not fit.
            int capacity = length + 64;
            while (true) {
                MemorySegment buffer = arena.allocate(capacity);
                int read = (int) Sig.INT_C_PTR_PTR_INT.handle().invokeExact(target, handle, cKey, buffer, capacity);
                if (read < 0) {
                    throw new LxcException.OperationFailed(name, "read " + key, List.of());
                }
                if (read < capacity) {
                    return new String(buffer.asSlice(0, read).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                            java.nio.charset.StandardCharsets.UTF_8);
                }
                capacity = read + 64;
            }
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /** Points liblxc's log for this handle at the container's own log file. */
    private void attachLog() {
        try (Arena arena = Arena.ofConfined()) {
            boolean ok = (boolean) Sig.BOOL_C_PTR_PTR.handle().invokeExact(fn("set_config_item"), handle,
                    arena.allocateFrom("lxc.log.file"), arena.allocateFrom(logFile().toString()));
            if (!ok) {
                throw new LxcException.ConfigRejected(name, "lxc.log.file", logFile().toString(), List.of());
            }
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    private String errorString() {
        String error = Liblxc.string((MemorySegment) Liblxc.containerField(live(), "error_string"));
        return error == null || error.isBlank() ? null : error;
    }

    private MemorySegment fn(String function) {
        return Liblxc.function(live(), function);
    }

    private MemorySegment live() {
        MemorySegment h = handle;
        if (h == null) {
            throw new IllegalStateException(this + " is closed");
        }
        return h;
    }

    @FunctionalInterface
    private interface NativeCall<T> {
        T call(Arena arena) throws Throwable;
    }

    /** Runs one native call under this handle's lock, with a confined arena for its arguments. */
    private <T> T locked(NativeCall<T> call) {
        lock.lock();
        try (Arena arena = Arena.ofConfined()) {
            return call.call(arena);
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    private boolean callBool(String function) {
        return locked(arena -> (boolean) Sig.BOOL_C.handle().invokeExact(fn(function), handle));
    }

    private int callInt(String function) {
        return locked(arena -> (int) Sig.INT_C.handle().invokeExact(fn(function), handle));
    }

    private String callString(String function) {
        return locked(arena -> Liblxc.string((MemorySegment) Sig.PTR_C.handle().invokeExact(fn(function), handle)));
    }

    private static MemorySegment pointer(MemorySegment struct, String field) {
        return (MemorySegment) LXC_SNAPSHOT.varHandle(PathElement.groupElement(field)).get(struct, 0L);
    }

    private void requireDefined(String operation) {
        if (!isDefined()) {
            throw new LxcException.NotDefined(name, operation);
        }
    }

    private void requireNotDefined() {
        if (isDefined()) {
            throw new LxcException.AlreadyDefined(name);
        }
    }

    private void requireStopped(String operation) {
        requireDefined(operation);
        if (isRunning()) {
            throw new LxcException.AlreadyRunning(name, operation);
        }
    }

    private void requireRunningOrFrozen(String operation) {
        requireDefined(operation);
        if (!isRunning()) {
            throw new LxcException.NotRunning(name, operation);
        }
    }

    private static int seconds(Duration timeout) {
        if (timeout.isNegative()) {
            return -1;
        }
        long millis = timeout.toMillis();
        return (int) Math.min(Integer.MAX_VALUE, (millis + 999) / 1000);
    }
}
