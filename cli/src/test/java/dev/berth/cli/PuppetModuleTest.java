package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.Berthd;
import dev.berth.cli.client.AgentClient;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The host side of the Puppet bridge: real {@code puppet apply} (Debian's Puppet 7) of the shipped
 * example manifest ({@code examples/puppet/site.pp}) with the berth module
 * ({@code puppet-bridge/puppet/berth}), whose providers drive a real agent through the berth CLI.
 * The first apply makes the image, the profile and the containers; the second changes nothing; a
 * container declared absent is deleted; {@code puppet resource berth_container} lists them.
 */
@RequiresLxc
class PuppetModuleTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path MODULES = ROOT.resolve("puppet-bridge/puppet");
    private static final Path EXAMPLE = ROOT.resolve("examples/puppet/site.pp");

    record Run(int code, String out) {
    }

    @Test
    void theExampleManifestMakesTheContainersIdempotentlyAndRemovesOneDeclaredAbsent(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        Path socket = state.resolve("berth.sock");
        Path work = sandbox.scratch("puppet");
        String prefix = sandbox.name("p");
        String edge1 = prefix + "-edge1";
        String edge2 = prefix + "-edge2";
        String spare = prefix + "-spare";
        try (Berthd agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start()) {
            Path cli = work.resolve("berth");
            Files.writeString(cli, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java") + "' -XX:TieredStopAtLevel=1"
                    + " -cp '" + System.getProperty("java.class.path") + "' dev.berth.cli.Berth \"$@\"\n");
            Files.setPosixFilePermissions(cli, PosixFilePermissions.fromString("rwxr-xr-x"));
            Map<String, String> env = Map.of("BERTH_CLI", cli.toString(), "BERTH_SOCKET", socket.toString(), "FACTER_berth_prefix", prefix);
            AgentClient client = new AgentClient(socket);
            try {
                Run first = puppet(env, work, "apply", EXAMPLE.toString());
                assertThat(first.code()).as(first.out()).isEqualTo(2); // --detailed-exitcodes: changes, no failures
                assertThat(first.out()).contains("Berth_profile[edge]/ensure: created",
                        "Berth_container[" + edge1 + "]/ensure: defined 'ensure' as 'running'",
                        "Berth_container[" + spare + "]/ensure: defined 'ensure' as 'stopped'");
                assertThat(status(client, edge1).path("status").asText()).isEqualTo("RUNNING");
                assertThat(status(client, edge2).path("status").asText()).isEqualTo("RUNNING");
                assertThat(status(client, spare).path("status").asText()).isEqualTo("STOPPED");
                assertThat(status(client, edge1).path("config").path("limits").path("memory").asText()).isEqualTo("128MiB");
                assertThat(client.get("/1.0/profiles/edge").body().path("content").asText()).contains("managed by Puppet");

                Run second = puppet(env, work, "apply", EXAMPLE.toString());
                assertThat(second.code()).as("a second apply changes nothing:\n" + second.out()).isZero();

                // drift on the host side: a container's settings changed through berth are put back
                assertThat(client.run("PATCH", "/1.0/containers/" + edge1, Map.of("config", Map.of("limits.memory", "200MiB")),
                        java.time.Duration.ofMinutes(1)).path("status").asText()).isEqualTo("success");
                Run back = puppet(env, work, "apply", EXAMPLE.toString());
                assertThat(back.code()).as(back.out()).isEqualTo(2);
                assertThat(back.out()).contains("Berth_container[" + edge1 + "]/config");
                assertThat(status(client, edge1).path("config").path("limits").path("memory").asText()).isEqualTo("128MiB");

                Path absent = work.resolve("site.pp");
                String manifest = Files.readString(EXAMPLE);
                assertThat(manifest).contains("\"${prefix}spare\":\n  ensure   => stopped,");
                Files.writeString(absent, manifest.replace("\"${prefix}spare\":\n  ensure   => stopped,", "\"${prefix}spare\":\n  ensure   => absent,"));
                Run removed = puppet(env, work, "apply", absent.toString());
                assertThat(removed.code()).as(removed.out()).isEqualTo(2);
                assertThat(removed.out()).contains("Berth_container[" + spare + "]/ensure: undefined 'ensure' from 'stopped'");
                assertThat(client.get("/1.0/containers/" + spare).status()).isEqualTo(404);

                // berth_image from a root filesystem tarball: imported once, then left alone
                Path rootfs = Files.createDirectories(work.resolve("rootfs/bin"));
                Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
                Files.createSymbolicLink(rootfs.resolve("sh"), Path.of("busybox"));
                Path tarball = work.resolve("mini.tar.gz");
                assertThat(new ProcessBuilder("tar", "-C", work.resolve("rootfs").toString(), "-czf", tarball.toString(), ".")
                        .inheritIO().start().waitFor()).isZero();
                Path images = work.resolve("images.pp");
                Files.writeString(images, "berth_image { 'mini': source => '" + tarball + "' }\n");
                Run imported = puppet(env, work, "apply", images.toString());
                assertThat(imported.code()).as(imported.out()).isEqualTo(2);
                assertThat(imported.out()).contains("Berth_image[mini]/ensure: created");
                assertThat(client.get("/1.0/images/aliases").body().toString()).contains("\"mini\"");
                Run again = puppet(env, work, "apply", images.toString());
                assertThat(again.code()).as(again.out()).isZero();

                Run listed = puppet(env, work, "resource", "berth_container");
                assertThat(listed.code()).as(listed.out()).isZero();
                assertThat(listed.out()).contains("berth_container { '" + edge1 + "':", "berth_container { '" + edge2 + "':")
                        .contains("ensure   => 'running'").doesNotContain(spare);
            } finally {
                for (String name : List.of(edge1, edge2, spare)) {
                    client.call("DELETE", "/1.0/containers/" + name + "?force=true", null);
                }
                for (int i = 0; i < 100 && !client.get("/1.0/containers").body().isEmpty(); i++) {
                    Thread.sleep(50);
                }
            }
        }
    }

    private static JsonNode status(AgentClient client, String name) {
        AgentClient.Response response = client.get("/1.0/containers/" + name);
        assertThat(response.status()).as(name + ": " + response.body()).isEqualTo(200);
        return response.body();
    }

    /** puppet with its state under {@code work} (the host's own Puppet is not touched), the module on its path. */
    private static Run puppet(Map<String, String> env, Path work, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("puppet"));
        command.addAll(List.of(args));
        if (args[0].equals("apply")) {
            command.add("--detailed-exitcodes");
        }
        command.addAll(List.of("--color", "false", "--modulepath", MODULES.toString(), "--vardir", work.resolve("var").toString(),
                "--confdir", work.resolve("conf").toString(), "--codedir", work.resolve("code").toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
        return new Run(process.exitValue(), out);
    }
}
