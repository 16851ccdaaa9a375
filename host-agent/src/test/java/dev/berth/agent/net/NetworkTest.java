package dev.berth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.agent.TestAgent;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The managed network with real containers on a bridge the agent makes: addresses, names, static
 * addresses, port forwards (TCP and UDP) from loopback. Traffic goes only to loopback and to the
 * test's own containers on the test's own bridge.
 */
@RequiresLxc
class NetworkTest {

    private static final String NET_PROFILE = """
            name: net
            image: busybox
            limits: {memory: 64MiB}
            security: {privileged: true, nesting: false}
            network: {ipv4: auto}
            """;

    @Test
    void containersOnTheManagedBridgeReachEachOtherByAddressAndNameAndKeepTheirAddresses(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            assertThat(Bridge.exists(agent.bridge().name())).as("the agent made its bridge").isTrue();
            agent.profile(NET_PROFILE);
            String a = sandbox.name("a");
            String b = sandbox.name("b");
            agent.launch(a, "net");
            agent.launch(b, "net");
            String addressA = agent.container(a).path("address").asText();
            String addressB = agent.container(b).path("address").asText();
            assertThat(addressA).startsWith(agent.bridge().prefix() + ".").isNotEqualTo(addressB);
            assertThat(addressB).startsWith(agent.bridge().prefix() + ".");

            assertThat(agent.exec(a, "ping", "-c1", "-W2", addressB).exitCode()).as("a pings b by address").isZero();
            assertThat(agent.exec(b, "ping", "-c1", "-W2", a).exitCode()).as("b pings a by name").isZero();
            assertThat(agent.exec(a, "cat", "/etc/hosts").stdout()).contains(addressA + " " + a, addressB + " " + b, "localhost");
            assertThat(agent.request("GET", "/1.0/containers/" + a + "/state", null).json().path("addresses").toString())
                    .contains(addressA);

            agent.state(b, "restart");
            assertThat(agent.container(b).path("address").asText()).as("same address after a restart").isEqualTo(addressB);
            assertThat(agent.exec(b, "ping", "-c1", "-W2", a).exitCode()).isZero();

            agent.restart();
            assertThat(agent.container(a).path("address").asText()).as("same address after an agent restart").isEqualTo(addressA);
            assertThat(agent.container(b).path("address").asText()).isEqualTo(addressB);
            assertThat(agent.exec(a, "ping", "-c1", "-W2", b).exitCode()).isZero();

            // A static address already taken is refused, and leaves nothing behind.
            agent.profile(NET_PROFILE.replace("name: net", "name: clash").replace("{ipv4: auto}", "{ipv4: " + addressA + "}"));
            String clash = sandbox.name("clash");
            JsonNode failed = agent.operation("POST", "/1.0/containers", Map.of("name", clash, "profiles", java.util.List.of("clash")));
            assertThat(failed.path("status").asText()).isEqualTo("failure");
            assertThat(failed.path("error").asText()).contains(addressA, "already", a);
            assertThat(sandbox.lxcpath().resolve(clash)).doesNotExist();
            assertThat(agent.request("GET", "/1.0/containers/" + clash, null).status()).isEqualTo(404);

            // A free static address is honoured.
            String wanted = agent.bridge().address(200);
            agent.profile(NET_PROFILE.replace("name: net", "name: fixed").replace("{ipv4: auto}", "{ipv4: " + wanted + "}"));
            String fixed = sandbox.name("fixed");
            agent.launch(fixed, "fixed");
            assertThat(agent.container(fixed).path("address").asText()).isEqualTo(wanted);
            assertThat(agent.exec(fixed, "ping", "-c1", "-W2", a).exitCode()).isZero();

            // An address comes free only when its container is deleted.
            agent.succeed("DELETE", "/1.0/containers/" + b + "?force=1", null);
            assertThat(agent.exec(a, "cat", "/etc/hosts").stdout()).as("b left the hosts block").doesNotContain(" " + b + "\n");
            String c = sandbox.name("c");
            agent.launch(c, "net");
            assertThat(agent.container(c).path("address").asText()).as("b's address, free again").isEqualTo(addressB);
            for (String name : new String[] {a, c, fixed}) {
                agent.succeed("DELETE", "/1.0/containers/" + name + "?force=1", null);
            }
            assertThat(Files.readString(agent.stateDir().resolve("network").resolve(agent.bridge().name() + ".json")))
                    .doesNotContain(addressA);
        }
    }

    @Test
    void portForwardsFromLoopbackReachServersInsideAndGoAwayWithTheContainer(LxcSandbox sandbox) throws Exception {
        Path udpEcho = UdpEcho.build(sandbox);
        int tcpPort = freePort();
        int udpPort = freeUdpPort();
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile(NET_PROFILE.replace("name: net", "name: web").replace("network: {ipv4: auto}", """
                    network:
                      ipv4: auto
                      forwards:
                        - {port: %d, target-port: 80}
                        - {protocol: udp, port: %d, target-port: 7000}
                    """.formatted(tcpPort, udpPort)));
            String web = sandbox.name("web");
            agent.launch(web, "web");
            assertThat(agent.container(web).path("forwards").toString())
                    .contains("tcp 127.0.0.1:" + tcpPort + " -> 80", "udp 127.0.0.1:" + udpPort + " -> 7000");
            TestAgent.Reply pushed = agent.raw("POST", "/1.0/containers/" + web + "/files?path=/bin/udp-echo",
                    Map.of("X-Berth-Mode", "0755"), Files.readAllBytes(udpEcho));
            assertThat(pushed.status()).as(pushed.text()).isEqualTo(200);
            assertThat(agent.exec(web, "sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && httpd -p 80 -h /www"
                    + " && (/bin/udp-echo 7000 >/dev/null 2>&1 &)").exitCode()).isZero();

            assertThat(httpGet(tcpPort)).contains("200 OK").contains("hello-from-web");
            assertThat(udpRoundTrip(udpPort, "ping through the forward")).isEqualTo("ping through the forward");

            agent.succeed("DELETE", "/1.0/containers/" + web + "?force=1", null);
            assertThatThrownBy(() -> httpGet(tcpPort)).isInstanceOf(ConnectException.class);
            try (DatagramSocket again = new DatagramSocket(new InetSocketAddress("127.0.0.1", udpPort))) {
                assertThat(again.getLocalPort()).as("the UDP port is free again").isEqualTo(udpPort);
            }
        }
    }

    @Test
    void aHostPortInUseFailsTheLaunchClearlyAndLeavesNoContainer(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox);
             ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            agent.profile(NET_PROFILE.replace("name: net", "name: taken").replace("network: {ipv4: auto}",
                    "network:\n  ipv4: auto\n  forwards: [{port: " + taken.getLocalPort() + "}]\n"));
            String name = sandbox.name("taken");
            JsonNode op = agent.operation("POST", "/1.0/containers", Map.of("name", name, "profiles", java.util.List.of("taken")));
            assertThat(op.path("status").asText()).isEqualTo("failure");
            assertThat(op.path("error").asText()).contains("127.0.0.1:" + taken.getLocalPort(), "already in use");
            assertThat(sandbox.lxcpath().resolve(name)).doesNotExist();
            assertThat(agent.request("GET", "/1.0/containers/" + name, null).status()).isEqualTo(404);
            String book = Files.readString(agent.stateDir().resolve("network").resolve(agent.bridge().name() + ".json"));
            assertThat(book).as("its address was given back").doesNotContain(name);
        }
    }

    static String httpGet(int port) throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write("GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static String udpRoundTrip(int port, String text) throws Exception {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(1000);
            byte[] data = text.getBytes(StandardCharsets.UTF_8);
            for (int attempt = 0; attempt < 10; attempt++) { // the server may still be starting
                socket.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), port));
                DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
                try {
                    socket.receive(reply);
                    return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
                } catch (SocketTimeoutException e) {
                    // try again
                }
            }
            throw new AssertionError("no UDP answer through port " + port);
        }
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static int freeUdpPort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            return s.getLocalPort();
        }
    }
}
