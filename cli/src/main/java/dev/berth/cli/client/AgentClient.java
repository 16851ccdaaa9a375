package dev.berth.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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

    private final Endpoint endpoint;

    public AgentClient(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    public AgentClient(Path socket) {
        this(new Endpoint.Unix(socket));
    }

    /** The agent could not be reached (exit code 5): says where, why and what to try. */
    private AgentException unreachable(Endpoint.Connection connection, IOException e, String doing) {
        String underneath = connection == null ? "" : connection.diagnostic();
        String why = underneath.isEmpty() ? e.getMessage() : underneath;
        return new AgentException("cannot " + doing + " berthd on " + endpoint.describe() + " (" + why + "); " + endpoint.hint(), 0);
    }

    public Response get(String path) {
        return call("GET", path, null);
    }

    /** Sends a request; {@code body} is JSON text, or an object to encode, or null. */
    public Response call(String method, String path, Object body) {
        byte[] content = body == null ? new byte[0]
                : body instanceof String text ? text.getBytes(StandardCharsets.UTF_8) : Json.bytes(body);
        Endpoint.Connection connection = null;
        try (Endpoint.Connection open = endpoint.connect()) {
            connection = open;
            String head = method + " " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                    + (body == null ? "" : "Content-Type: application/json\r\n")
                    + "Content-Length: " + content.length + "\r\n\r\n";
            OutputStream out = open.out();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(content);
            out.flush();
            return parse(open.in().readAllBytes());
        } catch (IOException e) {
            throw unreachable(connection, e, "reach");
        }
    }

    /**
     * Sends {@code file} as the request body (streamed, never held in memory) with extra
     * {@code headers}; the agent's image import takes an archive this way.
     */
    public Response upload(String path, java.util.Map<String, String> headers, Path file) {
        Endpoint.Connection connection = null;
        try (java.nio.channels.FileChannel source = java.nio.channels.FileChannel.open(file);
             Endpoint.Connection open = endpoint.connect()) {
            connection = open;
            OutputStream out = open.out();
            StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: " + source.size() + "\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            out.write(head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
            try {
                java.nio.channels.Channels.newInputStream(source).transferTo(out);
                out.flush();
            } catch (IOException refused) {
                // the agent answered before taking the whole body (a bad name) and closed: read its answer
                byte[] answer = open.in().readAllBytes();
                if (answer.length == 0) {
                    throw refused;
                }
                return parse(answer);
            }
            return parse(open.in().readAllBytes());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new AgentException("no such file: " + file, 400);
        } catch (IOException e) {
            throw unreachable(connection, e, "send " + file + " to");
        }
    }

    /**
     * Sends {@code body} as a chunked request body of unknown length (a tar stream being made) with
     * extra {@code headers}.
     */
    public Response upload(String path, java.util.Map<String, String> headers, java.io.InputStream body) {
        Endpoint.Connection connection = null;
        try (Endpoint.Connection open = endpoint.connect()) {
            connection = open;
            OutputStream out = new java.io.BufferedOutputStream(open.out(), 64 * 1024);
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
            return parse(open.in().readAllBytes());
        } catch (IOException e) {
            throw unreachable(connection, e, "send to");
        }
    }

    /**
     * A GET whose body is streamed to {@code sink} (a file's content, a tar stream) rather than read as
     * JSON; returns the response headers, lower-cased. A 4xx/5xx is the agent's error as an exception.
     */
    public java.util.Map<String, String> download(String path, java.io.OutputStream sink) {
        Endpoint.Connection connection = null;
        try (Endpoint.Connection open = endpoint.connect()) {
            connection = open;
            open.out().write(("GET " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            open.out().flush();
            java.io.InputStream in = new java.io.BufferedInputStream(open.in(), 64 * 1024);
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
            throw unreachable(connection, e, "reach");
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

    private static Response parse(byte[] raw) throws IOException {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.1 ") || end < 0) {
            throw new IOException(raw.length == 0 ? "no answer" : "not an HTTP answer");
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
