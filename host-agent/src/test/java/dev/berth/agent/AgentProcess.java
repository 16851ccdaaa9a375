package dev.berth.agent;

import dev.berth.testing.LxcSandbox;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** berthd as a process of its own, to be SIGKILLed by a crash test (at a failpoint or at any moment). */
final class AgentProcess implements AutoCloseable {

    private final Process process;
    private final BufferedReader out;
    private final Path socket;

    private AgentProcess(Process process, Path socket) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.socket = socket;
    }

    /** Starts berthd (with {@code failpoint} armed, or none for null) and returns once it listens. */
    static AgentProcess start(String failpoint, Path state, Path socket, LxcSandbox sandbox) throws Exception {
        return start(failpoint, state, socket, sandbox, java.util.Map.of());
    }

    /** With {@code env} added to the agent's environment (a locale, say). */
    static AgentProcess start(String failpoint, Path state, Path socket, LxcSandbox sandbox, java.util.Map<String, String> env)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        if (failpoint != null) {
            command.add("-Dberth.failpoint=" + failpoint);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Berthd.class.getName(),
                "--state-dir", state.toString(), "--lxcpath", sandbox.lxcpath().toString(), "--socket", socket.toString(),
                "--bridge", "none")); // no managed bridge: the host's berthbr0 is not a test's to make
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        AgentProcess agent = new AgentProcess(builder.start(), socket);
        if (agent.awaitLine(l -> l.contains("berthd listening")) == null) {
            agent.kill();
            throw new AssertionError("berthd did not start");
        }
        return agent;
    }

    /** The first line of the agent's output that matches, or null if it ended or a minute passed first. */
    String awaitLine(Predicate<String> wanted) throws Exception {
        var reader = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        try {
            return reader.submit(() -> {
                for (String line; (line = out.readLine()) != null; ) {
                    if (wanted.test(line)) {
                        return line;
                    }
                }
                return null;
            }).get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        } finally {
            reader.shutdownNow();
        }
    }

    /** Waits until the agent holds at failpoint {@code name}. */
    boolean awaitFailpoint(String name) throws Exception {
        return awaitLine(l -> l.equals("FAILPOINT " + name)) != null;
    }

    /** SIGKILL, as a power cut would stop it; the stale socket is removed as the next agent would. */
    void kill() throws Exception {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        Files.deleteIfExists(socket);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            kill();
        }
    }
}
