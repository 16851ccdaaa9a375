package dev.berth.agent.app;

import dev.berth.agent.container.ContainerRecord;
import dev.berth.agent.container.Failpoints;
import dev.berth.agent.container.ContainerFiles;
import dev.berth.agent.container.ContainerSpecs;
import dev.berth.agent.container.NameLocks;
import dev.berth.agent.error.AgentException;
import dev.berth.agent.oci.AppImageStore;
import dev.berth.agent.oci.AppRuntime;
import dev.berth.agent.oci.AppStatus;
import dev.berth.agent.oci.Health;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.image.InitSystem;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.exec.ExecResult;
import dev.berth.agent.exec.Command;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.agent.runtime.State;
import dev.berth.profile.AppSpec;
import dev.berth.profile.ProfileSpec.HealthType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An app's health check, run by the agent: a command inside the app (through crun), or TCP or HTTP
 * from the host to the container's address.
 */
final class HealthCheck {

    private final ContainerRuntime runtime;
    private final ContainerSpecs specs;

    HealthCheck(ContainerRuntime runtime, ContainerSpecs specs) {
        this.runtime = runtime;
        this.specs = specs;
    }

    /** Runs {@code health} against container {@code name}'s app: null when healthy, else what failed. */
    String run(String name, AppSpec.HealthCheck health) {
        int timeoutMs = (int) Math.max(100, health.timeout().toMillis());
        if (health.type() == HealthType.COMMAND) {
            List<String> command = new ArrayList<>(List.of("timeout", "-s", "KILL", Long.toString(Math.max(1, health.timeout().toSeconds()))));
            command.addAll(AppRuntime.execInApp(health.command(), false));
            try (RuntimeContainer container = runtime.open(name)) {
                ExecResult result = container.run(new Command(command, Map.of(), "/", 0, 0, null));
                return result.exitCode() == 0 ? null : "command exited " + result.exitCode() + ": "
                        + (result.stdoutText() + result.stderrText()).strip().lines().reduce((a, b) -> b).orElse("");
            }
        }
        String address = specs.addressOf(name);
        if (address == null) {
            return "the container has no address to check (give its profile a network)";
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, health.port()), timeoutMs);
            if (health.type() == HealthType.TCP) {
                return null;
            }
            socket.setSoTimeout(timeoutMs);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + health.path() + " HTTP/1.0\r\nHost: " + address + ":" + health.port()
                    + "\r\nUser-Agent: berth-health\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != -1 && c != '\n' && line.length() < 200; ) {
                line.append((char) c);
            }
            String[] parts = line.toString().strip().split(" ");
            if (parts.length >= 2 && parts[1].matches("[23][0-9][0-9]")) {
                return null;
            }
            return "GET " + health.path() + " answered " + (line.isEmpty() ? "nothing" : "'" + line.toString().strip() + "'");
        } catch (IOException e) {
            return (health.type() == HealthType.TCP ? "tcp " : "http ") + address + ":" + health.port() + ": " + e.getMessage();
        }
    }
}
