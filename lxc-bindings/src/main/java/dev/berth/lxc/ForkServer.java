package dev.berth.lxc;

import static dev.berth.lxc.ffm.Layouts.CMSGHDR;
import static dev.berth.lxc.ffm.Layouts.C_INT;
import static dev.berth.lxc.ffm.Layouts.IOVEC;
import static dev.berth.lxc.ffm.Layouts.MSGHDR;
import static dev.berth.lxc.ffm.Layouts.SOCKADDR_UN;

import dev.berth.lxc.ffm.Liblxc;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The client of {@code berth-forkd} (src/main/c), the small process in which liblxc's forking calls
 * run: daemonized start, attach (spawn) and clone. One server per JVM, started on first use, restarted if it dies,
 * and gone when the JVM is (it exits when its stdin closes). Each request is one connection; the
 * server forks per request, so requests from many threads run in parallel.
 */
final class ForkServer {

    /** Outcome of a request: its status and, on failure, liblxc's error string. */
    record Reply(int status, String error) {
    }

    private static final int MAX_REPLY = 1024;
    private static Process server;
    private static Path socket;

    private ForkServer() {
    }

    /** Starts a container daemonized: 0 RUNNING, 1 failed (see its log), 3 not defined. */
    static Reply start(Path lxcpath, String name, Path logFile) {
        return call(List.of("start", lxcpath.toString(), name, logFile.toString()), null);
    }

    /** Clones a stopped container: 0 done, 1 failed (see the source's log). */
    static Reply cloneTo(Path lxcpath, String name, Path newPath, String newName, int flags, String backingStore) {
        return call(List.of("clone", lxcpath.toString(), name, newPath.toString(), newName, Integer.toString(flags),
                backingStore == null ? "" : backingStore), null);
    }

    private static Reply call(List<String> fields, int[] fds) {
        Reply reply = attempt(fields, fds);
        if (reply == null) {
            // The server was gone (killed, or crashed): it has been restarted; the request never reached it.
            reply = attempt(fields, fds);
        }
        if (reply == null) {
            throw new IllegalStateException("berth-forkd does not accept connections, even after a restart");
        }
        return reply;
    }

    /** One request; null when the server did not accept the connection (it is restarted for the next try). */
    private static Reply attempt(List<String> fields, int[] fds) {
        int fd = send(fields, fds);
        if (fd < 0) {
            return null;
        }
        try {
            return receive(fd, fields.getFirst());
        } finally {
            closeFd(fd);
        }
    }

