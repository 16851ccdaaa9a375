package dev.berth.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.StandardProtocolFamily;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Makes {@code bin/berth} start fast: the launcher runs this once after each build to prepare a JDK
 * AOT cache (JEP 483: classes loaded and linked ahead of time), then starts berth with it.
 * <ul>
 *   <li>{@code upgrade IN.jar OUT.jar}: the JVM keeps no class older than Java 6 in an AOT cache, and
 *   picocli's jar is built for Java 5 (so its 200-odd classes were loaded and verified on every run).
 *   This writes a copy with class-file version 52 and stack maps computed by the JDK's class-file API;
 *   the code itself is unchanged.</li>
 *   <li>{@code train}: the training run, with {@code -XX:AOTCacheOutput}: the commands people run most,
 *   against a throw-away responder on a temporary Unix socket that answers as berthd does, so the
 *   cache holds the classes of the whole path (model, request, JSON, table) without needing an agent.</li>
 * </ul>
 */
public final class StartupCache {

    private StartupCache() {
    }

    public static void main(String[] args) throws Exception {
        switch (args.length > 0 ? args[0] : "") {
            case "upgrade" -> upgrade(Path.of(args[1]), Path.of(args[2]));
            case "train" -> train();
            default -> {
                System.err.println("usage: StartupCache upgrade IN.jar OUT.jar | train");
                System.exit(2);
            }
        }
    }

    /** A copy of {@code in} whose classes are version 52 with stack maps (written whole, then renamed). */
    static void upgrade(Path in, Path out) throws IOException {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {in.toUri().toURL()}, null)) {
            ClassFile classFile = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                    ClassFile.ClassHierarchyResolverOption.of(ClassHierarchyResolver.defaultResolver()
                            .orElse(ClassHierarchyResolver.ofResourceParsing(loader))));
            ClassTransform toJava8 = ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                    .andThen((builder, element) -> {
                        if (element instanceof ClassFileVersion version) {
                            builder.withVersion(Math.max(52, version.majorVersion()), 0);
                        } else {
                            builder.with(element);
                        }
                    });
            Path temp = out.resolveSibling(out.getFileName() + ".tmp");
            try (ZipInputStream zin = new ZipInputStream(Files.newInputStream(in));
                 ZipOutputStream zout = new ZipOutputStream(Files.newOutputStream(temp))) {
                for (ZipEntry entry; (entry = zin.getNextEntry()) != null; ) {
                    byte[] bytes = zin.readAllBytes();
                    String name = entry.getName();
                    if (name.endsWith(".class") && !name.endsWith("module-info.class") && !name.startsWith("META-INF/")) {
                        bytes = classFile.transformClass(classFile.parse(bytes), toJava8);
                    }
                    zout.putNextEntry(new ZipEntry(name));
                    zout.write(bytes);
                    zout.closeEntry();
                }
            }
            Files.move(temp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** The commands of the training run; their output is thrown away. */
    private static final List<List<String>> TRAINING = List.of(
            List.of("list"), List.of("list", "--format", "json"), List.of("list", "--format", "csv"), List.of("list", "state=running"),
            List.of("list", "--names"), List.of("info", "c1"), List.of("version"), List.of("--version"), List.of("--help"),
            List.of("launch", "--help"), List.of("profile", "list"), List.of("image", "list"), List.of("operation", "list"),
            List.of("start", "c1"), List.of("exec", "--help"), List.of("nosuchcommand"));

    static void train() throws Exception {
        Path dir = Files.createTempDirectory("berth-train");
        Path socket = dir.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread responder = Thread.ofPlatform().daemon().start(() -> respond(server));
            PrintWriter sink = new PrintWriter(OutputStream.nullOutputStream());
            for (List<String> command : TRAINING) {
                String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("--socket", socket.toString(), "-q"),
                        command.stream()).toArray(String[]::new);
                var cmd = Berth.commandLine(args);
                cmd.setOut(sink);
                cmd.setErr(sink);
                cmd.execute(args);
            }
            responder.interrupt();
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static void respond(ServerSocketChannel server) {
        while (server.isOpen()) {
            try (SocketChannel channel = server.accept()) {
                InputStream in = Channels.newInputStream(channel);
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    head.append((char) b);
                }
                String requestLine = head.toString().lines().findFirst().orElse("");
                int length = 0;
                for (String line : head.toString().split("\r\n")) {
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Integer.parseInt(line.substring(15).strip());
                    }
                }
                in.readNBytes(length);
                String body = answer(requestLine);
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                String status = requestLine.startsWith("PUT") ? "202 Accepted" : "200 OK";
                channel.write(ByteBuffer.wrap(("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: "
                        + bytes.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
                channel.write(ByteBuffer.wrap(bytes));
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Answers shaped as berthd's, enough to take every trained command down its usual path. */
    private static String answer(String requestLine) {
        String path = requestLine.split(" ").length > 1 ? requestLine.split(" ")[1] : "/";
        String container = """
                {"name":"c%d","status":"RUNNING","image":"37d5a6e099c6f8ddd0965f1705ae2535111d516d9437e010b536731de1021da9",\
                "profiles":["default"],"created":"2026-01-01T00:00:00Z","pid":%d,"address":"10.87.0.%d","forwards":[],"ephemeral":false}""";
        if (path.startsWith("/1.0/containers?recursion=1")) {
            StringBuilder all = new StringBuilder("[");
            for (int i = 1; i <= 30; i++) {
                all.append(i > 1 ? "," : "").append(container.formatted(i, 1000 + i, 10 + i));
            }
            return all.append("]").toString();
        }
        if (path.equals("/1.0/containers")) {
            return "[\"/1.0/containers/c1\",\"/1.0/containers/c2\"]";
        }
        if (path.endsWith("/state") && requestLine.startsWith("PUT")) {
            return "{\"type\":\"async\",\"operation\":\"/1.0/operations/x\"}";
        }
        if (path.startsWith("/1.0/operations/x")) {
            return "{\"id\":\"x\",\"status\":\"success\",\"description\":\"start\",\"metadata\":{}}";
        }
        if (path.endsWith("/state")) {
            return "{\"status\":\"RUNNING\",\"pid\":1001,\"memoryUsage\":1048576,\"memoryLimit\":0,\"processes\":3,\"addresses\":[\"10.87.0.11\"]}";
        }
        if (path.startsWith("/1.0/containers/")) {
            return container.formatted(1, 1001, 11);
        }
        if (path.equals("/1.0")) {
            return "{\"version\":\"0.1.0\",\"liblxc\":\"5.0.2\",\"hostname\":\"host\"}";
        }
        return "[]";
    }
}
