package dev.berth.cli.client;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where the agent is: its Unix socket on this host, or one on another host reached through SSH (as
 * Docker's {@code ssh://} hosts are: {@code ssh HOST berth dial-stdio} carries the bytes, and SSH does
 * the authentication and encryption). Each request opens a connection of its own.
 */
public sealed interface Endpoint permits Endpoint.Unix, Endpoint.Ssh {

    /** One byte stream to the agent. */
    interface Connection extends Closeable {
        InputStream in();

        OutputStream out();

        /** What went wrong underneath, if anything did (SSH's own error), for messages; else "". */
        default String diagnostic() {
            return "";
        }
    }

    Connection connect() throws IOException;

    /** The endpoint in messages: a socket path or an {@code ssh://} address. */
    String describe();

    /** What to try when the agent cannot be reached. */
    String hint();

    /** The agent's socket on this host. */
    record Unix(Path socket) implements Endpoint {
        @Override
        public Connection connect() throws IOException {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                channel.close();
                throw e;
            }
            InputStream in = Channels.newInputStream(channel);
            // writes straight to the channel: a reader thread blocked in read() must not hold them up
            OutputStream out = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
                    }
                }
            };
            return new Connection() {
                @Override
                public InputStream in() {
                    return in;
                }

                @Override
                public OutputStream out() {
                    return out;
                }

                @Override
                public void close() throws IOException {
                    channel.close();
                }
            };
        }

        @Override
        public String describe() {
            return socket.toString();
        }

        @Override
        public String hint() {
            return "is it running? start it with bin/berthd or systemctl start berthd";
        }
    }

    /**
     * An agent on another host: {@code ssh [-p PORT] [OPTIONS] DESTINATION -- COMMAND --socket SOCKET dial-stdio}.
     * SSH runs non-interactively ({@code BatchMode}): keys or an agent, never a password prompt.
     */
    record Ssh(String destination, Integer port, String socket, String command, List<String> options) implements Endpoint {
        public Ssh {
            options = List.copyOf(options);
        }

        public List<String> argv() {
            List<String> argv = new ArrayList<>(List.of("ssh", "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"));
            if (port != null) {
                argv.addAll(List.of("-p", port.toString()));
            }
            argv.addAll(options);
            argv.add(destination);
            argv.add("--");
            // the remote side runs it through its shell: each word quoted
            for (String word : List.of(command, "--socket", socket, "dial-stdio")) {
                argv.add("'" + word.replace("'", "'\\''") + "'");
            }
            return argv;
        }

        @Override
        public Connection connect() throws IOException {
            Process process = new ProcessBuilder(argv()).start();
            ByteArrayOutputStream stderr = new ByteArrayOutputStream();
            Thread drain = Thread.ofVirtual().start(() -> {
                try (InputStream err = process.getErrorStream()) {
                    byte[] buffer = new byte[4096];
                    for (int n; (n = err.read(buffer)) > 0; ) {
                        synchronized (stderr) {
                            if (stderr.size() < 16 * 1024) {
                                stderr.write(buffer, 0, n);
                            }
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
            return new Connection() {
                @Override
                public InputStream in() {
                    return process.getInputStream();
                }

                @Override
                public OutputStream out() {
                    return process.getOutputStream();
                }

                @Override
                public String diagnostic() {
                    try {
                        if (process.waitFor(2, TimeUnit.SECONDS)) {
                            drain.join(1000);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    String text;
                    synchronized (stderr) {
                        text = stderr.toString(StandardCharsets.UTF_8).strip();
                    }
                    List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
                    String last = lines.isEmpty() ? "" : lines.getLast();
                    return process.isAlive() ? last : ("ssh exited with " + process.exitValue() + (last.isEmpty() ? "" : ": " + last));
                }

                @Override
                public void close() {
                    try {
                        process.getOutputStream().close();
                    } catch (IOException e) {
                        // already gone
                    }
                    process.destroy();
                }
            };
        }

        @Override
        public String describe() {
            return "ssh://" + destination + (port == null ? "" : ":" + port) + socket;
        }

        @Override
        public String hint() {
            return "check it with: ssh " + (port == null ? "" : "-p " + port + " ") + destination + " " + command + " version";
        }
    }
}
