package dev.berth.agent.app;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.lxc.ExecResult;
import dev.berth.lxc.LxcCommand;
import dev.berth.lxc.LxcContainer;
import dev.berth.profile.AppSpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Runs the app container inside a system container with crun. The host's crun and catatonit (Debian's
 * packages) are seen read-only inside at {@code /.berth/usr}, and crun is started through the host's
 * own dynamic loader, so any system container can run an app whatever its distribution. The bundle
 * lives at {@code /var/lib/berth/app/current} inside (the image unpacked beneath it before the system
 * container starts); the app's output goes to {@code /var/lib/berth/app/app.log}.
 */
public final class AppRuntime {

    public static final String DIR = "/var/lib/berth/app";
    public static final String BUNDLE = DIR + "/current";
    public static final String LOG = DIR + "/app.log";
    /** The id crun knows the app by, inside its system container. */
    public static final String ID = "app";
    static final String CRUN = loader() + " --library-path /.berth/usr/lib/x86_64-linux-gnu /.berth/usr/bin/crun";

    /**
     * The host's dynamic loader as the container sees it. Its usual name is an absolute symlink
     * ({@code /lib64/... -> /lib/x86_64-linux-gnu/...}), which inside would point into the container's
     * own files: the real file (under /usr on a merged-/usr host such as Debian 12) is named instead.
     */
    private static String loader() {
        try {
            java.nio.file.Path real = java.nio.file.Path.of("/lib64/ld-linux-x86-64.so.2").toRealPath();
            if (!real.startsWith("/usr/")) {
                throw new IllegalStateException("the host's loader " + real + " is not under /usr: app containers need a merged-/usr host");
            }
            return "/.berth" + real;
        } catch (IOException e) {
            return "/.berth/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";
        }
    }

    private AppRuntime() {
    }

    /** What the system container needs to host an app: nesting, a writable cgroup tree, the host's runtime read-only. */
    public static List<Map.Entry<String, String>> lxcConfig() {
        return List.of(Map.entry("lxc.include", "/usr/share/lxc/config/nesting.conf"),
                Map.entry("lxc.mount.auto", "proc:rw sys:rw cgroup:rw:force"),
                Map.entry("lxc.mount.entry", "/usr .berth/usr none bind,ro,create=dir 0 0"));
    }

    /** Unpacks {@code image} into the bundle under {@code layer} (the stopped container's files) and writes its config. */
    public static void prepare(AppImageStore store, AppImageStore.AppImage image, AppSpec app, ContainerRoot layer, String hostname) {
        store.unpack(image, layer, BUNDLE + "/rootfs");
        OciRuntimeConfig.Accounts accounts = OciRuntimeConfig.Accounts.of(text(layer, BUNDLE + "/rootfs/etc/passwd"),
                text(layer, BUNDLE + "/rootfs/etc/group"));
        ObjectNode config = OciRuntimeConfig.render(app, image.config(), accounts, hostname, "/.berth/usr/bin/catatonit");
        byte[] json = config.toPrettyString().getBytes(StandardCharsets.UTF_8);
        layer.write(BUNDLE + "/config.json", new ByteArrayInputStream(json), 0600, 0, 0);
    }

    private static String text(ContainerRoot root, String path) {
        try (InputStream in = root.read(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return ""; // no such file: numeric users only
        }
    }

    /** Starts the app (detached; crun returns once it runs). Fails with crun's own words and the log's end. */
    public static void start(LxcContainer container) {
        // the app shares the container's network, loopback included (a container without a NIC may have it down)
        ExecResult started = container.run(LxcCommand.of("sh", "-c", "{ ip link set lo up || ifconfig lo up; } >/dev/null 2>&1; "
                + CRUN + " run --detach --bundle " + BUNDLE + " " + ID
                + " </dev/null >>" + LOG + " 2>&1; code=$?; [ $code = 0 ] || tail -n 20 " + LOG + "; exit $code"));
        if (started.exitCode() == 127) {
            ExecResult mounts = container.run(LxcCommand.of("sh", "-c", "grep -c ' /.berth/usr ' /proc/mounts; ls /.berth/usr/lib64 2>&1 | head -3"));
            throw new AppImageException.Invalid("the app runtime is missing in " + container.name() + ": the host's /usr is not at"
                    + " /.berth/usr inside (" + mounts.stdoutText().strip().replace('\n', ' ') + "); install crun and catatonit on the host"
                    + " (scripts/setup.sh does)");
        }
        if (started.exitCode() != 0) {
            throw new AppImageException.Invalid("the app did not start in " + container.name() + " (crun exit " + started.exitCode()
                    + "): " + started.stdoutText().strip() + started.stderrText().strip());
        }
    }

    /** The app's state as crun reports it: created, running, stopped; "absent" when crun knows no app. */
    public static String state(LxcContainer container) {
        ExecResult state = container.run(LxcCommand.of("sh", "-c", CRUN + " state " + ID + " 2>/dev/null"));
        if (state.exitCode() != 0) {
            return "absent";
        }
        try {
            return AppImageStore.JSON.readTree(state.stdout()).path("status").asText("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
