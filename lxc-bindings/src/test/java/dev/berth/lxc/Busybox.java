package dev.berth.lxc;

import dev.berth.testing.LxcSandbox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Makes busybox system containers in a sandbox through the bindings under test. */
final class Busybox {

    private Busybox() {
    }

    /** A defined, stopped busybox container made with liblxc's busybox template. */
    static LxcContainer create(LxcSandbox sandbox, String base) {
        LxcContainer container = Lxc.open(sandbox.name(base), sandbox.lxcpath());
        container.setConfigItems(LxcSandbox.busyboxConfig());
        container.create("busybox", List.of());
        withoutDhcp(container);
        return container;
    }

    /**
     * The busybox template's rcS runs udhcpc, which flushes the address LXC configured and then asks
     * for DHCP forever; Berth's addresses come from LXC's own network config, so it goes.
     */
    static void withoutDhcp(LxcContainer container) {
        Path rcs = container.directory().resolve("rootfs/etc/init.d/rcS");
        try {
            Files.writeString(rcs, Files.readString(rcs).replace("/bin/udhcpc", ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A running busybox container. */
    static LxcContainer started(LxcSandbox sandbox, String base) {
        LxcContainer container = create(sandbox, base);
        container.start();
        return container;
    }
}
