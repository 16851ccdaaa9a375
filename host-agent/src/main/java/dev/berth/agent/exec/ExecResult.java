package dev.berth.agent.exec;

import java.nio.charset.StandardCharsets;

/** How a command run inside a container ended, with what it wrote. */
public record ExecResult(int exitCode, byte[] stdout, byte[] stderr) {

    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }
}
