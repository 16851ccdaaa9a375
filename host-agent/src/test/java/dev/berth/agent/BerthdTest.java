package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
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
            assertThat(UnixHttp.request(a.resolve("berth.sock"), "GET", "/1.0", null)).startsWith("HTTP/1.1 200").contains("\"lxcpath\":\"" + sandbox.lxcpath());
            assertThat(UnixHttp.request(b.resolve("berth.sock"), "GET", "/1.0", null)).contains("\"lxcpath\":\"" + b.resolve("containers"));
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
}