    /**
     * Connects and sends one request; returns the connection, or -1 when the server did not accept it
     * (it has been restarted).
     */
    private static int send(List<String> fields, int[] fds) {
        Path path = socket();
        int fd = -1;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) Liblxc.SOCKET.invokeExact(Liblxc.AF_UNIX, Liblxc.SOCK_SEQPACKET | Liblxc.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new IllegalStateException("socket(AF_UNIX) failed: out of file descriptors?");
            }
            MemorySegment address = arena.allocate(SOCKADDR_UN);
            address.set(ValueLayout.JAVA_SHORT, 0, (short) Liblxc.AF_UNIX);
            byte[] pathBytes = path.toString().getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(pathBytes, 0, address, ValueLayout.JAVA_BYTE, 2, pathBytes.length);
            int connected = (int) Liblxc.CONNECT.invokeExact(fd, address, (int) SOCKADDR_UN.byteSize());
            if (connected != 0) {
                closeFd(fd);
                restart();
                return -1;
            }
            long sent = (long) Liblxc.SENDMSG.invokeExact(fd, message(arena, fields, fds), Liblxc.MSG_NOSIGNAL);
            if (sent < 0) {
                throw new IllegalStateException("cannot send a request to berth-forkd");
            }
            return fd;
        } catch (Throwable t) {
            closeFd(fd);
            throw Liblxc.rethrow(t);
        }
    }

    /** Reads one reply message from a connection. */
    private static Reply receive(int fd, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(MAX_REPLY);
            long received = (long) Liblxc.RECV.invokeExact(fd, buffer, (long) MAX_REPLY, 0);
            if (received <= 0) {
                throw new IllegalStateException("berth-forkd closed the connection without an answer to " + what);
            }
            String text = new String(buffer.asSlice(0, received).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            int newline = text.indexOf('\n');
            String error = text.substring(newline + 1);
            return new Reply(Integer.parseInt(text.substring(0, newline)), error.isBlank() ? null : error.strip());
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    private static void closeFd(int fd) {
        if (fd >= 0) {
            try {
                int ignored = (int) Liblxc.CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                throw Liblxc.rethrow(t);
            }
        }
    }

    /** A command started by {@link #spawn}: its host pid, and the connection on which its end is reported. */
    record Spawned(int pid, int connection) {
    }

    /**
     * Starts a command in a container and returns at once with its pid; {@link #awaitSpawned} gives its
     * wait status. With {@code tty}, the command gets a new session with stdin as its controlling terminal.
     */
    static Spawned spawn(Path lxcpath, String name, LxcCommand command, List<String> env, int[] stdio, boolean tty) {
        List<String> fields = new ArrayList<>(List.of("spawn", lxcpath.toString(), name,
                command.cwd() == null ? "" : command.cwd(), Integer.toString(command.uid()),
                Integer.toString(command.gid()), tty ? "1" : "0", Integer.toString(env.size())));
        fields.addAll(env);
        fields.addAll(command.argv());
        int fd = send(fields, stdio);
        if (fd < 0) {
            fd = send(fields, stdio);
        }
        if (fd < 0) {
            throw new IllegalStateException("berth-forkd does not accept connections, even after a restart");
        }
        Reply started = receive(fd, "spawn");
        if (started.status() <= 0) {
            closeFd(fd);
            throw new IllegalStateException(started.error() == null ? "cannot start the command" : started.error());
        }
        return new Spawned(started.status(), fd);
    }

    /** Blocks until the spawned command ends; its raw wait status, or -1. Closes the connection. */
    static Reply awaitSpawned(Spawned spawned) {
        try {
            return receive(spawned.connection(), "spawn");
        } finally {
            closeFd(spawned.connection());
        }
    }

    /** A {@code struct msghdr} carrying the NUL-separated fields and, if any, three fds as SCM_RIGHTS. */
    private static MemorySegment message(Arena arena, List<String> fields, int[] fds) {
        StringBuilder body = new StringBuilder();
        for (String field : fields) {
            if (field.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("a NUL byte in " + field);
            }
            body.append(field).append('\0');
        }
        MemorySegment data = arena.allocateFrom(body.toString());
        MemorySegment iov = arena.allocate(IOVEC);
        IOVEC.varHandle(PathElement.groupElement("iov_base")).set(iov, 0L, data);
        IOVEC.varHandle(PathElement.groupElement("iov_len")).set(iov, 0L, data.byteSize() - 1);
        MemorySegment msg = arena.allocate(MSGHDR);
        MSGHDR.varHandle(PathElement.groupElement("msg_iov")).set(msg, 0L, iov);
        MSGHDR.varHandle(PathElement.groupElement("msg_iovlen")).set(msg, 0L, 1L);
        if (fds != null) {
            long dataLength = C_INT.byteSize() * fds.length;
            MemorySegment control = arena.allocate(CMSGHDR.byteSize() + ((dataLength + 7) & ~7L), 8);
            CMSGHDR.varHandle(PathElement.groupElement("cmsg_len")).set(control, 0L, CMSGHDR.byteSize() + dataLength);
            CMSGHDR.varHandle(PathElement.groupElement("cmsg_level")).set(control, 0L, Liblxc.SOL_SOCKET);
            CMSGHDR.varHandle(PathElement.groupElement("cmsg_type")).set(control, 0L, Liblxc.SCM_RIGHTS);
            for (int i = 0; i < fds.length; i++) {
                control.set(C_INT, CMSGHDR.byteSize() + i * C_INT.byteSize(), fds[i]);
            }
            MSGHDR.varHandle(PathElement.groupElement("msg_control")).set(msg, 0L, control);
            MSGHDR.varHandle(PathElement.groupElement("msg_controllen")).set(msg, 0L, control.byteSize());
        }
        return msg;
    }

    private static synchronized Path socket() {
        if (server == null || !server.isAlive()) {
            launch();
        }
        return socket;
    }

    private static synchronized void restart() {
        if (server != null) {
            server.destroy();
        }
        server = null;
    }

    private static void launch() {
        try {
            Path dir = Files.createTempDirectory("berth-forkd-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path helper = helper(dir);
            Path sock = dir.resolve("sock");
            Process process = new ProcessBuilder(helper.toString(), sock.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            if (!"ready".equals(line)) {
                process.destroyForcibly();
                throw new IllegalStateException("berth-forkd did not start (said: " + line + ")");
            }
            if (helper.startsWith(dir)) {
                Files.delete(helper); // the running server keeps its inode; the directory empties itself on exit
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                process.destroy();
                try {
                    process.waitFor(2, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
                try (var files = Files.list(dir)) {
                    for (Path file : files.toList()) {
                        Files.deleteIfExists(file);
                    }
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // a temp directory left behind holds nothing of value
                }
            }, "berth-forkd-stop"));
            server = process;
            socket = sock;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start berth-forkd", e);
        }
    }

    /** The server binary: as built into target/classes, or copied out of the jar into {@code dir}. */
    private static Path helper(Path dir) throws IOException {
        URL url = ForkServer.class.getResource("libexec/berth-forkd");
        if (url == null) {
            throw new IllegalStateException("berth-forkd is missing from the lxc-bindings build (it is compiled"
                    + " with gcc against lxc-dev; run ./scripts/setup.sh, then rebuild)");
        }
        if (url.getProtocol().equals("file")) {
            try {
                Path built = Path.of(url.toURI());
                if (!Files.isExecutable(built) && !built.toFile().setExecutable(true)) {
                    throw new IllegalStateException(built + " is not executable");
                }
                return built;
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        Path copy = dir.resolve("berth-forkd");
        try (InputStream in = url.openStream()) {
            Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwx------"));
        return copy;
    }
}
