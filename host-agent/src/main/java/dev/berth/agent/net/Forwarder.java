package dev.berth.agent.net;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.ops.AgentLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Host ports forwarded to containers by a proxy in the agent, as LXD's proxy device does: no NAT
 * rule, so a forward works from loopback and survives any firewall setup. TCP connections are
 * piped both ways with back-pressure; UDP gets one upstream socket per client address, dropped
 * after a minute without traffic.
 */
public final class Forwarder implements AutoCloseable {

    /** One forward: {@code protocol} {@code listen}:{@code port} to the container's {@code targetPort}. */
    public record Forward(String protocol, String listen, int port, int targetPort) {

        @Override
        public String toString() {
            return protocol + " " + listen + ":" + port + " -> " + targetPort;
        }
    }

    private static final long UDP_IDLE_MS = 60_000;

    private final Vertx vertx;
    private final AgentLog log;
    private final NetClient client;
    private final Map<String, List<Runnable>> open = new ConcurrentHashMap<>();

    public Forwarder(Vertx vertx, AgentLog log) {
        this.vertx = vertx;
        this.log = log;
        this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(5000).setTcpNoDelay(true));
    }

    /**
     * Opens {@code forwards} of container {@code name} (at {@code address}); all or none: if one
     * cannot listen, those opened are closed again.
     *
     * @throws AgentException.Conflict naming the host address and port in use
     */
    public void open(String name, String address, List<Forward> forwards) {
        if (forwards.isEmpty()) {
            return;
        }
        List<Runnable> closers = new ArrayList<>();
        try {
            for (Forward forward : forwards) {
                closers.add(forward.protocol().equals("udp") ? udp(name, address, forward) : tcp(name, address, forward));
            }
        } catch (RuntimeException e) {
            closers.forEach(Runnable::run);
            throw e;
        }
        List<Runnable> previous = open.put(name, closers);
        if (previous != null) {
            previous.forEach(Runnable::run);
        }
        log.info("Forwarding to " + name + " (" + address + "): " + forwards);
    }

    /** Closes container {@code name}'s forwards, if any. */
    public void close(String name) {
        List<Runnable> closers = open.remove(name);
        if (closers != null) {
            closers.forEach(Runnable::run);
        }
    }

    /** The containers with open forwards. */
    public java.util.Set<String> containers() {
        return java.util.Set.copyOf(open.keySet());
    }

    private Runnable tcp(String name, String address, Forward forward) {
        NetServer server = vertx.createNetServer(new NetServerOptions().setTcpNoDelay(true).setReuseAddress(true));
        SocketAddress target = SocketAddress.inetSocketAddress(forward.targetPort(), address);
        server.connectHandler(inbound -> {
            inbound.pause();
            client.connect(target).onSuccess(outbound -> {
                inbound.pipeTo(outbound);
                outbound.pipeTo(inbound);
                inbound.resume();
            }).onFailure(t -> {
                log.debug("forward " + forward + " to " + name + ": " + t.getMessage());
                inbound.close();
            });
        });
        await(server.listen(forward.port(), forward.listen()), forward, name);
        return () -> server.close();
    }

    private Runnable udp(String name, String address, Forward forward) {
        DatagramSocket listener = vertx.createDatagramSocket(new DatagramSocketOptions().setReuseAddress(false));
        Map<SocketAddress, Future<DatagramSocket>> upstreams = new ConcurrentHashMap<>();
        Map<SocketAddress, Long> lastSeen = new ConcurrentHashMap<>();
        listener.handler(packet -> {
            SocketAddress from = packet.sender();
            lastSeen.put(from, System.currentTimeMillis());
            Future<DatagramSocket> upstream = upstreams.computeIfAbsent(from, key -> {
                DatagramSocket s = vertx.createDatagramSocket(new DatagramSocketOptions());
                s.handler(reply -> {
                    lastSeen.put(key, System.currentTimeMillis());
                    listener.send(reply.data(), key.port(), key.host());
                });
                return s.listen(0, "0.0.0.0");
            });
            Buffer data = packet.data();
            upstream.onSuccess(s -> s.send(data, forward.targetPort(), address));
        });
        await(listener.listen(forward.port(), forward.listen()), forward, name);
        long timer = vertx.setPeriodic(UDP_IDLE_MS / 2, id -> {
            long now = System.currentTimeMillis();
            lastSeen.forEach((client, seen) -> {
                if (now - seen > UDP_IDLE_MS) {
                    lastSeen.remove(client);
                    Future<DatagramSocket> s = upstreams.remove(client);
                    if (s != null) {
                        s.onSuccess(DatagramSocket::close);
                    }
                }
            });
        });
        return () -> {
            vertx.cancelTimer(timer);
            listener.close();
            upstreams.values().forEach(s -> s.onSuccess(DatagramSocket::close));
        };
    }

    private static void await(Future<?> listening, Forward forward, String name) {
        try {
            listening.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BindException || String.valueOf(cause.getMessage()).contains("Address already in use")) {
                throw new AgentException.Conflict("cannot forward " + forward.protocol() + " " + forward.listen() + ":" + forward.port()
                        + " to " + name + ": the host port is already in use (by another program or container); pick another"
                        + " port in network.forwards", cause);
            }
            throw new AgentException.Invalid("cannot listen on " + forward.listen() + ":" + forward.port() + " for " + name + ": "
                    + cause.getMessage() + "; the listen address must be one of this host's");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted opening a forward");
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("opening forward " + forward + " timed out");
        }
    }

    @Override
    public void close() {
        open.keySet().forEach(this::close);
        client.close();
    }
}
