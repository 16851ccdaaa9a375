package dev.berth.lxc;

import dev.berth.lxc.ffm.Layouts;
import dev.berth.lxc.ffm.Liblxc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A close-on-exec pipe(2) whose ends are raw fds, for handing to liblxc's attach. Each end is closed
 * at most once.
 */
final class Pipe implements AutoCloseable {

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
