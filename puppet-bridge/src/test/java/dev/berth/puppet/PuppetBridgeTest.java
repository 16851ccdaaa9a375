package dev.berth.puppet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.profile.ProfileSpec.DriftPolicy;
import dev.berth.profile.PuppetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bridge with real Puppet (Debian's {@code puppet} package) on the host, its state in a
 * temporary directory: drift read from real run reports, reconciliation, facts and data, and the
 * failures a drift report must carry (a syntax error, a missing module, a run that hangs).
 * {@code PuppetDriftTest} in the agent does the same inside real containers.
 */
class PuppetBridgeTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path tmp;

    private PuppetBridge bridge() {
        return new PuppetBridge("puppet", tmp.resolve("bridge").toString(), List.of("--vardir", tmp.resolve("var").toString(),
                "--confdir", tmp.resolve("conf").toString(), "--codedir", tmp.resolve("code").toString()));
    }

    private static PuppetSpec spec(String manifest, Path modules, Map<String, Object> facts, Map<String, Object> data) {
        return new PuppetSpec(manifest, modules, facts, data, DriftPolicy.REPORT, Duration.ofMinutes(30));
    }

    @Test
    void driftIsReadFromTheReportAndEnforcingCorrectsIt() throws Exception {
        Path managed = tmp.resolve("motd");
        PuppetSpec spec = spec("file { '" + managed + "': ensure => file, content => \"${facts['berth_role']} says ${lookup('greeting')}\\n\","
                + " mode => '0640' }\n", null, Map.of("berth_role", "web"), Map.of("greeting", "hello"));
        PuppetBridge bridge = bridge();

        PuppetBridge.Outcome first = bridge.apply(new HostAccess(), spec, false, TIMEOUT);
        assertThat(first.failures()).isEmpty();
        assertThat(Files.readString(managed)).as("facts and data reach the manifest").isEqualTo("web says hello\n");
        assertThat(first.puppetVersion()).startsWith("7.");

        PuppetBridge.Outcome clean = bridge.check(new HostAccess(), spec, false, TIMEOUT);
        assertThat(clean.failures()).isEmpty();
        assertThat(clean.drift()).as("nothing out of sync right after an apply").isEmpty();

        Files.writeString(managed, "edited by hand\n");
        PuppetBridge.Outcome found = bridge.check(new HostAccess(), spec, false, TIMEOUT);
        assertThat(found.failures()).isEmpty();
        assertThat(found.drift()).singleElement().satisfies(d -> {
            assertThat(d.source()).isEqualTo("puppet");
            assertThat(d.resource()).isEqualTo("File[" + managed + "]");
            assertThat(d.property()).isEqualTo("content");
            assertThat(d.is()).startsWith("{sha256}").isNotEqualTo(d.should());
            assertThat(d.should()).startsWith("{sha256}");
            assertThat(d.corrected()).isFalse();
            assertThat(d.line()).isEqualTo(1);
        });
        assertThat(Files.readString(managed)).as("report only: left as found").isEqualTo("edited by hand\n");

        PuppetBridge.Outcome enforced = bridge.check(new HostAccess(), spec, true, TIMEOUT);
        assertThat(enforced.failures()).isEmpty();
        assertThat(enforced.drift()).singleElement().satisfies(d -> assertThat(d.corrected()).isTrue());
        assertThat(Files.readString(managed)).isEqualTo("web says hello\n");
    }

    @Test
    void aSyntaxErrorAMissingModuleAndAHangAreFailuresThatSayWhat() throws Exception {
        PuppetBridge bridge = bridge();
        PuppetBridge.Outcome syntax = bridge.check(new HostAccess(), spec("file { '/tmp/x': ensure => file,\n", null, Map.of(), Map.of()),
                false, TIMEOUT);
        assertThat(syntax.drift()).isEmpty();
        assertThat(syntax.failures()).isNotEmpty();
        assertThat(String.join("\n", syntax.failures())).containsIgnoringCase("syntax error").contains("site.pp");

        Path modules = Files.createDirectories(tmp.resolve("modules"));
        PuppetBridge.Outcome missing = bridge.check(new HostAccess(), spec("include nosuchmodule\n", modules, Map.of(), Map.of()),
                false, TIMEOUT);
        assertThat(String.join("\n", missing.failures())).contains("nosuchmodule");

        PuppetBridge.Outcome hang = bridge.check(new HostAccess(), spec("exec { 'hang': command => '/bin/sleep 600' }\n", null,
                Map.of(), Map.of()), true, Duration.ofSeconds(20));
        // a noop run only reports the exec; enforcing it runs it, and the time limit kills the run
        assertThat(hang.failures()).singleElement().asString().contains("did not finish within 20 s", "puppet.timeout");
    }
}
