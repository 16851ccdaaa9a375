package dev.berth.agent;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A plain HTTP/1.1 request over the agent's Unix socket, as any client (curl --unix-socket) sends it. */
public final class UnixHttp {

    private UnixHttp() {
    }

    /** A WebSocket client over the Unix socket: just enough of RFC 6455 to read the agent's text messages. */
    public static final class WebSocket implements AutoCloseable {
        private final SocketChannel channel;
        private final java.io.DataInputStream in;
        private int closeCode = -1;
        private final java.io.ByteArrayOutputStream fragments = new java.io.ByteArrayOutputStream();
        private int fragmentOpcode;

        private WebSocket(SocketChannel channel) {
            this.channel = channel;
            this.in = new java.io.DataInputStream(new java.io.BufferedInputStream(java.nio.channels.Channels.newInputStream(channel)));
        }

        /** Opens {@code path} and completes the upgrade handshake. */
        public static WebSocket open(Path socket, String path) throws Exception {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            String key = java.util.Base64.getEncoder().encodeToString("berth-test-key-16".substring(0, 16).getBytes(StandardCharsets.US_ASCII));
            String head = "GET " + path + " HTTP/1.1\r\nHost: berth\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
            channel.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            WebSocket ws = new WebSocket(channel);
            String status = ws.line();
            if (!status.startsWith("HTTP/1.1 101")) {
                channel.close();
                throw new IllegalStateException("no WebSocket upgrade: " + status);
            }
            while (!ws.line().isEmpty()) {
                // response headers
            }
            return ws;
        }

        /** A message: its opcode (1 text, 2 binary) and payload. */
        public record Frame(int opcode, byte[] payload) {
            public String text() {
                return new String(payload, StandardCharsets.UTF_8);
            }
        }

        /** The next text message (other messages and control frames are skipped), or null when the agent closed the stream. */
        public String next() throws Exception {
            while (true) {
                Frame frame = nextFrame();
                if (frame == null) {
                    return null;
                }
                if (frame.opcode() == 0x1) {
                    return frame.text();
                }
            }
        }

        /** The next text or binary message (control frames are skipped), or null when the agent closed the stream. */
        public Frame nextFrame() throws Exception {
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
                byte[] payload = new byte[(int) length];
                in.readFully(payload);
                int opcode = b0 & 0x0f;
                if (opcode == 0x8) {
                    closeCode = payload.length >= 2 ? (payload[0] & 0xff) << 8 | (payload[1] & 0xff) : 1005;
                    return null;
                }
                boolean fin = (b0 & 0x80) != 0;
                if (opcode == 0x1 || opcode == 0x2) {
                    if (fin) {
                        return new Frame(opcode, payload);
                    }
                    fragmentOpcode = opcode;
                    fragments.reset();
                    fragments.write(payload);
                } else if (opcode == 0x0) { // a continuation of a fragmented message
                    fragments.write(payload);
                    if (fin) {
                        return new Frame(fragmentOpcode, fragments.toByteArray());
                    }
                }
            }
        }

        public void sendText(String text) throws Exception {
            send(0x1, text.getBytes(StandardCharsets.UTF_8));
        }

        public void sendBinary(byte[] data) throws Exception {
            send(0x2, data);
        }

        /** One masked frame, as a client must send. */
        private synchronized void send(int opcode, byte[] payload) throws Exception {
            java.io.ByteArrayOutputStream frame = new java.io.ByteArrayOutputStream();
            frame.write(0x80 | opcode);
            if (payload.length < 126) {
                frame.write(0x80 | payload.length);
            } else if (payload.length < 65536) {
                frame.write(0x80 | 126);
                frame.write(payload.length >> 8);
                frame.write(payload.length & 0xff);
            } else {
                frame.write(0x80 | 127);
                frame.write(java.nio.ByteBuffer.allocate(8).putLong(payload.length).array());
            }
            byte[] mask = {0x12, 0x34, 0x56, 0x78};
            frame.write(mask);
            for (int i = 0; i < payload.length; i++) {
                frame.write(payload[i] ^ mask[i & 3]);
            }
            ByteBuffer out = ByteBuffer.wrap(frame.toByteArray());
            while (out.hasRemaining()) {
                channel.write(out);
            }
        }

        /** The code of the agent's close frame, once {@link #next} has returned null on one; else -1. */
        public int closeCode() {
            return closeCode;
        }

        private String line() throws Exception {
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != '\n' && c >= 0; ) {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }

        @Override
        public void close() throws Exception {
            channel.close();
        }
    }

    /** Sends a request that answers 202 and waits on its operation; returns the operation's final JSON. */
    public static String awaitOperation(Path socket, String method, String path, String body) throws Exception {
        String accepted = request(socket, method, path, body);
        java.util.regex.Matcher op = java.util.regex.Pattern.compile("\"operation\":\"([^\"]+)\"").matcher(accepted);
        if (!accepted.startsWith("HTTP/1.1 202") || !op.find()) {
            throw new AssertionError("expected a 202 with an operation, got: " + accepted);
        }
        return request(socket, "GET", op.group(1) + "/wait?timeout=60", null);
    }

    /** POSTs {@code file} as an archive body, streamed from disk; returns the raw response. */
    public static String upload(Path socket, String path, Path file) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
             java.nio.channels.FileChannel in = java.nio.channels.FileChannel.open(file)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            String head = "POST " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                    + "Content-Type: application/octet-stream\r\nX-Berth-Filename: " + file.getFileName()
                    + "\r\nContent-Length: " + in.size() + "\r\n\r\n";
            channel.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            for (long at = 0; at < in.size(); ) {
                at += in.transferTo(at, in.size() - at, channel);
            }
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            while (channel.read(buffer) > 0) {
                // until the agent closes the connection
            }
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
        }
    }

    /** The whole raw response, status line and headers included. */
    public static String request(Path socket, String method, String path, String body) throws Exception {
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            String head = method + " " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + content.length + "\r\n\r\n";
            channel.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            channel.write(ByteBuffer.wrap(content));
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            while (channel.read(buffer) > 0) {
                // until the agent closes the connection
            }
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
        }
    }
}
