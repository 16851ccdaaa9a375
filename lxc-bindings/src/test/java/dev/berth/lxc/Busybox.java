package dev.berth.lxc;

import dev.berth.testing.LxcSandbox;
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
        return container;
    }

    /** A running busybox container. */
    static LxcContainer started(LxcSandbox sandbox, String base) {
        LxcContainer container = create(sandbox, base);
        container.start();
        return container;
    }
}
