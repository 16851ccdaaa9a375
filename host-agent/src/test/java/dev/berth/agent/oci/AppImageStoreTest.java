package dev.berth.agent.oci;

import dev.berth.agent.error.AgentException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.OciImageFixture;
import dev.berth.testing.OciImageFixture.Image;
import dev.berth.testing.OciImageFixture.Layer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Importing OCI images without a registry: both archive formats, digests checked, escapes refused. */
class AppImageStoreTest {

    @TempDir
    Path dir;

    private AppImageStore store() {
        return new AppImageStore(dir.resolve("store"));
    }

    private static Image httpd(String content) {
        return OciImageFixture.busyboxHttpd("web", "1", content, 8080);
    }

    @Test
    void importsOciLayoutsOciArchivesAndDockerArchivesByDigest() throws Exception {
        AppImageStore store = store();
        Path layout = dir.resolve("layout");
        String digest = OciImageFixture.writeOciLayout(httpd("one"), layout);
        AppImageStore.AppImage fromDirectory = store.importDirectory(layout, null, "layout");
        assertThat(fromDirectory.digest()).isEqualTo(digest);
        assertThat(fromDirectory.reference()).isEqualTo("web:1");
        assertThat(fromDirectory.layers()).hasSize(2);
        assertThat(fromDirectory.config().cmd()).containsExactly("/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www");
        assertThat(fromDirectory.config().env()).contains("APP_CONTENT=one");
        assertThat(fromDirectory.config().workdir()).isEqualTo("/www");
        assertThat(fromDirectory.config().exposedPorts()).containsExactly("8080/tcp");
        for (AppImageStore.Layer layer : fromDirectory.layers()) {
            assertThat(store.blob(layer.digest())).exists();
            assertThat(AppImageStore.sha256(Files.readAllBytes(store.blob(layer.digest())))).isEqualTo(layer.digest());
        }
        assertThat(store.blob(digest)).exists();

        // the same image as a tar of the layout: the same digest, nothing new
        Path ociTar = dir.resolve("web-1.oci.tar");
        OciImageFixture.writeOciArchive(httpd("one"), ociTar);
        assertThat(store.importArchive(ociTar, null, "web-1.oci.tar").digest()).isEqualTo(digest);
        assertThat(store.list()).hasSize(1);

        // docker save of a second revision, named on import; the name:tag moves, the old image stays by digest
        Path dockerTar = dir.resolve("web-2.docker.tar");
        OciImageFixture.writeDockerArchive(OciImageFixture.busyboxHttpd("web", "2", "two", 8080), dockerTar);
        AppImageStore.AppImage two = store.importArchive(dockerTar, null, "web-2.docker.tar");
        assertThat(two.reference()).isEqualTo("web:2");
        assertThat(two.config().env()).contains("APP_CONTENT=two");
        assertThat(two.layers().getFirst().diffId()).isEqualTo(fromDirectory.layers().getFirst().diffId());
        assertThat(store.list()).extracting(AppImageStore.AppImage::reference).containsExactlyInAnyOrder("web:1", "web:2");
        AppImageStore.AppImage renamed = store.importArchive(dockerTar, "shop/front:2", "web-2.docker.tar");
        assertThat(renamed.reference()).isEqualTo("shop/front:2");

        // lookups: name (latest), name:tag, digest prefix, a pin
        assertThat(store.get("web:1").digest()).isEqualTo(digest);
        assertThat(store.get(digest.substring(7, 19)).digest()).isEqualTo(digest);
        assertThat(store.get("web:1@" + digest).digest()).isEqualTo(digest);
        assertThatThrownBy(() -> store.get("web:1@" + two.digest()))
                .isInstanceOf(AgentException.Invalid.class)
                .hasMessageContaining("pins web:1@" + two.digest()).hasMessageContaining("web:1 is " + digest);
        assertThatThrownBy(() -> store.get("web")).isInstanceOf(AgentException.NotFound.class)
                .hasMessageContaining("berth app image import");
        assertThatThrownBy(() -> store.get("Web:1")).isInstanceOf(AgentException.Invalid.class).hasMessageContaining("lower-case");

        // a fresh store object reads the same list back
        assertThat(store().list()).extracting(AppImageStore.AppImage::digest).contains(digest, two.digest());
    }

