package dev.berth.agent.runtime;

import dev.berth.agent.exec.ExecResult;
import dev.berth.agent.exec.RunningCommand;
import dev.berth.agent.exec.Command;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The runtime port in memory, for tests of the agent's logic without root or liblxc: containers are
 * a directory with a {@code config} file (as liblxc keeps them, so recovery reads the same layout),
 * states live here, commands run on the host as the test's user. Every call is recorded in order
 * ({@link #calls()}, e.g. {@code "start web"}), and a call can be made to fail ({@link #failAt}).
 */
public final class FakeRuntime implements ContainerRuntime {

    private final Path lxcpath;
    private final Map<String, State> states = new ConcurrentHashMap<>();
    private final Map<String, List<Map.Entry<String, String>>> configs = new ConcurrentHashMap<>();
    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> failing = ConcurrentHashMap.newKeySet();

    public FakeRuntime(Path lxcpath) {
        this.lxcpath = lxcpath;
    }

    private volatile String idmapUnsupported;

    /** Makes this host one that cannot do id-mapped mounts, saying {@code reason}. */
    public FakeRuntime withoutIdmappedMounts(String reason) {
        this.idmapUnsupported = reason;
        return this;
    }

    @Override
    public void checkIdmappedMounts(Path lower) {
        if (idmapUnsupported != null) {
            throw new dev.berth.agent.error.AgentException.Invalid("this host cannot mount " + lower + " id-mapped ("
                    + idmapUnsupported + "), which an unprivileged container's start needs; set security.privileged: true");
        }
    }

    /** Makes every later {@code call} (a {@link RuntimeContainer} method name: start, createOnOverlay, ...) fail. */
    public FakeRuntime failAt(String call) {
        failing.add(call);
        return this;
    }

    public void heal() {
        failing.clear();
    }

    /** The calls made so far, in order: "method name". */
    public List<String> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    /** Marks {@code name} running, as if it had been left running by an earlier agent. */
    public void running(String name) {
        states.put(name, State.RUNNING);
    }

    @Override
    public Path lxcpath() {
        return lxcpath;
    }

    @Override
    public String version() {
        return "fake";
    }

    @Override
    public List<String> names() {
        try (Stream<Path> dirs = Files.list(lxcpath)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("config"))).map(d -> d.getFileName().toString()).sorted().toList();
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Probe probe(String name) {
        if (!Files.isRegularFile(lxcpath.resolve(name).resolve("config"))) {
            return null;
        }
        State state = states.getOrDefault(name, State.STOPPED);
        return new Probe(state, state == State.STOPPED ? null : (int) ProcessHandle.current().pid());
    }

    @Override
    public void forget(String name) {
        // nothing cached
    }

    @Override
    public RuntimeContainer open(String name) {
        checkName(name);
        return new Container(name);
    }

    @Override
    public void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains("/") || name.length() > 64) {
            throw new IllegalArgumentException("not a name: " + name);
        }
    }

    @Override
    public void close() {
    }

    private final class Container implements RuntimeContainer {
        private final String name;
        private final List<Map.Entry<String, String>> pending = new ArrayList<>();

        Container(String name) {
            this.name = name;
        }

        private void call(String method) {
            calls.add(method + " " + name);
            if (failing.contains(method)) {
                throw new IllegalStateException("injected failure at " + method + " of " + name);
            }
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Path directory() {
            return lxcpath.resolve(name);
        }

        @Override
        public boolean isDefined() {
            return Files.isRegularFile(directory().resolve("config"));
        }

        @Override
        public boolean isRunning() {
            return states.getOrDefault(name, State.STOPPED) == State.RUNNING;
        }

        @Override
        public State state() {
            return states.getOrDefault(name, State.STOPPED);
        }

        @Override
        public OptionalInt initPid() {
            return isRunning() ? OptionalInt.of((int) ProcessHandle.current().pid()) : OptionalInt.empty();
        }

        @Override
        public void createOnOverlay(Path lower) {
            call("createOnOverlay");
            try {
                Files.createDirectories(directory().resolve("overlay/delta"));
                configs.put(name, new ArrayList<>(pending));
                write();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Map<String, Path> stagedBindSources() {
            return Map.of();
        }

        @Override
        public void createOnIdmappedOverlay(Path lower, long shift, Map<String, Path> binds) {
            createOnOverlay(lower);
            try {
                Files.writeString(directory().resolve("overlay/source"), lower + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void convertToIdmappedOverlay(Path lower, long shift, Map<String, Path> binds) {
            try {
                Files.writeString(directory().resolve("overlay/source"), lower + "\n");
                write();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void write() throws IOException {
            StringBuilder text = new StringBuilder();
            configs.getOrDefault(name, List.of()).forEach(e -> text.append(e.getKey()).append(" = ").append(e.getValue()).append('\n'));
            Files.writeString(directory().resolve("config"), text);
        }

        @Override
        public void destroy() {
            call("destroy");
            configs.remove(name);
            states.remove(name);
            try {
                Files.deleteIfExists(directory().resolve("config"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void start() {
            call("start");
            states.put(name, State.RUNNING);
        }

        @Override
        public void stop() {
            call("stop");
            states.put(name, State.STOPPED);
        }

        @Override
        public boolean shutdown(Duration timeout) {
            call("shutdown");
            states.put(name, State.STOPPED);
            return true;
        }

        @Override
        public void freeze() {
            call("freeze");
            states.put(name, State.FROZEN);
        }

        @Override
        public void unfreeze() {
            call("unfreeze");
            states.put(name, State.RUNNING);
        }

        @Override
        public String configItem(String key) {
            List<Map.Entry<String, String>> items = configs.getOrDefault(name, pending);
            return String.join("\n", items.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).toList());
        }

        @Override
        public void setConfigItem(String key, String value) {
            setConfigItems(List.of(Map.entry(key, value)));
        }

        @Override
        public void setConfigItems(List<Map.Entry<String, String>> items) {
            call("setConfigItems");
            configs.computeIfAbsent(name, n -> pending).addAll(items);
        }

        @Override
        public boolean clearConfigItem(String key) {
            return configs.getOrDefault(name, pending).removeIf(e -> e.getKey().equals(key));
        }

        @Override
        public void saveConfig() {
            call("saveConfig");
            try {
                write();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String cgroupItem(String key) {
            return configItem("lxc.cgroup." + key);
        }

        @Override
        public void setCgroupItem(String key, String value) {
            call("setCgroupItem");
        }

        @Override
        public List<String> addresses() {
            return List.of();
        }

        @Override
        public long memoryUsage() {
            return 0;
        }

        @Override
        public long memoryLimit() {
            return Long.MAX_VALUE;
        }

        @Override
        public ExecResult run(Command command) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = run(command, out, err);
            return new ExecResult(code, out.toByteArray(), err.toByteArray());
        }

        /** On the host, as the test's user: what the logic does with the result is what is tested. */
        @Override
        public int run(Command command, OutputStream stdout, OutputStream stderr) {
            call("run");
            try {
                Process p = new ProcessBuilder(command.argv()).start();
                if (command.stdin() != null) {
                    p.getOutputStream().write(command.stdin());
                }
                p.getOutputStream().close();
                try (InputStream o = p.getInputStream(); InputStream e = p.getErrorStream()) {
                    o.transferTo(stdout);
                    e.transferTo(stderr);
                }
                return p.waitFor();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 130;
            }
        }

        @Override
        public RunningCommand spawn(Command command, boolean tty) {
            throw new UnsupportedOperationException("spawn: a real container's test");
        }

        @Override
        public void close() {
        }
    }
}
