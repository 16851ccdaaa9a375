package dev.berth.agent.drift;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.DebianImageTest;
import dev.berth.agent.TestAgent;
import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcContainer;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Drift inside a real Debian container with real Puppet (the Debian recipe's {@code puppet}
 * package): the profile's manifest (a file, a package, a service) applied once at launch; a file
 * changed by hand reported with its is/should values and left alone under {@code report}, restored
 * under {@code enforce}; a memory limit changed live reported and reverted; a manifest that does not
 * compile, a missing module and a run that hangs give failed reports while the agent keeps answering.
 */
@RequiresLxc
class PuppetDriftTest {

    private static final String PROFILE = """
            name: managed
            image: debian/12
            limits: {memory: 512MiB, pids: 2048}
            security: {privileged: false, nesting: false}
            puppet:
              policy: %s
              interval: 1h
              timeout: %s
              facts: {role: web}
              data: {motd: "managed by berth"}
              manifest: |
            %s
            """;

    private static final String MANIFEST = """
            file { '/etc/motd': ensure => file, content => "${lookup('motd')} (${facts['role']})\\n", mode => '0644' }
            package { 'puppet': ensure => installed }
            file { '/etc/systemd/system/berth-demo.service':
              content => "[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n",
            }
            ~> service { 'berth-demo': ensure => running, enable => true }
            """;

    private static String profile(String policy, String timeout, String manifest) {
        return PROFILE.formatted(policy, timeout, manifest.indent(4).stripTrailing());
    }

