package dev.berth.agent.net;

import dev.berth.testing.LxcSandbox;
import java.nio.file.Path;

/** Builds src/test/c/udp-echo.c statically (gcc and libc6-dev come with the setup), to push into a container. */
final class UdpEcho {

    private UdpEcho() {
    }

    static Path build(LxcSandbox sandbox) throws Exception {
        Path out = sandbox.scratch("bin").resolve("udp-echo");
        Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-o", out.toString(), "src/test/c/udp-echo.c")
                .redirectErrorStream(true).start();
        String log = new String(gcc.getInputStream().readAllBytes());
        if (gcc.waitFor() != 0) {
            throw new IllegalStateException("cannot build udp-echo: " + log);
        }
        return out;
    }
}
