package dev.berth.lxc;

import dev.berth.lxc.ffm.Liblxc;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A command running inside a container, started by {@link LxcContainer#spawn}: its standard streams
 * as Java streams (or one pseudo-terminal for all three), its pid, and its end. Reads and writes
 * block the calling thread (use platform threads: a native read pins a virtual one). Close it once
 * done; closing does not stop the command, {@link #signal} does.
 */
public final class LxcProcess implements AutoCloseable {

    private final String container;
    private final ForkServer.Spawned spawned;
    private final boolean tty;
    private final AtomicInteger stdinFd;
    private final AtomicInteger stdoutFd;
    private final AtomicInteger stderrFd;
    private volatile Integer status;

    LxcProcess(String container, ForkServer.Spawned spawned, boolean tty, int stdinFd, int stdoutFd, int stderrFd) {
        this.container = container;
        this.spawned = spawned;
        this.tty = tty;
        this.stdinFd = new AtomicInteger(stdinFd);
        this.stdoutFd = new AtomicInteger(stdoutFd);
        this.stderrFd = new AtomicInteger(stderrFd);
    }

    /** The command's pid on the host. */
    public int pid() {
        return spawned.pid();
    }

    /** Whether its stdio is a pseudo-terminal (then stderr comes through {@link #stdout()}). */
    public boolean tty() {
        return tty;
    }

    /** What is written here is the command's standard input (the terminal's input, with a tty). */
    public OutputStream stdin() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                int fd = stdinFd.get();
                if (fd < 0) {
                    throw new IOException("the command's input is closed");
                }
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buffer = arena.allocate(Math.max(1, len));
                    MemorySegment.copy(b, off, buffer, ValueLayout.JAVA_BYTE, 0, len);
                    long done = 0;
                    while (done < len) {
                        long n = (long) Liblxc.WRITE.invokeExact(fd, buffer.asSlice(done), len - done);
                        if (n <= 0) {
                            throw new IOException("the command no longer reads its input");
                        }
                        done += n;
                    }
                } catch (IOException e) {
                    throw e;
                } catch (Throwable t) {
                    throw Liblxc.rethrow(t);
                }
            }
        };
    }

    /**
     * Ends the command's input: closes the pipe, or with a tty sends the terminal's end-of-file
     * character (the terminal stays open for the output).
     */
    public void closeStdin() throws IOException {
        if (tty) {
            stdin().write(4);
        } else {
            closeFd(stdinFd);
        }
    }

    /** The command's standard output (with a tty: everything the terminal shows). */
    public InputStream stdout() {
        return stream(stdoutFd);
    }

    /** The command's standard error; empty with a tty. */
    public InputStream stderr() {
        return tty ? InputStream.nullInputStream() : stream(stderrFd);
    }

    private InputStream stream(AtomicInteger fdHolder) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                int fd = fdHolder.get();
                if (fd < 0 || len == 0) {
                    return fd < 0 ? -1 : 0;
                }
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buffer = arena.allocate(len);
                    while (true) {
                        long n = (long) Liblxc.READ.invokeExact(fd, buffer, (long) len);
                        if (n > 0) {
                            MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, 0, b, off, (int) n);
                            return (int) n;
                        }
                        if (n == 0 || tty) {
                            return -1; // end of file; a pty master reads EIO once the terminal's last user is gone
                        }
                        // EINTR: read again
                    }
                } catch (Throwable t) {
                    throw Liblxc.rethrow(t);
                }
            }
        };
    }

    /** Sets the terminal's size (a no-op without a tty); the command gets SIGWINCH. */
    public void resize(int columns, int rows) {
        if (!tty || stdinFd.get() < 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(8, 2);
            size.set(ValueLayout.JAVA_SHORT, 0, (short) rows);
            size.set(ValueLayout.JAVA_SHORT, 2, (short) columns);
            int ignored = (int) Liblxc.IOCTL_PTR.invokeExact(stdinFd.get(), Liblxc.TIOCSWINSZ, size);
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    /** Sends {@code signal} to the command (not to what it started). */
    public void signal(int signal) {
        if (status != null) {
            return; // gone: its pid may be another process's by now
        }
        try {
            int ignored = (int) Liblxc.KILL.invokeExact(pid(), signal);
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    /** Blocks until the command ends: its exit code, or 128 + the signal that killed it. */
    public int waitFor() {
        Integer known = status;
        if (known != null) {
            return known;
        }
        synchronized (this) {
            if (status == null) {
                ForkServer.Reply reply = ForkServer.awaitSpawned(spawned);
                if (reply.status() < 0) {
                    throw new LxcException.OperationFailed(container, "wait for command " + pid(), java.util.List.of());
                }
                status = LxcContainer.decodeWaitStatus(reply.status());
            }
            return status;
        }
    }

    /** Closes the streams (the command sees end-of-file on its input and a broken pipe on its output). */
    @Override
    public void close() {
        closeFd(stdinFd);
        if (!tty) {
            closeFd(stdoutFd);
            closeFd(stderrFd);
        } else {
            stdoutFd.set(-1); // the same fd as stdin, closed above
        }
    }

    private static void closeFd(AtomicInteger holder) {
        int fd = holder.getAndSet(-1);
        if (fd >= 0) {
            try {
                int ignored = (int) Liblxc.CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                throw Liblxc.rethrow(t);
            }
        }
    }

    /**
     * Opens a pseudo-terminal pair in the devpts of the container whose init is {@code initPid}
     * ({@code /proc/<pid>/root/dev/pts/ptmx}), as LXD does, so that inside it is one of the
     * container's own {@code /dev/pts/N} ({@code tty} names it); the slave comes from the master
     * ({@code TIOCGPTPEER}), never by a name looked up on the host. Falls back to the host's devpts.
     */
    static int[] openPty(int initPid) {
        if (initPid > 0) {
            for (String ptmx : new String[] {"/proc/" + initPid + "/root/dev/pts/ptmx", "/proc/" + initPid + "/root/dev/ptmx"}) {
                try (Arena arena = Arena.ofConfined()) {
                    int master = (int) Liblxc.OPEN.invokeExact(arena.allocateFrom(ptmx), Liblxc.O_RDWR | Liblxc.O_NOCTTY | Liblxc.O_CLOEXEC, 0);
                    if (master < 0) {
                        continue;
                    }
                    int slave = -1;
                    if ((int) Liblxc.UNLOCKPT.invokeExact(master) == 0) {
                        slave = (int) Liblxc.IOCTL_PTR.invokeExact(master, Liblxc.TIOCGPTPEER,
                                MemorySegment.ofAddress(Liblxc.O_RDWR | Liblxc.O_NOCTTY | Liblxc.O_CLOEXEC));
                    }
                    if (slave >= 0) {
                        return new int[] {master, slave};
                    }
                    int ignored = (int) Liblxc.CLOSE.invokeExact(master);
                } catch (Throwable t) {
                    throw Liblxc.rethrow(t);
                }
            }
        }
        return openPty();
    }

    /** Opens a pseudo-terminal pair on the host's devpts: {master, slave}. */
    static int[] openPty() {
        try (Arena arena = Arena.ofConfined()) {
            int master = (int) Liblxc.POSIX_OPENPT.invokeExact(Liblxc.O_RDWR | Liblxc.O_NOCTTY | Liblxc.O_CLOEXEC);
            if (master < 0) {
                throw new IllegalStateException("posix_openpt failed: is /dev/pts mounted?");
            }
            MemorySegment name = arena.allocate(128);
            if ((int) Liblxc.GRANTPT.invokeExact(master) != 0 || (int) Liblxc.UNLOCKPT.invokeExact(master) != 0
                    || (int) Liblxc.PTSNAME_R.invokeExact(master, name, 128L) != 0) {
                int ignored = (int) Liblxc.CLOSE.invokeExact(master);
                throw new IllegalStateException("cannot set up a pseudo-terminal");
            }
            int slave = (int) Liblxc.OPEN.invokeExact(name, Liblxc.O_RDWR | Liblxc.O_NOCTTY | Liblxc.O_CLOEXEC, 0);
            if (slave < 0) {
                int ignored = (int) Liblxc.CLOSE.invokeExact(master);
                throw new IllegalStateException("cannot open the pseudo-terminal " + name.getString(0));
            }
            return new int[] {master, slave};
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }
}
