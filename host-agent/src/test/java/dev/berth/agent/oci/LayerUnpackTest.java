package dev.berth.agent.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.agent.files.ContainerRoot;
import dev.berth.testing.OciImageFixture;
import dev.berth.testing.OciImageFixture.Image;
import dev.berth.testing.OciImageFixture.Layer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An image's layers applied in order to a directory: whiteouts, opaque directories, owners, modes, links. */
class LayerUnpackTest {

    @TempDir
    Path dir;

    @Test
    void layersApplyAsOciSaysAndTheResultRuns() throws Exception {
        Image base = OciImageFixture.busyboxHttpd("web", "1", "one", 8080);
        List<Layer> layers = new ArrayList<>(base.layers());
        layers.add(new Layer().dir("srv", 0755).file("srv/keep", "k", 0640, 33, 33).file("srv/gone", "g", 0644)
                .dir("srv/old", 0755).file("srv/old/a", "a", 0644).file("srv/old/b", "b", 0644)
                .dir("srv/becomes-file", 0755).file("srv/becomes-file/x", "x", 0644)
                .file("srv/becomes-dir", "f", 0644).file("srv/suid", "s", 04755)
                .symlink("srv/link", "/www/index.html").hardlink("srv/hard", "srv/keep"));
        layers.add(new Layer().whiteout("srv/gone").opaque("srv/old").file("srv/old/c", "c", 0644)
                .file("srv/becomes-file", "now a file", 0600)
                .dir("srv/becomes-dir", 0700).file("srv/becomes-dir/y", "y", 0644));
        Path archive = dir.resolve("image.tar");
        OciImageFixture.writeOciArchive(OciImageFixture.withLayers(base, layers), archive);
        AppImageStore store = new AppImageStore(dir.resolve("store"));
        AppImageStore.AppImage image = store.importArchive(archive, null, "image.tar");

        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        try (ContainerRoot root = ContainerRoot.of("test", bundle, 0)) {
            store.unpack(image, root, "/rootfs");
        }
        Path rootfs = bundle.resolve("rootfs");
        assertThat(rootfs.resolve("www/index.html")).hasContent("one");
        assertThat(Files.readSymbolicLink(rootfs.resolve("bin/sh")).toString()).isEqualTo("busybox");
        assertThat(Files.getAttribute(rootfs.resolve("tmp"), "unix:mode")).isEqualTo(041777);
        assertThat(Files.getAttribute(rootfs.resolve("srv/suid"), "unix:mode")).isEqualTo(0104755);
        assertThat(Files.getAttribute(rootfs.resolve("srv/keep"), "unix:uid")).isEqualTo(33);
        assertThat(Files.getAttribute(rootfs.resolve("srv/keep"), "unix:mode")).isEqualTo(0100640);
        assertThat(Files.getAttribute(rootfs.resolve("srv/hard"), "unix:ino")).isEqualTo(Files.getAttribute(rootfs.resolve("srv/keep"), "unix:ino"));
        assertThat(Files.readSymbolicLink(rootfs.resolve("srv/link")).toString()).isEqualTo("/www/index.html");
        assertThat(rootfs.resolve("srv/gone")).doesNotExist();
        try (var old = Files.list(rootfs.resolve("srv/old"))) {
            assertThat(old.map(p -> p.getFileName().toString())).containsExactly("c");
        }
        assertThat(rootfs.resolve("srv/becomes-file")).isRegularFile().hasContent("now a file");
        assertThat(rootfs.resolve("srv/becomes-dir/y")).hasContent("y");
        try (var walk = Files.walk(rootfs)) {
            assertThat(walk.filter(p -> p.getFileName().toString().startsWith(".wh."))).as("no whiteout is left").isEmpty();
        }

        // the unpacked root file system is usable: its busybox runs in it
        Process inside = new ProcessBuilder("chroot", rootfs.toString(), "/bin/busybox", "sh", "-c",
                "/bin/busybox cat /www/index.html; /bin/busybox cat /srv/link; echo $((6 * 7))").redirectErrorStream(true).start();
        String output = new String(inside.getInputStream().readAllBytes());
        assertThat(inside.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(output).isEqualTo("one\none\n42\n");
    }

    @Test
    void uncompressedLayersFromADockerArchiveUnpackToo() throws Exception {
        Path archive = dir.resolve("docker.tar");
        OciImageFixture.writeDockerArchive(OciImageFixture.busyboxHttpd("web", "2", "two", 8080), archive);
        AppImageStore store = new AppImageStore(dir.resolve("store"));
        AppImageStore.AppImage image = store.importArchive(archive, null, "docker.tar");
        assertThat(image.layers()).allSatisfy(l -> assertThat(l.mediaType()).isEqualTo(AppImageStore.LAYER_TAR));
        try (ContainerRoot root = ContainerRoot.of("test", Files.createDirectories(dir.resolve("bundle")), 0)) {
            store.unpack(image, root, "/rootfs");
        }
        assertThat(dir.resolve("bundle/rootfs/www/index.html")).hasContent("two");
    }

    @Test
    void aBlobDamagedInTheStoreFailsTheUnpacking() throws Exception {
        Path archive = dir.resolve("image.tar");
        OciImageFixture.writeOciArchive(OciImageFixture.busyboxHttpd("web", "1", "one", 8080), archive);
        AppImageStore store = new AppImageStore(dir.resolve("store"));
        AppImageStore.AppImage image = store.importArchive(archive, null, "image.tar");
        Path blob = store.blob(image.layers().getLast().digest());
        byte[] bytes = Files.readAllBytes(blob);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(blob, bytes);
        try (ContainerRoot root = ContainerRoot.of("test", Files.createDirectories(dir.resolve("bundle")), 0)) {
            assertThatThrownBy(() -> store.unpack(image, root, "/rootfs"))
                    .hasMessageContaining(image.layers().getLast().digest()).hasMessageContaining("import it again");
        }
        assertThat(Files.exists(dir.resolve("bundle/rootfs/bin/busybox"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }
}
