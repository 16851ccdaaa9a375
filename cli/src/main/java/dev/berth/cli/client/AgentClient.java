package dev.berth.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * A small client of berthd's REST API on its Unix socket: HTTP/1.1, one connection per request (as
 * a command-line tool makes them), JSON in and out. No server framework on the class path, so that
 * the CLI starts fast.
 */
public final class AgentClient {

    /** An answer: the HTTP status and the JSON body. */
    public record Response(int status, JsonNode body) {

        /** The operation URL of a 202 answer. */
        public String operation() {
            if (status != 202 || !body.has("operation")) {
                throw new AgentException(body.path("error").asText("expected an operation, got HTTP " + status), status);
            }
            return body.get("operation").asText();
        }
    }

    /** The agent answered with an error, or could not be reached ({@code status} 0). */
    public static final class AgentException extends RuntimeException {
        private final int status;

        public AgentException(String message, int status) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Path socket;

    public AgentClient(Path socket) {
        this.socket = socket;
    }

    public Response get(String path) {
        return call("GET", path, null);
    }

    /** Sends a request; {@code body} is JSON text, or an object to encode, or null. */
    public Response call(String method, String path, Object body) {
        try {
            byte[] content = body == null ? new byte[0]
                    : body instanceof String text ? text.getBytes(StandardCharsets.UTF_8) : Json.bytes(body);
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                channel.connect(UnixDomainSocketAddress.of(socket));
                String head = method + " " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                        + (body == null ? "" : "Content-Type: application/json\r\n")
                        + "Content-Length: " + content.length + "\r\n\r\n";
                channel.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
                ByteBuffer payload = ByteBuffer.wrap(content);
                while (payload.hasRemaining()) {
                    channel.write(payload);
                }
                return parse(readAll(channel));
            }
        } catch (IOException e) {
            throw new AgentException("cannot reach berthd on " + socket + " (" + e.getMessage()
                    + "); is it running? start it with bin/berthd or systemctl start berthd", 0);
        }
    }

    /**
     * Sends {@code file} as the request body (streamed, never held in memory) with extra
     * {@code headers}; the agent's image import takes an archive this way.
     */
    public Response upload(String path, java.util.Map<String, String> headers, Path file) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
             java.nio.channels.FileChannel source = java.nio.channels.FileChannel.open(file)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: " + source.size() + "\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            channel.write(ByteBuffer.wrap(head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8)));
            long sent = 0;
            long size = source.size();
            while (sent < size) {
                sent += source.transferTo(sent, size - sent, channel);
            }
            return parse(readAll(channel));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new AgentException("no such file: " + file, 400);
        } catch (IOException e) {
            throw new AgentException("cannot send " + file + " to berthd on " + socket + " (" + e.getMessage()
                    + "); is it running? start it with bin/berthd or systemctl start berthd", 0);
        }
    }

    /**
     * Sends {@code body} as a chunked request body of unknown length (a tar stream being made) with
     * extra {@code headers}.
     */
    public Response upload(String path, java.util.Map<String, String> headers, java.io.InputStream body) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            java.io.OutputStream out = java.nio.channels.Channels.newOutputStream(channel);
            StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                    + "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            out.write(head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = body.read(buffer)) > 0; ) {
                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(buffer, 0, n);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return parse(readAll(channel));
        } catch (IOException e) {
            throw new AgentException("cannot send to berthd on " + socket + " (" + e.getMessage()
                    + "); is it running? start it with bin/berthd or systemctl start berthd", 0);
        }
    }

    /**
     * A GET whose body is streamed to {@code sink} (a file's content, a tar stream) rather than read as
     * JSON; returns the response headers, lower-cased. A 4xx/5xx is the agent's error as an exception.
     */
    public java.util.Map<String, String> download(String path, java.io.OutputStream sink) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            java.io.InputStream in = new java.io.BufferedInputStream(java.nio.channels.Channels.newInputStream(channel), 64 * 1024);
            String status = line(in);
            java.util.Map<String, String> headers = new java.util.HashMap<>();
            for (String h; !(h = line(in)).isEmpty(); ) {
                int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
            }
            int code = Integer.parseInt(status.substring(9, 12));
            boolean chunked = "chunked".equalsIgnoreCase(headers.get("transfer-encoding"));
            java.io.OutputStream target = code >= 400 ? new ByteArrayOutputStream() : sink;
            if (chunked) {
                for (int size; (size = Integer.parseInt(line(in).split(";")[0].strip(), 16)) > 0; ) {
                    byte[] chunk = in.readNBytes(size);
                    target.write(chunk);
                    line(in);
                }
            } else if (headers.containsKey("content-length")) {
                long left = Long.parseLong(headers.get("content-length"));
                byte[] buffer = new byte[64 * 1024];
                while (left > 0) {
                    int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                    if (n < 0) {
                        throw new IOException("the answer ended early");
                    }
                    target.write(buffer, 0, n);
                    left -= n;
                }
            } else {
                in.transferTo(target);
            }
            if (code >= 400) {
                byte[] error = ((ByteArrayOutputStream) target).toByteArray();
                JsonNode body = Json.parse(error);
                throw new AgentException(body.path("error").asText("HTTP " + code), code);
            }
            sink.flush();
            return headers;
        } catch (IOException e) {
            throw new AgentException("cannot reach berthd on " + socket + " (" + e.getMessage()
                    + "); is it running? start it with bin/berthd or systemctl start berthd", 0);
        }
    }

    private static String line(java.io.InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("the answer ended early");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    /** Waits for an operation to finish and returns it; {@code timeout} bounds the whole wait. */
    public JsonNode await(String operation, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toSeconds());
            JsonNode op = get(operation + "/wait?timeout=" + Math.min(left, 60)).body();
            String status = op.path("status").asText();
            if (!List.of("pending", "running").contains(status) || System.nanoTime() > deadline) {
                return op;
            }
        }
    }

    /** Sends a request that answers 202 and waits for its operation; fails unless it succeeded. */
    public JsonNode run(String method, String path, Object body, Duration timeout) {
        JsonNode op = await(call(method, path, body).operation(), timeout);
        if (!"success".equals(op.path("status").asText())) {
            throw new AgentException(op.path("error").asText("operation " + op.path("status").asText()), 500);
        }
        return op;
    }

    private static byte[] readAll(SocketChannel channel) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (channel.read(buffer) >= 0) {
            all.write(buffer.array(), 0, buffer.position());
            buffer.clear();
        }
        return all.toByteArray();
    }

    private static Response parse(byte[] raw) throws IOException {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.1 ") || end < 0) {
            throw new IOException("not an HTTP answer");
        }
        int status = Integer.parseInt(text.substring(9, 12));
        String headers = text.substring(0, end).toLowerCase(Locale.ROOT);
        byte[] body = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
        if (headers.contains("\r\ntransfer-encoding: chunked")) {
            body = dechunk(body);
        }
        return new Response(status, Json.parse(body));
    }

    private static byte[] dechunk(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        while (at < body.length) {
            int lineEnd = at;
            while (lineEnd + 1 < body.length && !(body[lineEnd] == '\r' && body[lineEnd + 1] == '\n')) {
                lineEnd++;
            }
            int size = Integer.parseInt(new String(body, at, lineEnd - at, StandardCharsets.US_ASCII).split(";")[0].strip(), 16);
            if (size == 0) {
                break;
            }
            out.write(body, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        return out.toByteArray();
    }
}
