package dev.berth.agent.oci;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.lxc.ExecResult;
import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcCommand;
import dev.berth.lxc.LxcContainer;
import dev.berth.profile.AppSpec;
import dev.berth.profile.ProfileSpec;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.OciImageFixture;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where the app really runs: an imported image unpacked into a busybox system container and run by
 * crun inside it with the rendered config. The container has LXC's nesting config and a writable
 * cgroup tree; crun and catatonit are the host's (Debian's packages), seen read-only at
 * {@code /.berth/usr} and crun started through the host's dynamic loader, so the container's own
 * distribution does not matter.
 */
@RequiresLxc
class CrunInContainerTest {

    static final String CRUN = AppRuntime.CRUN;

    @Test
    void theAppRunsUnderCrunInsideTheSystemContainerWithAnInitThatReapsZombies(LxcSandbox sandbox) throws Exception {
        Path archive = sandbox.scratch("images").resolve("web.tar");
        OciImageFixture.writeOciArchive(OciImageFixture.busyboxHttpd("web", "1", "one", 8080), archive);
        AppImageStore store = new AppImageStore(sandbox.scratch("store"));
        AppImageStore.AppImage image = store.importArchive(archive, null, "web.tar");

        try (LxcContainer container = Lxc.open(sandbox.name("app"), sandbox.lxcpath())) {
            container.setConfigItems(LxcSandbox.busyboxConfig());
            container.create("busybox", List.of());
            container.setConfigItem("lxc.include", "/usr/share/lxc/config/nesting.conf");
            container.setConfigItem("lxc.mount.auto", "proc:rw sys:rw cgroup:rw:force");
            container.setConfigItem("lxc.mount.entry", "/usr .berth/usr none bind,ro,create=dir 0 0");
            container.saveConfig();
            Path rootfs = container.directory().resolve("rootfs");
            try (ContainerRoot root = ContainerRoot.of(container.name(), rootfs, 0)) {
                store.unpack(image, root, "/var/lib/berth/app/bundle/rootfs");
            }
            Path bundle = rootfs.resolve("var/lib/berth/app/bundle");
            // the app forks 100 children that outlive their parents, then serves; catatonit (PID 1) must reap them all
            AppSpec app = new AppSpec("web:1", null, List.of("/bin/busybox", "sh", "-c",
                    "i=0; while [ $i -lt 100 ]; do /bin/busybox sh -c '/bin/busybox true &'; i=$((i+1)); done;"
                            + " echo started; exec /bin/busybox sleep 30"), Map.of(), null, null, List.of(), null,
                    ProfileSpec.Restart.ON_FAILURE, "SIGTERM", Duration.ofSeconds(10));
            OciRuntimeConfig.Accounts accounts = OciRuntimeConfig.Accounts.of(Files.readString(bundle.resolve("rootfs/etc/passwd")),
                    Files.readString(bundle.resolve("rootfs/etc/group")));
            ObjectNode config = OciRuntimeConfig.render(app, image.config(), accounts, container.name(), "/.berth/usr/bin/catatonit");
            Files.writeString(bundle.resolve("config.json"), config.toPrettyString());
            container.start();
            try {
                ExecResult run = container.run(LxcCommand.of("sh", "-c", CRUN + " run --detach --bundle /var/lib/berth/app/bundle app"
                        + " </dev/null >/var/lib/berth/app/app.log 2>&1 && sleep 2 && " + CRUN + " state app"));
                assertThat(run.exitCode()).as(run.stdoutText() + run.stderrText()).isZero();
                assertThat(run.stdoutText()).contains("\"status\": \"running\"");
                ExecResult ps = container.run(LxcCommand.of("sh", "-c", "ps -o pid,stat,args"));
                assertThat(ps.stdoutText()).contains("/dev/init -- /bin/busybox sh -c", "/bin/busybox sleep 30");
                assertThat(rootfs.resolve("var/lib/berth/app/app.log")).hasContent("started");
                assertThat(ps.stdoutText().lines().filter(l -> l.trim().split("\\s+").length > 1
                        && l.trim().split("\\s+")[1].startsWith("Z"))).as("zombies:\n" + ps.stdoutText()).isEmpty();
                ExecResult killed = container.run(LxcCommand.of("sh", "-c", CRUN + " kill app TERM; sleep 1; " + CRUN + " delete --force app; "
                        + CRUN + " list"));
                assertThat(killed.stdoutText()).doesNotContain("running");
            } finally {
                container.stop();
            }
        }
    }
}
