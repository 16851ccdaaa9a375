package dev.berth.cli.client;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
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
 * The client side of RFC 6455 over the agent's Unix socket, as much as the CLI needs: the upgrade,
 * text and binary messages both ways (fragments joined, client frames masked), the close code.
 */
public final class WebSocketConnection implements AutoCloseable {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** One message: opcode 1 (text) or 2 (binary). */
    public record Message(int opcode, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    private final SocketChannel channel;
    private final DataInputStream in;
    private final ByteArrayOutputStream fragments = new ByteArrayOutputStream();
    private int fragmentOpcode;
    private int closeCode = -1;
    private String closeReason = "";

    private WebSocketConnection(SocketChannel channel) {
        this.channel = channel;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 64 * 1024));
    }

    /** Opens {@code path} on the agent and completes the upgrade. */
    public static WebSocketConnection open(Path socket, String path) {
        try {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            byte[] nonce = new byte[16];
            RANDOM.nextBytes(nonce);
            String head = "GET " + path + " HTTP/1.1\r\nHost: berth\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
            write(channel, head.getBytes(StandardCharsets.US_ASCII));
            WebSocketConnection ws = new WebSocketConnection(channel);
            String status = ws.line();
            if (!status.startsWith("HTTP/1.1 101")) {
                channel.close();
                throw new AgentClient.AgentException("the agent refused the WebSocket " + path + ": " + status,
                        status.contains(" 404") ? 404 : 500);
            }
            while (!ws.line().isEmpty()) {
                // headers of the upgrade
            }
            return ws;
        } catch (IOException e) {
            throw new AgentClient.AgentException("cannot reach berthd on " + socket + " (" + e.getMessage()
                    + "); is it running? start it with bin/berthd or systemctl start berthd", 0);
        }
    }

    /** The next whole message, or null once the agent closed (see {@link #closeCode()}). */
    public Message next() throws IOException {
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
                throw new IOException("a message of " + length + " bytes: not the agent's");
            }
            byte[] payload = new byte[(int) length];
            in.readFully(payload);
            boolean fin = (b0 & 0x80) != 0;
            int opcode = b0 & 0x0f;
            switch (opcode) {
                case 0x1, 0x2 -> {
                    if (fin) {
                        return new Message(opcode, payload);
                    }
                    fragmentOpcode = opcode;
                    fragments.reset();
                    fragments.write(payload);
                }
                case 0x0 -> {
                    fragments.write(payload);
                    if (fin) {
                        return new Message(fragmentOpcode, fragments.toByteArray());
                    }
                }
                case 0x8 -> {
                    closeCode = payload.length >= 2 ? (payload[0] & 0xff) << 8 | (payload[1] & 0xff) : 1005;
                    closeReason = payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
                    return null;
                }
                default -> {
                    // ping and pong: nothing to do
                }
            }
        }
    }

    public void sendText(String text) throws IOException {
        send(0x1, text.getBytes(StandardCharsets.UTF_8), 0, text.getBytes(StandardCharsets.UTF_8).length);
    }

    public void sendBinary(byte[] data, int offset, int length) throws IOException {
        send(0x2, data, offset, length);
    }

    private synchronized void send(int opcode, byte[] data, int offset, int length) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(length + 14);
        frame.put((byte) (0x80 | opcode));
        if (length < 126) {
            frame.put((byte) (0x80 | length));
        } else if (length < 65536) {
            frame.put((byte) (0x80 | 126)).putShort((short) length);
        } else {
            frame.put((byte) (0x80 | 127)).putLong(length);
        }
        byte[] mask = new byte[4];
        RANDOM.nextBytes(mask);
        frame.put(mask);
        for (int i = 0; i < length; i++) {
            frame.put((byte) (data[offset + i] ^ mask[i & 3]));
        }
        frame.flip();
        while (frame.hasRemaining()) {
            channel.write(frame);
        }
    }

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

    private static void write(SocketChannel channel, byte[] data) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(data);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all that is left to do
        }
    }
}
