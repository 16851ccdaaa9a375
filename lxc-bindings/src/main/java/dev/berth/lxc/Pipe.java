package dev.berth.lxc;

import dev.berth.lxc.ffm.Layouts;
import dev.berth.lxc.ffm.Liblxc;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A close-on-exec pipe(2) whose ends are raw fds, for handing to liblxc's attach. Each end is closed
 * at most once.
 */
final class Pipe implements AutoCloseable {

    private static final int BUFFER = 64 * 1024;

    private int readFd;
    private int writeFd;

    private Pipe(int readFd, int writeFd) {
        this.readFd = readFd;
        this.writeFd = writeFd;
    }

    static Pipe open() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(Layouts.C_INT, 2);
            int rc = (int) Liblxc.PIPE2.invokeExact(fds, Liblxc.O_CLOEXEC);
            if (rc != 0) {
                throw new UncheckedIOException(new IOException("pipe2 failed: out of file descriptors?"));
            }
            return new Pipe(fds.getAtIndex(Layouts.C_INT, 0), fds.getAtIndex(Layouts.C_INT, 1));
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    int readFd() {
        return readFd;
    }

    int writeFd() {
        return writeFd;
    }

    /** Hands the read end over to the caller, who closes it. */
    int takeRead() {
        int fd = readFd;
        readFd = -1;
        return fd;
    }

    /** Hands the write end over to the caller, who closes it. */
    int takeWrite() {
        int fd = writeFd;
        writeFd = -1;
        return fd;
    }

    void closeRead() {
        readFd = closeFd(readFd);
    }

    void closeWrite() {
        writeFd = closeFd(writeFd);
    }

    /** Copies everything from the read end to {@code sink} until end-of-file. */
    void drainTo(OutputStream sink) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(BUFFER);
            byte[] chunk = new byte[BUFFER];
            while (true) {
                long n = (long) Liblxc.READ.invokeExact(readFd, buffer, (long) BUFFER);
                if (n == 0) {
                    return;
                }
                if (n < 0) {
                    // EINTR is the only retryable error on a blocking pipe; anything else ends the stream.
                    continue;
                }
                MemorySegment.copy(buffer, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, chunk, 0, (int) n);
                sink.write(chunk, 0, (int) n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    /** Writes all of {@code data} to the write end, then closes it so the reader sees end-of-file. */
    void feed(byte[] data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buffer, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            long offset = 0;
            while (offset < data.length) {
                long n = (long) Liblxc.WRITE.invokeExact(writeFd, buffer.asSlice(offset), data.length - offset);
                if (n <= 0) {
                    break; // the command closed its stdin early (EPIPE): what it did not read is dropped
                }
                offset += n;
            }
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        } finally {
            closeWrite();
        }
    }

    @Override
    public void close() {
        readFd = closeFd(readFd);
        writeFd = closeFd(writeFd);
    }

    static int closeFd(int fd) {
        if (fd >= 0) {
            try {
                int ignored = (int) Liblxc.CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                throw Liblxc.rethrow(t);
            }
        }
        return -1;
    }
}
