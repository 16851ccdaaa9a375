package dev.berth.agent.files;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.agent.TestAgent;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code /1.0/containers/{name}/files} against a real container: files and directory trees both
 * ways with their modes and owners, and every way out of the container's root refused.
 */
@RequiresLxc
class FilesApiTest {

    private static String profile(boolean privileged) {
        return "name: plain\nimage: busybox\nsecurity: {privileged: " + privileged + ", nesting: false}\n";
    }

    /** Privileged, and unprivileged (owners as the container sees them, shifted by its range on the host). */
    @org.junit.jupiter.params.ParameterizedTest(name = "privileged: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void filesAndDirectoryTreesRoundTripWithModesAndOwners(boolean privileged, LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            String name = launch(agent, sandbox, privileged);
            byte[] content = "hello from the host\n".getBytes(StandardCharsets.UTF_8);
            TestAgent.Reply pushed = agent.raw("POST", files(name, "/root/hello.txt"),
                    Map.of("X-Berth-Mode", "0640", "X-Berth-Uid", "1000", "X-Berth-Gid", "1001"), content);
            assertThat(pushed.status()).as(pushed.text()).isEqualTo(200);
            assertThat(agent.exec(name, "stat", "-c", "%a %u %g", "/root/hello.txt").stdout()).isEqualTo("640 1000 1001\n");
            TestAgent.Reply pulled = agent.request("GET", files(name, "/root/hello.txt"), null);
            assertThat(pulled.status()).isEqualTo(200);
            assertThat(pulled.body()).isEqualTo(content);
            assertThat(pulled.headers()).containsEntry("X-Berth-Type", "file").containsEntry("X-Berth-Mode", "0640")
                    .containsEntry("X-Berth-Uid", "1000").containsEntry("X-Berth-Gid", "1001");

            // A tree, made and packed on the host with the system's tar.
            Path tree = sandbox.scratch("tree");
            Files.writeString(tree.resolve("a.txt"), "a\n");
            Files.setPosixFilePermissions(tree.resolve("a.txt"), PosixFilePermissions.fromString("rw-------"));
            Files.createDirectories(tree.resolve("sub/deeper"));
            Files.writeString(tree.resolve("sub/run.sh"), "#!/bin/sh\necho ran\n");
            Files.setPosixFilePermissions(tree.resolve("sub/run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
            Files.write(tree.resolve("sub/deeper/big.bin"), new byte[3 << 20]);
            Files.createSymbolicLink(tree.resolve("link"), Path.of("a.txt"));
            byte[] archive = run("tar", "-C", tree.toString(), "-cf", "-", ".");
            TestAgent.Reply tarPushed = agent.raw("POST", files(name, "/srv/tree"), Map.of("X-Berth-Type", "directory"), archive);
            assertThat(tarPushed.status()).as(tarPushed.text()).isEqualTo(200);
            assertThat(agent.exec(name, "sh", "-c", "cd /srv/tree && stat -c '%n %a' a.txt sub/run.sh && readlink link && sub/run.sh"
                    + " && wc -c < sub/deeper/big.bin").stdout()).isEqualTo("a.txt 600\nsub/run.sh 750\na.txt\nran\n" + (3 << 20) + "\n");

            TestAgent.Reply tarPulled = agent.request("GET", files(name, "/srv/tree"), null);
            assertThat(tarPulled.headers()).containsEntry("X-Berth-Type", "directory");
            Path back = sandbox.scratch("back");
            runWithInput(tarPulled.body(), "tar", "-C", back.toString(), "-xf", "-");
            assertThat(Files.readString(back.resolve("a.txt"))).isEqualTo("a\n");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(back.resolve("sub/run.sh")))).isEqualTo("rwxr-x---");
            assertThat(Files.readSymbolicLink(back.resolve("link"))).isEqualTo(Path.of("a.txt"));
            assertThat(Files.size(back.resolve("sub/deeper/big.bin"))).isEqualTo(3 << 20);
        }
    }

    @Test
    void pathsLeavingTheContainersRootAreRefused(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            String name = launch(agent, sandbox, true);
            Path marker = Files.createTempFile("berth-host-secret", ".txt");
            try {
                Files.writeString(marker, "host only");
                assertThat(agent.exec(name, "sh", "-c", "ln -s / /tmp/hostroot && ln -s ../../../../../../../.. /tmp/up").exitCode())
                        .isZero();

                for (String path : new String[] {"/../../.." + marker, "/tmp/../.." + marker, "/tmp/hostroot" + marker,
                        "/tmp/up" + marker}) {
                    TestAgent.Reply read = agent.request("GET", files(name, path), null);
                    assertThat(read.status()).as("GET " + path + ": " + read.text()).isEqualTo(403);
                    assertThat(read.text()).doesNotContain("host only").contains("refused");
                    TestAgent.Reply write = agent.raw("POST", files(name, path), Map.of(), "overwritten".getBytes(StandardCharsets.UTF_8));
                    assertThat(write.status()).as("POST " + path + ": " + write.text()).isEqualTo(403);
                }
                assertThat(Files.readString(marker)).isEqualTo("host only");

                // An archive naming its way out, or making a symlink out and writing through it.
                assertThat(pushTar(agent, name, "/srv/x", new Tar.Entry("../../escaped", Tar.Type.FILE, 0644, 0, 0, 3, 0, null)).status())
                        .isEqualTo(403);
                String outside = marker.getParent().resolve("berth-escaped-" + System.nanoTime()).toString();
                TestAgent.Reply sneaky = pushTar(agent, name, "/srv/y",
                        new Tar.Entry("out", Tar.Type.SYMLINK, 0777, 0, 0, 0, 0, "/"),
                        new Tar.Entry("out" + outside, Tar.Type.FILE, 0644, 0, 0, 3, 0, null));
                assertThat(sneaky.status()).as(sneaky.text()).isEqualTo(403);
                assertThat(Path.of(outside)).doesNotExist();
                assertThat(agent.request("GET", files(name, "/no/such/file"), null).status()).isEqualTo(404);
            } finally {
                Files.deleteIfExists(marker);
            }
        }
    }

    private static TestAgent.Reply pushTar(TestAgent agent, String name, String path, Tar.Entry... entries) throws Exception {
        ByteArrayOutputStream archive = new ByteArrayOutputStream();
        Tar.Writer tar = new Tar.Writer(archive);
        for (Tar.Entry e : entries) {
            tar.add(e, new ByteArrayInputStream("abc".getBytes(StandardCharsets.US_ASCII)));
        }
        tar.finish();
        return agent.raw("POST", files(name, path), Map.of("X-Berth-Type", "directory"), archive.toByteArray());
    }

    private static String files(String name, String path) {
        return "/1.0/containers/" + name + "/files?path=" + java.net.URLEncoder.encode(path, StandardCharsets.UTF_8);
    }

    private static String launch(TestAgent agent, LxcSandbox sandbox, boolean privileged) throws Exception {
        agent.profile(profile(privileged));
        String name = sandbox.name("files");
        agent.launch(name, "plain");
        return name;
    }

    private static byte[] run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        return out;
    }

    private static void runWithInput(byte[] input, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(input);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
    }
}
