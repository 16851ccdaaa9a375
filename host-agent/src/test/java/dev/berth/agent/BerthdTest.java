package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;

@RequiresLxc
class BerthdTest {

    @Test
    void twoAgentsRunSideBySideEachOnItsOwnSocketAndStateDir(LxcSandbox sandbox) throws Exception {
        Path a = sandbox.scratch("agent-a");
        Path b = sandbox.scratch("agent-b");
        try (Berthd first = new Berthd(new Berthd.Settings(a, sandbox.lxcpath(), a.resolve("berth.sock"), null)).start();
             Berthd second = new Berthd(new Berthd.Settings(b, b.resolve("containers"), b.resolve("berth.sock"), null)).start()) {
            assertThat(get(a.resolve("berth.sock"), "/1.0")).startsWith("HTTP/1.1 200").contains("\"lxcpath\":\"" + sandbox.lxcpath());
            assertThat(get(b.resolve("berth.sock"), "/1.0")).contains("\"lxcpath\":\"" + b.resolve("containers"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("berth.sock")))).isEqualTo("rw-rw----");
            assertThat(a.resolve("profiles/default.yaml")).exists();
        }
        assertThat(a.resolve("berth.sock")).doesNotExist();
    }

    @Test
    void badCommandLinesGetTheUsage() {
        assertThatThrownBy(() -> Berthd.Settings.parse(new String[] {"--bogus"})).hasMessage("unknown option --bogus");
        assertThatThrownBy(() -> Berthd.Settings.parse(new String[] {"--socket"})).hasMessage("--socket needs a value");
        Berthd.Settings s = Berthd.Settings.parse(new String[] {"--state-dir", "/tmp/x"});
        assertThat(s.lxcpath()).isEqualTo(Path.of("/tmp/x/containers"));
        assertThat(s.socket()).isEqualTo(Path.of("/run/berth/berth.sock"));
    }

    /** A plain HTTP/1.1 GET over the Unix socket, as any client (curl --unix-socket) would send it. */
    private static String get(Path socket, String path) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            while (channel.read(buffer) > 0) {
                // read until the agent closes
            }
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
        }
    }
}