    @Test
    void aTamperedLayerIsRefusedNamingItsDigestAndNothingIsKept() throws Exception {
        AppImageStore store = store();
        Path tampered = dir.resolve("tampered.tar");
        String layerDigest = OciImageFixture.writeTamperedOciArchive(httpd("one"), tampered);
        assertThatThrownBy(() -> store.importArchive(tampered, null, "tampered.tar"))
                .isInstanceOf(AgentException.Invalid.class)
                .hasMessageContaining("layer " + layerDigest + " does not match its digest")
                .hasMessageContaining("refused");
        assertThat(store.list()).isEmpty();
        assertThat(blobs(store)).isEmpty();
        assertThat(Files.list(store.directory()).filter(p -> p.getFileName().toString().startsWith(".staging"))).isEmpty();

        // docker save: one byte of a layer.tar changed
        Path docker = dir.resolve("docker");
        Path archive = dir.resolve("docker.tar");
        OciImageFixture.writeDockerArchive(httpd("one"), archive);
        Files.createDirectories(docker);
        Process untar = new ProcessBuilder("tar", "-C", docker.toString(), "-xf", archive.toString()).inheritIO().start();
        assertThat(untar.waitFor()).isZero();
        Path layerTar;
        try (var files = Files.walk(docker)) {
            layerTar = files.filter(p -> p.getFileName().toString().equals("layer.tar"))
                    .max(java.util.Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(layerTar);
        bytes[100_000] ^= 0x01; // inside busybox's bytes
        Files.write(layerTar, bytes);
        assertThatThrownBy(() -> store.importDirectory(docker, null, "docker"))
                .isInstanceOf(AgentException.Invalid.class)
                .hasMessageContaining("does not match its digest").hasMessageMatching("(?s).*layer sha256:[0-9a-f]{64}.*");
        assertThat(store.list()).isEmpty();
    }

    @Test
    void layersThatWouldEscapeTheRootAreRefused() throws Exception {
        AppImageStore store = store();
        Image base = httpd("one");
        List<List<Layer>> hostile = List.of(
                List.of(new Layer().file("../../escaped", "x", 0644)),
                List.of(new Layer().file("/etc/cron.d/evil", "x", 0644)),
                List.of(new Layer().symlink("hostetc", "/etc"), new Layer().file("hostetc/passwd", "x", 0644)),
                List.of(new Layer().symlink("up", "../..").file("up/x", "x", 0644)),
                List.of(new Layer().hardlink("shadow", "../../etc/shadow")));
        List<String> messages = new ArrayList<>();
        for (List<Layer> layers : hostile) {
            List<Layer> all = new ArrayList<>(base.layers());
            all.addAll(layers);
            Path archive = dir.resolve("hostile-" + messages.size() + ".tar");
            OciImageFixture.writeOciArchive(OciImageFixture.withLayers(base, all), archive);
            Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> store.importArchive(archive, null, archive.toString()));
            assertThat(refused).isInstanceOf(AgentException.Invalid.class);
            messages.add(refused.getMessage());
        }
        assertThat(messages.get(0)).contains("'../../escaped' climbs out of the image's root");
        assertThat(messages.get(1)).contains("'/etc/cron.d/evil' is an absolute path");
        assertThat(messages.get(2)).contains("'hostetc/passwd' is written through the symbolic link 'hostetc' (-> /etc), an absolute link");
        assertThat(messages.get(3)).contains("'up/x' is written through the symbolic link 'up' (-> ../..)");
        assertThat(messages.get(4)).contains("a hard link to '../../etc/shadow'").contains("climbs out");
        assertThat(messages).allSatisfy(m -> assertThat(m).matches("(?s)layer sha256:[0-9a-f]{64}: .*refused"));
        assertThat(store.list()).isEmpty();
        assertThat(blobs(store)).isEmpty();

        // a link replaced (whiteout, then a real directory) is no escape; absolute links inside are fine
        List<Layer> replaced = new ArrayList<>(base.layers());
        replaced.add(new Layer().symlink("data", "/srv/data").symlink("bin/ls", "/bin/busybox"));
        replaced.add(new Layer().whiteout("data"));
        replaced.add(new Layer().dir("data", 0755).file("data/kept", "x", 0644).opaque("www").file("www/index.html", "new", 0644));
        Path archive = dir.resolve("replaced.tar");
        OciImageFixture.writeOciArchive(OciImageFixture.withLayers(base, replaced), archive);
        assertThat(store.importArchive(archive, "web:replaced", "replaced.tar").layers()).hasSize(5);
    }

    @Test
    void deletingKeepsSharedBlobsAndIsRefusedWhileInUse() throws Exception {
        AppImageStore store = store();
        Path one = dir.resolve("one.tar");
        Path two = dir.resolve("two.tar");
        OciImageFixture.writeOciArchive(httpd("one"), one);
        OciImageFixture.writeOciArchive(OciImageFixture.busyboxHttpd("web", "2", "two", 8080), two);
        AppImageStore.AppImage first = store.importArchive(one, null, "one.tar");
        AppImageStore.AppImage second = store.importArchive(two, null, "two.tar");
        assertThatThrownBy(() -> store.delete(first, List.of("shop1")))
                .isInstanceOf(AgentException.Conflict.class).hasMessageContaining("used by shop1");
        store.delete(first, List.of());
        assertThat(store.list()).extracting(AppImageStore.AppImage::reference).containsExactly("web:2");
        assertThat(store.blob(first.digest())).doesNotExist();
        assertThat(store.blob(first.layers().getLast().digest())).doesNotExist();
        assertThat(store.blob(second.layers().getFirst().digest())).as("the busybox layer both share").exists();
    }

    @Test
    void notAnImageSaysWhatItExpected() throws Exception {
        Path junk = dir.resolve("junk.tar");
        OciImageFixture.tarDirectory(Files.createDirectories(dir.resolve("junk")), junk);
        Files.writeString(dir.resolve("junk/readme"), "hello");
        OciImageFixture.tarDirectory(dir.resolve("junk"), junk);
        assertThatThrownBy(() -> store().importArchive(junk, null, "junk.tar"))
                .isInstanceOf(AgentException.Invalid.class)
                .hasMessageContaining("neither an OCI image layout (oci-layout and index.json) nor a docker save archive");
        Path unnamed = dir.resolve("unnamed");
        OciImageFixture.writeOciLayout(httpd("one"), unnamed);
        Files.writeString(unnamed.resolve("index.json"), Files.readString(unnamed.resolve("index.json"))
                .replaceAll("\"annotations\":\\{[^}]*\\},?", "").replace(",}", "}"));
        assertThatThrownBy(() -> store().importDirectory(unnamed, null, "unnamed"))
                .hasMessageContaining("does not name its image; give one");
        assertThat(store().importDirectory(unnamed, "named:3", "unnamed").reference()).isEqualTo("named:3");
    }

    private static List<Path> blobs(AppImageStore store) throws Exception {
        Path blobs = store.directory().resolve("blobs/sha256");
        if (!Files.isDirectory(blobs)) {
            return List.of();
        }
        try (var files = Files.list(blobs)) {
            return files.toList();
        }
    }
}
