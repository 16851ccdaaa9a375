package dev.berth.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The agent's event stream ({@code GET /1.0/events}) read as a WebSocket over the Unix socket: the
 * client side of RFC 6455 that the CLI needs (text messages in, nothing but a close out).
 */
public final class EventStream implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final SocketChannel channel;
    private final DataInputStream in;
    private int closeCode = -1;
    private String closeReason = "";

    private EventStream(SocketChannel channel) {
        this.channel = channel;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel)));
    }

    /**
     * Subscribes to {@code types} (comma-separated: operation, lifecycle, logging; null for all).
     * Returns once the agent has accepted the subscription, so no event after this call is missed.
     */
    public static EventStream open(Path socket, String types) {
        try {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            byte[] nonce = new byte[16];
            new SecureRandom().nextBytes(nonce);
            String path = "/1.0/events" + (types == null ? "" : "?type=" + types);
            String head = "GET " + path + " HTTP/1.1\r\nHost: berth\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
            channel.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            EventStream stream = new EventStream(channel);
            String status = stream.line();
            if (!status.startsWith("HTTP/1.1 101")) {
                channel.close();
                throw new AgentClient.AgentException("the agent refused the event stream: " + status, 500);
            }
            while (!stream.line().isEmpty()) {
                // headers of the upgrade
            }
            return stream;
        } catch (IOException e) {
            throw new AgentClient.AgentException("cannot reach berthd on " + socket + " (" + e.getMessage()
                    + "); is it running? start it with bin/berthd or systemctl start berthd", 0);
        }
    }

    /** The next event, or null once the agent closed the stream (see {@link #closeCode()}). */
    public JsonNode next() throws IOException {
        while (true) {
            int b0 = in.read();
            if (b0 < 0) {
                return null;
            }
            int b1 = in.readUnsignedByte();
            long length = b1 & 0x7f;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = in.readLong();
            }
            if (length > 64L << 20) {
                throw new IOException("an event of " + length + " bytes: not the agent's stream");
            }
            byte[] payload = new byte[(int) length];
            in.readFully(payload);
            switch (b0 & 0x0f) {
                case 0x1 -> {
                    return JSON.readTree(payload);
                }
                case 0x8 -> {
                    closeCode = payload.length >= 2 ? (payload[0] & 0xff) << 8 | (payload[1] & 0xff) : 1005;
                    closeReason = payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
                    return null;
                }
                default -> {
                    // ping, pong, continuation of nothing: the agent sends whole text messages only
                }
            }
        }
    }

    /** The agent's close code (1008: this listener was too slow), or -1. */
    public int closeCode() {
        return closeCode;
    }

    public String closeReason() {
        return closeReason;
    }

    private String line() throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) != '\n' && c >= 0; ) {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a socket we only read from
        }
    }
}
