package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * An image import killed while its tar runs leaves nothing after the next start: no upload, no
 * half-built image, no tar still writing. A body over the upload limit is refused while it streams.
 */
@RequiresLxc
class ImportCrashTest {

    @Test
    void aKilledImportLeavesNoScratchAndNoWriterBehind(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        Path socket = state.resolve("berth.sock");
        Path images = state.resolve("images");
        // A rootfs of a big file of zeros: a small archive whose extraction takes a while.
        Path rootfs = sandbox.scratch("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Path archive = sandbox.scratch("archive").resolve("big.tar.gz");
        run("sh", "-c", "head -c 800M /dev/zero > " + rootfs.resolve("zeros") + " && tar -C " + rootfs + " -czf " + archive + " .");
        Files.delete(rootfs.resolve("zeros"));

        try (AgentProcess agent = AgentProcess.start(null, state, socket, sandbox)) {
            Thread.ofVirtual().start(() -> {
                try {
                    UnixHttp.upload(socket, "/1.0/images", archive);
                } catch (Exception e) {
                    // the agent is killed under it
                }
            });
            // Kill while tar is writing into the build directory.
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (tarWritingInto(images).isEmpty() && Instant.now().isBefore(deadline)) {
                Thread.sleep(20);
            }
            assertThat(tarWritingInto(images)).as("tar extracting the upload").isNotEmpty();
            agent.kill();
        }
        assertThat(scratch(images)).as("left by the kill").isNotEmpty();
        try (Berthd restarted = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            assertThat(scratch(images)).as("scratch after the restart").isEmpty();
            assertThat(tarWritingInto(images)).as("an orphaned tar still writing").isEmpty();
        }
    }

    @Test
    void aBodyOverTheLimitIsRefusedWhileItStreams(LxcSandbox sandbox) throws Exception {
        System.setProperty("berth.upload.max", Long.toString(1 << 20));
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            Path images = sandbox.scratch("images");
            // chunked, so that no Content-Length announces the size; the agent answers and closes mid-body
            String reply = chunkedUpload(agent.socket(), new byte[3 << 20]);
            assertThat(reply).startsWith("HTTP/1.1 413").contains("larger than 1048576 bytes");
            assertThat(scratch(images)).isEmpty();
        } finally {
            System.clearProperty("berth.upload.max");
        }
    }

    private static String chunkedUpload(Path socket, byte[] body) throws Exception {
        try (var channel = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            channel.connect(java.net.UnixDomainSocketAddress.of(socket));
            String head = "POST /1.0/images HTTP/1.1\r\nHost: berth\r\nContent-Type: application/octet-stream\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n";
            try {
                channel.write(java.nio.ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
                java.nio.ByteBuffer all = java.nio.ByteBuffer.wrap(chunked(body));
                while (all.hasRemaining()) {
                    channel.write(all);
                }
            } catch (java.io.IOException e) {
                // the agent refused the body and closed its side: its answer is still to be read
            }
            return new String(java.nio.channels.Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static byte[] chunked(byte[] body) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int at = 0; at < body.length; at += 65536) {
            int n = Math.min(65536, body.length - at);
            out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, at, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static List<Path> scratch(Path images) throws Exception {
        if (!Files.isDirectory(images)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(images)) {
            return entries.filter(p -> p.getFileName().toString().matches("\\.(upload|build|staging)-.*")).toList();
        }
    }

    private static List<Long> tarWritingInto(Path images) throws Exception {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    return cmdline.startsWith("tar\0") && cmdline.contains(images.toString());
                } catch (Exception e) {
                    return false;
                }
            }).map(p -> Long.parseLong(p.getFileName().toString())).toList();
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).inheritIO().start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }
}