    @Test
    void driftIsReportedLeftOrCorrectedByPolicyAndBadRunsFailCleanly(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox, DebianImageTest.IMAGES)) {
            agent.succeed("POST", "/1.0/images", Map.of("source", Map.of("type", "debootstrap"), "aliases", List.of("debian/12")));
            agent.profile(profile("report", "5m", MANIFEST));
            String name = sandbox.name("pup");
            try {
                agent.launch(name, "managed");
                JsonNode first = drift(agent, name);
                assertThat(first.path("failures")).as(first.toString()).isEmpty();
                assertThat(first.path("policy").asText()).isEqualTo("apply");
                assertThat(agent.exec(name, "cat", "/etc/motd").stdout()).isEqualTo("managed by berth (web)\n");
                assertThat(agent.exec(name, "systemctl", "is-active", "berth-demo").stdout().strip()).isEqualTo("active");
                assertThat(list(agent, name).path("drift").asText()).isEqualTo("in-sync");

                // in sync: nothing to report
                JsonNode clean = check(agent, name, "check");
                assertThat(clean.path("status").asText()).as(clean.toString()).isEqualTo("in-sync");
                assertThat(clean.path("puppetVersion").asText()).startsWith("7.");

                // a file changed by hand: exactly that resource, with its values; report leaves it as found
                agent.exec(name, "sh", "-c", "echo edited > /etc/motd");
                JsonNode found = check(agent, name, "check");
                assertThat(found.path("status").asText()).as(found.toString()).isEqualTo("drifted");
                assertThat(found.path("resources")).hasSize(1);
                JsonNode motd = found.path("resources").get(0);
                assertThat(motd.path("source").asText()).isEqualTo("puppet");
                assertThat(motd.path("resource").asText()).isEqualTo("File[/etc/motd]");
                assertThat(motd.path("property").asText()).isEqualTo("content");
                assertThat(motd.path("is").asText()).startsWith("{sha256}");
                assertThat(motd.path("should").asText()).startsWith("{sha256}").isNotEqualTo(motd.path("is").asText());
                assertThat(motd.path("corrected").asBoolean()).isFalse();
                assertThat(agent.exec(name, "cat", "/etc/motd").stdout()).as("left as found").isEqualTo("edited\n");
                assertThat(list(agent, name).path("drift").asText()).isEqualTo("drifted(1)");
                assertThat(drift(agent, name).path("status").asText()).as("kept for GET").isEqualTo("drifted");

                // a memory limit changed live: envelope drift, reported
                try (LxcContainer container = Lxc.open(name, sandbox.lxcpath())) {
                    container.setCgroupItem("memory.limit_in_bytes", Long.toString(300L << 20));
                }
                JsonNode envelope = check(agent, name, "check");
                assertThat(envelope.path("resources")).extracting(r -> r.path("resource").asText())
                        .containsExactlyInAnyOrder("File[/etc/motd]", "cgroup memory.limit_in_bytes");
                JsonNode memory = find(envelope, "cgroup memory.limit_in_bytes");
                assertThat(memory.path("is").asText()).isEqualTo(Long.toString(300L << 20));
                assertThat(memory.path("should").asText()).isEqualTo(Long.toString(512L << 20));

                // enforce: both put back, and the report says so
                agent.profile(profile("enforce", "5m", MANIFEST));
                JsonNode enforced = check(agent, name, "check");
                assertThat(enforced.path("status").asText()).as(enforced.toString()).isEqualTo("corrected");
                assertThat(enforced.path("resources")).allSatisfy(r -> assertThat(r.path("corrected").asBoolean()).isTrue());
                assertThat(agent.exec(name, "cat", "/etc/motd").stdout()).isEqualTo("managed by berth (web)\n");
                try (LxcContainer container = Lxc.open(name, sandbox.lxcpath())) {
                    assertThat(container.cgroupItem("memory.limit_in_bytes").strip()).isEqualTo(Long.toString(512L << 20));
                }
                assertThat(check(agent, name, "check").path("status").asText()).isEqualTo("in-sync");

                // modules: the profile's module-path is copied into the container and on Puppet's module path
                java.nio.file.Path modules = sandbox.scratch("modules");
                java.nio.file.Files.createDirectories(modules.resolve("berthtest/manifests"));
                java.nio.file.Files.writeString(modules.resolve("berthtest/manifests/init.pp"),
                        "class berthtest { file { '/etc/berth-module': ensure => file, content => \"from a module\\n\" } }\n");
                agent.profile(profile("enforce", "5m", "include berthtest\n").replace("  policy: enforce",
                        "  policy: enforce\n  module-path: " + modules));
                JsonNode fromModule = check(agent, name, "check");
                assertThat(fromModule.path("status").asText()).as(fromModule.toString()).isEqualTo("corrected");
                assertThat(fromModule.path("resources").get(0).path("resource").asText()).isEqualTo("File[/etc/berth-module]");
                assertThat(agent.exec(name, "cat", "/etc/berth-module").stdout()).isEqualTo("from a module\n");

                // bad input: a syntax error, a missing module, a run that hangs; the agent keeps answering
                agent.profile(profile("report", "5m", "file { '/tmp/x': ensure => file,\n"));
                JsonNode syntax = check(agent, name, "check");
                assertThat(syntax.path("status").asText()).isEqualTo("failed");
                assertThat(syntax.path("failures").toString()).containsIgnoringCase("syntax error").contains("site.pp");

                agent.profile(profile("report", "5m", "include nosuchmodule\n"));
                JsonNode missing = check(agent, name, "check");
                assertThat(missing.path("status").asText()).isEqualTo("failed");
                assertThat(missing.path("failures").toString()).contains("nosuchmodule");

                agent.profile(profile("report", "15s", "exec { 'hang': command => '/bin/sleep 600' }\n"));
                long start = System.nanoTime();
                TestAgent.Reply accepted = agent.request("POST", "/1.0/containers/" + name + "/drift", Map.of("action", "reconcile"));
                assertThat(accepted.status()).isEqualTo(202);
                Thread.sleep(3000);
                long pingStart = System.nanoTime();
                assertThat(agent.request("GET", "/1.0", null).status()).isEqualTo(200);
                assertThat((System.nanoTime() - pingStart) / 1_000_000).as("the agent answers while Puppet hangs").isLessThan(2000);
                JsonNode hang = agent.waitFor(accepted.json().path("operation").asText()).path("metadata");
                assertThat(hang.path("status").asText()).as(hang.toString()).isEqualTo("failed");
                assertThat(hang.path("failures").toString()).contains("did not finish within 15 s");
                assertThat((System.nanoTime() - start) / 1_000_000_000).isLessThan(60);
                assertThat(agent.exec(name, "sh", "-c", "pgrep -f 'sleep 600' || echo none").stdout().strip())
                        .as("the hung run is killed with its children").isEqualTo("none");
            } finally {
                agent.request("DELETE", "/1.0/containers/" + name + "?force=true", null);
            }
        }
    }

    private static JsonNode check(TestAgent agent, String name, String action) throws Exception {
        JsonNode op = agent.succeed("POST", "/1.0/containers/" + name + "/drift", Map.of("action", action));
        return op.path("metadata");
    }

    private static JsonNode drift(TestAgent agent, String name) throws Exception {
        TestAgent.Reply reply = agent.request("GET", "/1.0/containers/" + name + "/drift", null);
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        return reply.json();
    }

    private static JsonNode list(TestAgent agent, String name) throws Exception {
        for (JsonNode c : agent.request("GET", "/1.0/containers?recursion=1", null).json()) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no " + name + " in the list");
    }

    private static JsonNode find(JsonNode report, String resource) {
        for (JsonNode r : report.path("resources")) {
            if (r.path("resource").asText().equals(resource)) {
                return r;
            }
        }
        throw new AssertionError("no " + resource + " in " + report);
    }
}
