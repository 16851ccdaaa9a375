package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;

@RequiresLxc
class BerthdTest {

    @Test
    void twoAgentsRunSideBySideEachOnItsOwnSocketAndStateDir(LxcSandbox sandbox) throws Exception {
        Path a = sandbox.scratch("agent-a");
        Path b = sandbox.scratch("agent-b");
        try (Berthd first = new Berthd(Berthd.Settings.at(a, sandbox.lxcpath(), a.resolve("berth.sock"))).start();
             Berthd second = new Berthd(Berthd.Settings.at(b, b.resolve("containers"), b.resolve("berth.sock"))).start()) {
            assertThat(UnixHttp.request(a.resolve("berth.sock"), "GET", "/1.0", null)).startsWith("HTTP/1.1 200").contains("\"lxcpath\":\"" + sandbox.lxcpath());
            assertThat(UnixHttp.request(b.resolve("berth.sock"), "GET", "/1.0", null)).contains("\"lxcpath\":\"" + b.resolve("containers"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("berth.sock")))).isEqualTo("rw-rw----");
            assertThat(a.resolve("profiles/default.yaml")).exists();
        }
        assertThat(a.resolve("berth.sock")).doesNotExist();
    }

    @Test
    void containersWithAutostartAreStartedWhenTheAgentStarts(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        Files.createDirectories(state.resolve("profiles"));
        Files.writeString(state.resolve("profiles/boot.yaml"),
                "name: boot\nimage: busybox\nautostart: true\nsecurity: {privileged: true, nesting: false}\n");
        Path socket = state.resolve("berth.sock");
        String auto = sandbox.name("auto");
        String manual = sandbox.name("manual");
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            for (String[] c : new String[][] {{auto, "boot"}, {manual, "default"}}) {
                assertThat(UnixHttp.awaitOperation(socket, "POST", "/1.0/containers",
                        "{\"name\":\"" + c[0] + "\",\"profiles\":[\"" + c[1] + "\"]}")).contains("\"status\":\"success\"");
            }
        }
        // The host "reboots": everything stops, then the agent starts again.
        for (String name : java.util.List.of(auto, manual)) {
            try (dev.berth.lxc.LxcContainer c = dev.berth.lxc.Lxc.open(name, sandbox.lxcpath())) {
                c.stop();
            }
        }
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            try (dev.berth.lxc.LxcContainer c = dev.berth.lxc.Lxc.open(auto, sandbox.lxcpath())) {
                assertThat(c.isRunning()).as("autostart: true").isTrue();
            }
            try (dev.berth.lxc.LxcContainer c = dev.berth.lxc.Lxc.open(manual, sandbox.lxcpath())) {
                assertThat(c.isRunning()).as("no autostart").isFalse();
            }
        }
    }

    @Test
    void badCommandLinesGetTheUsage() {
        assertThatThrownBy(() -> Berthd.Settings.parse(new String[] {"--bogus"})).hasMessage("unknown option --bogus");
        assertThatThrownBy(() -> Berthd.Settings.parse(new String[] {"--socket"})).hasMessage("--socket needs a value");
        Berthd.Settings s = Berthd.Settings.parse(new String[] {"--state-dir", "/tmp/x"});
        assertThat(s.lxcpath()).isEqualTo(Path.of("/tmp/x/containers"));
        assertThat(s.socket()).isEqualTo(Path.of("/run/berth/berth.sock"));
        // the TCP API has no TLS and no authentication: loopback only
        assertThat(Berthd.Settings.parse(new String[] {"--listen", "127.0.0.1:8443"}).listen()).isEqualTo("127.0.0.1:8443");
        assertThat(Berthd.Settings.parse(new String[] {"--listen", "[::1]:8443"}).listen()).isEqualTo("[::1]:8443");
        assertThatThrownBy(() -> Berthd.Settings.parse(new String[] {"--listen", "0.0.0.0:8443"}))
                .hasMessageContaining("not a loopback address").hasMessageContaining("berth --remote");
        assertThatThrownBy(() -> Berthd.Settings.parse(new String[] {"--listen", "8443"})).hasMessageContaining("HOST:PORT");
    }

    @Test
    void theConfigFileSetsWhatTheFlagsDoNot(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path config = dir.resolve("berthd.yaml");
        java.nio.file.Files.writeString(config, """
                state-dir: /srv/berth
                socket: /srv/berth/api.sock
                log-level: debug
                images: /srv/images
                host-paths: [/srv/shared]
                """);
        Berthd.Settings s = Berthd.Settings.parse(new String[] {"--config", config.toString(), "--socket", "/tmp/flag.sock"});
        assertThat(s.stateDir()).isEqualTo(Path.of("/srv/berth"));
        assertThat(s.lxcpath()).isEqualTo(Path.of("/srv/berth/containers"));
        assertThat(s.socket()).as("the flag wins").isEqualTo(Path.of("/tmp/flag.sock"));
        assertThat(s.logLevel()).isEqualTo(dev.berth.agent.ops.AgentLog.Level.DEBUG);
        assertThat(s.imagesDir()).isEqualTo(Path.of("/srv/images"));
        assertThat(s.hostPathAllowList()).containsExactly(Path.of("/srv/shared"));

        java.nio.file.Files.writeString(config, "state-dir: /srv/berth\nlog-levle: debug\n");
        assertThatThrownBy(() -> Berthd.Settings.parse(new String[] {"--config", config.toString()}))
                .isInstanceOf(dev.berth.profile.ProfileException.class)
                .hasMessageContaining("berthd.yaml:2:1").hasMessageContaining("log-level");
        assertThatThrownBy(() -> Berthd.Settings.parse(new String[] {"--log-level", "loud"}))
                .hasMessageContaining("error, warn, info or debug");
    }

    /** Under a POSIX locale, as a service often runs, the log is still UTF-8 ("Creating container x…", not "x?"). */
    @Test
    void theLogIsUtf8WhateverTheLocale(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state-utf8");
        Path socket = state.resolve("berth.sock");
        String name = sandbox.name("utf8");
        try (AgentProcess agent = AgentProcess.start(null, state, socket, sandbox, Map.of("LC_ALL", "POSIX", "LANG", "C"))) {
            UnixHttp.awaitOperation(socket, "POST", "/1.0/containers", "{\"name\":\"" + name + "\"}");
            assertThat(agent.awaitLine(l -> l.contains("Creating container " + name))).endsWith("Creating container " + name + "\u2026");
            UnixHttp.awaitOperation(socket, "DELETE", "/1.0/containers/" + name + "?force=true", null);
        }
    }

    /** A start that fails half-way stops what it started and lets go of the state dir: the next start works. */
    @Test
    void aStartThatFailsHalfWayUndoesItself(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state-half");
        Berthd.Settings good = Berthd.Settings.at(state, sandbox.lxcpath(), state.resolve("berth.sock"));
        Berthd.Settings bad = good.withNetwork(sandbox.name("nobr").substring(0, 6) + "x", "300.1.2.3/24");
        long threadsBefore = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("vert.x")).count();
        assertThatThrownBy(() -> new Berthd(bad).start()).isNotNull();
        Thread.sleep(200);
        long threadsAfter = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("vert.x") && t.isAlive()).count();
        assertThat(threadsAfter).as("the half-started agent's event loops").isLessThanOrEqualTo(threadsBefore);
        assertThat(state.resolve("berth.sock")).doesNotExist();
        try (Berthd agent = new Berthd(good).start()) {
            assertThat(UnixHttp.request(state.resolve("berth.sock"), "GET", "/1.0", null)).contains("liblxc");
        }
    }
}
