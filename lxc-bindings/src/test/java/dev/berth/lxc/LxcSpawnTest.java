package dev.berth.lxc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Commands started with {@link LxcContainer#spawn}: streamed stdio, signals, and a pseudo-terminal. */
@RequiresLxc
class LxcSpawnTest {

    @Test
    void streamsInputAndOutputWhileTheCommandRuns(LxcSandbox sandbox) throws Exception {
        try (LxcContainer c = Busybox.started(sandbox, "spawn")) {
            try (LxcProcess p = c.spawn(LxcCommand.of("sh", "-c", "while read l; do echo \"got $l\"; echo \"e $l\" >&2; done; exit 3"),
                    false)) {
                assertThat(p.pid()).isPositive();
                CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.stderr()));
                p.stdin().write("one\n".getBytes(StandardCharsets.UTF_8));
                byte[] first = new byte[8];
                int n = p.stdout().read(first, 0, first.length);
                assertThat(new String(first, 0, n, StandardCharsets.UTF_8)).as("output while the command still runs").startsWith("got one");
                p.stdin().write("two\n".getBytes(StandardCharsets.UTF_8));
                p.closeStdin();
                String rest = readAll(p.stdout());
                assertThat(rest).contains("got two");
                assertThat(p.waitFor()).isEqualTo(3);
                assertThat(err.get()).isEqualTo("e one\ne two\n");
            }
            try (LxcProcess sleeper = c.spawn(LxcCommand.of("sleep", "60"), false)) {
                sleeper.signal(15);
                assertThat(sleeper.waitFor()).isEqualTo(128 + 15);
            }
            c.stop();
        }
    }

    @Test
    void runsAShellOnAPseudoTerminal(LxcSandbox sandbox) throws Exception {
        try (LxcContainer c = Busybox.started(sandbox, "tty")) {
            try (LxcProcess shell = c.spawn(LxcCommand.of("sh").withEnv(Map.of("TERM", "xterm", "PS1", "prompt$ ")), true)) {
                shell.resize(100, 30);
                ByteArrayOutputStream seen = new ByteArrayOutputStream();
                CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                    try {
                        shell.stdout().transferTo(seen);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                shell.stdin().write("stty size; [ -t 0 ] && echo on-a-terminal; echo \"tty=$(tty)\"; exit 5\n".getBytes(StandardCharsets.UTF_8));
                assertThat(shell.waitFor()).isEqualTo(5);
                reader.get();
                String text = seen.toString(StandardCharsets.UTF_8);
                // The size set above, seen by the terminal's own ioctl; the shell's interactive prompt.
                assertThat(text).contains("prompt$ ").contains("30 100").contains("on-a-terminal");
                // the terminal is one of the container's own (its devpts), not the host's
                assertThat(text).containsPattern("tty=/dev/pts/\\d+");
            }
            c.stop();
        }
    }

    @Test
    void spawningInAStoppedContainerSaysSo(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.create(sandbox, "stopped")) {
            assertThatThrownBy(() -> c.spawn(LxcCommand.of("true"), false)).isInstanceOf(LxcException.NotRunning.class);
        }
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
