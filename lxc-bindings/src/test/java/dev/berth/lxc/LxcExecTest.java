package dev.berth.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

@RequiresLxc
class LxcExecTest {

    @Test
    void passesExitCodesThroughAndKeepsStderrApartFromStdout(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "exec")) {
            ExecResult result = c.run(LxcCommand.of("sh", "-c", "echo out; echo err >&2; exit 7"));
            assertThat(result.exitCode()).isEqualTo(7);
            assertThat(result.stdoutText()).isEqualTo("out\n");
            assertThat(result.stderrText()).isEqualTo("err\n");

            assertThat(c.run(LxcCommand.of("false")).exitCode()).isEqualTo(1);
            assertThat(c.run(LxcCommand.of("sh", "-c", "kill -9 $$")).exitCode()).isEqualTo(128 + 9);
            c.stop();
        }
    }

    @Test
    void runsWithTheGivenEnvironmentDirectoryUserAndInput(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "env")) {
            ExecResult env = c.run(LxcCommand.of("sh", "-c", "echo $GREETING; pwd; id -u; cat")
                    .withEnv(Map.of("GREETING", "hello"))
                    .withCwd("/tmp")
                    .withUser(1000, 1000)
                    .withStdin("from stdin".getBytes(StandardCharsets.UTF_8)));
            assertThat(env.exitCode()).isZero();
            assertThat(env.stdoutText()).isEqualTo("hello\n/tmp\n1000\nfrom stdin");
            // The JVM's own environment does not leak into the container.
            assertThat(c.run(LxcCommand.of("env")).stdoutText()).doesNotContain("JAVA_HOME");
            c.stop();
        }
    }

    @Test
    void streamsLargeOutputWithoutHoldingIt(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "big")) {
            AtomicLong bytes = new AtomicLong();
            OutputStream counter = new OutputStream() {
                @Override
                public void write(int b) {
                    bytes.incrementAndGet();
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    bytes.addAndGet(len);
                }
            };
            int exit = c.run(LxcCommand.of("sh", "-c", "head -c 20971520 /dev/zero"), counter, OutputStream.nullOutputStream());
            assertThat(exit).isZero();
            assertThat(bytes.get()).isEqualTo(20L << 20);
            c.stop();
        }
    }

    @Test
    void anUnknownProgramFailsWithANonZeroExitCode(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "nocmd")) {
            ExecResult result = c.run(LxcCommand.of("/no/such/program"));
            assertThat(result.exitCode()).isNotZero();
            c.stop();
        }
    }
}
