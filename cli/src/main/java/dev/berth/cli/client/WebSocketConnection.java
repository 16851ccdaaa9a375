package dev.berth.cli.client;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The client side of RFC 6455 over a connection to the agent (its Unix socket, or SSH), as much as the CLI needs: the upgrade,
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

    private final Endpoint.Connection connection;
    private final java.io.OutputStream out;
    private final DataInputStream in;
    private final ByteArrayOutputStream fragments = new ByteArrayOutputStream();
    private int fragmentOpcode;
    private int closeCode = -1;
    private String closeReason = "";

    private WebSocketConnection(Endpoint.Connection connection) {
        this.connection = connection;
        this.out = connection.out();
        this.in = new DataInputStream(new BufferedInputStream(connection.in(), 64 * 1024));
    }

    /** Opens {@code path} on the agent and completes the upgrade. */
    public static WebSocketConnection open(Endpoint endpoint, String path) {
        Endpoint.Connection connection = null;
        try {
            connection = endpoint.connect();
            byte[] nonce = new byte[16];
            RANDOM.nextBytes(nonce);
            String head = "GET " + path + " HTTP/1.1\r\nHost: berth\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
            connection.out().write(head.getBytes(StandardCharsets.US_ASCII));
            connection.out().flush();
            WebSocketConnection ws = new WebSocketConnection(connection);
            String status = ws.line();
            if (status.isEmpty()) {
                throw new IOException("no answer");
            }
            if (!status.startsWith("HTTP/1.1 101")) {
                connection.close();
                throw new AgentClient.AgentException("the agent refused the WebSocket " + path + ": " + status,
                        status.contains(" 404") ? 404 : 500);
            }
            while (!ws.line().isEmpty()) {
                // headers of the upgrade
            }
            return ws;
        } catch (IOException e) {
            String underneath = connection == null ? "" : connection.diagnostic();
            if (connection != null) {
                try {
                    connection.close();
                } catch (IOException ignored) {
                    // reported below
                }
            }
            throw new AgentClient.AgentException("cannot reach berthd on " + endpoint.describe() + " ("
                    + (underneath.isEmpty() ? e.getMessage() : underneath) + "); " + endpoint.hint(), 0);
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
        out.write(frame.array(), 0, frame.position());
        out.flush();
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

    @Override
    public void close() {
        try {
            connection.close();
        } catch (IOException ignored) {
            // closing is all that is left to do
        }
    }
}
