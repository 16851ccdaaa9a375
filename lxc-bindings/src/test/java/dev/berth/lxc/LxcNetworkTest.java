package dev.berth.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

@RequiresLxc
class LxcNetworkTest {

    @Test
    void reportsInterfacesAndTheStaticAddressOnATestBridge(LxcSandbox sandbox) {
        LxcSandbox.Bridge bridge = sandbox.bridge();
        try (LxcContainer c = Lxc.open(sandbox.name("net"), sandbox.lxcpath())) {
            c.setConfigItems(LxcSandbox.busyboxConfig());
            c.setConfigItems(bridge.nic(10));
            c.create("busybox", java.util.List.of());
            Busybox.withoutDhcp(c);
            c.start();
            assertThat(c.interfaces()).contains("eth0", "lo");
            assertThat(c.ipAddresses("eth0", "inet")).containsExactly(InetAddress.ofLiteral(bridge.address(10)));
            assertThat(c.ipAddresses(null, "inet")).contains(InetAddress.ofLiteral(bridge.address(10)));
            // Traffic stays on the test's own bridge: the container reaches the host's bridge address.
            assertThat(c.run(LxcCommand.of("ping", "-c", "1", "-W", "2", bridge.hostAddress())).exitCode()).isZero();
            c.stop();
        }
    }
}
