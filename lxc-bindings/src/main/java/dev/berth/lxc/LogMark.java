package dev.berth.lxc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The end of a container's liblxc log at the start of a call, so that the ERROR lines liblxc writes
 * during the call can be quoted in the exception. The file is held open: a failed create or a destroy
 * unlinks the container directory, and the lines must survive that.
 */
final class LogMark implements AutoCloseable {

    private static final int MAX_LINES = 20;
    private static final long MAX_BYTES = 256 * 1024;

    private final FileChannel channel;
    private final long start;

    private LogMark(FileChannel channel, long start) {
        this.channel = channel;
        this.start = start;
    }

    static LogMark of(Path logFile) {
        try {
            FileChannel channel = FileChannel.open(logFile, StandardOpenOption.READ);
            return new LogMark(channel, channel.size());
        } catch (IOException e) {
            return new LogMark(null, 0); // no log yet (container not created): nothing to quote
        }
    }

    /** The ERROR lines written since the mark (at most the last 20), else liblxc's error string. */
    List<String> errors(String errorString) {
        List<String> lines = new ArrayList<>();
        if (channel != null) {
            try {
                long end = channel.size();
                long from = Math.max(start, end - MAX_BYTES);
                ByteBuffer buffer = ByteBuffer.allocate((int) (end - from));
                channel.read(buffer, from);
                for (String line : new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).split("\n")) {
                    int at = line.indexOf(" ERROR ");
                    if (at >= 0) {
                        lines.add(line.substring(at + " ERROR ".length()).strip());
                    }
                }
            } catch (IOException e) {
                lines.add("(could not read the liblxc log: " + e.getMessage() + ")");
            }
        }
        if (lines.isEmpty() && errorString != null) {
            lines.add(errorString);
        }
        return lines.size() > MAX_LINES ? lines.subList(lines.size() - MAX_LINES, lines.size()) : lines;
    }

    @Override
    public void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // a read-only channel has nothing to flush
            }
        }
    }
}
