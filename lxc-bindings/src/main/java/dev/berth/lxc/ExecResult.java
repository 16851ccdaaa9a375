package dev.berth.lxc;

import java.nio.charset.StandardCharsets;

/**
 * How a command run inside a container ended.
 *
 * @param exitCode the exit status (0-255), or 128 + the signal number when a signal killed it
 * @param stdout   everything it wrote to standard output
 * @param stderr   everything it wrote to standard error
 */
public record ExecResult(int exitCode, byte[] stdout, byte[] stderr) {

    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }
}
