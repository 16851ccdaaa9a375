package dev.berth.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import org.junit.jupiter.api.Test;

@RequiresLxc
class ForkServerTest {

    @Test
    void aKilledForkServerIsReplacedOnTheNextCall(LxcSandbox sandbox) throws Exception {
        try (LxcContainer c = Busybox.started(sandbox, "fsrv")) {
            ProcessHandle server = ProcessHandle.current().children()
                    .filter(p -> p.info().command().orElse("").endsWith("berth-forkd")).findFirst().orElseThrow();
            server.destroyForcibly();
            server.onExit().get();
            assertThat(c.run(LxcCommand.of("echo", "still here")).stdoutText()).isEqualTo("still here\n");
            assertThat(ProcessHandle.current().children()
                    .filter(p -> p.info().command().orElse("").endsWith("berth-forkd")).count()).isEqualTo(1);
            c.stop();
        }
    }
}
