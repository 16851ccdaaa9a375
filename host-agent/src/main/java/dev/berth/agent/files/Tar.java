package dev.berth.agent.files;

import dev.berth.agent.error.AgentException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The POSIX tar format (ustar, with pax headers for long names; GNU long-name entries read too), as
 * streams: directories go in and out of containers as tar, as with {@code docker cp} and LXD. Only
 * regular files, directories and symlinks are carried; anything else is skipped on read.
 */
public final class Tar {

    private static final int BLOCK = 512;

    private Tar() {
    }

    /** An entry's kind. */
    public enum Type { FILE, DIRECTORY, SYMLINK, HARDLINK, OTHER }

    /** One entry's header: {@code name} relative, '/'-separated, without a trailing '/'. */
    public record Entry(String name, Type type, int mode, int uid, int gid, long size, long mtime, String linkTarget) {
    }

    /** Writes entries; {@link #finish()} writes the end-of-archive blocks. */
    public static final class Writer {
        private final OutputStream out;

        public Writer(OutputStream out) {
            this.out = out;
        }

        /** Writes {@code entry}'s header, then its {@code size} bytes from {@code data} (files only). */
        public void add(Entry entry, InputStream data) throws IOException {
            String name = entry.type() == Type.DIRECTORY ? entry.name() + "/" : entry.name();
            String link = entry.linkTarget() == null ? "" : entry.linkTarget();
            Map<String, String> pax = new HashMap<>();
            if (utf8(name).length > 100) {
                pax.put("path", name);
            }
            if (utf8(link).length > 100) {
                pax.put("linkpath", link);
            }
            if (!pax.isEmpty()) {
                byte[] records = paxRecords(pax);
                out.write(header("././@PaxHeader", 'x', 0644, 0, 0, records.length, entry.mtime(), ""));
                out.write(records);
                pad(records.length);
            }
            char flag = switch (entry.type()) {
                case DIRECTORY -> '5';
                case SYMLINK -> '2';
                case HARDLINK -> '1';
                default -> '0';
            };
            long size = entry.type() == Type.FILE ? entry.size() : 0;
            out.write(header(truncate(name, 100), flag, entry.mode(), entry.uid(), entry.gid(), size, entry.mtime(), truncate(link, 100)));
            if (size > 0) {
                long copied = data.transferTo(new Bounded(out, size));
                if (copied != size) {
                    throw new IOException(entry.name() + " changed size while it was read (" + copied + " of " + size + " bytes)");
                }
                pad(size);
            }
        }

        public void finish() throws IOException {
            out.write(new byte[2 * BLOCK]);
            out.flush();
        }

        private void pad(long size) throws IOException {
            int rest = (int) (size % BLOCK);
            if (rest != 0) {
                out.write(new byte[BLOCK - rest]);
            }
        }

        private static byte[] paxRecords(Map<String, String> values) {
            StringBuilder all = new StringBuilder();
            for (var e : values.entrySet()) {
                String body = " " + e.getKey() + "=" + e.getValue() + "\n";
                int length = utf8(body).length;
                int total = length + Integer.toString(length).length();
                if (Integer.toString(total).length() != Integer.toString(length).length()) {
                    total++;
                }
                all.append(total).append(body);
            }
            return utf8(all.toString());
        }

        private static byte[] header(String name, char flag, int mode, int uid, int gid, long size, long mtime, String link) {
            byte[] h = new byte[BLOCK];
            put(h, 0, 100, utf8(name));
            octal(h, 100, 8, mode & 07777);
            octal(h, 108, 8, Math.max(uid, 0));
            octal(h, 116, 8, Math.max(gid, 0));
            octal(h, 124, 12, size);
            octal(h, 136, 12, Math.max(mtime, 0));
            h[156] = (byte) flag;
            put(h, 157, 100, utf8(link));
            put(h, 257, 8, "ustar\00000".getBytes(StandardCharsets.US_ASCII));
            java.util.Arrays.fill(h, 148, 156, (byte) ' ');
            long sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            octal(h, 148, 7, sum);
            h[155] = ' ';
            return h;
        }

        private static void octal(byte[] h, int offset, int length, long value) {
            String text = Long.toOctalString(value);
            if (text.length() > length - 1) {
                throw new IllegalArgumentException("value " + value + " does not fit a tar header field");
            }
            String padded = "0".repeat(length - 1 - text.length()) + text;
            put(h, offset, length, padded.getBytes(StandardCharsets.US_ASCII));
        }

        private static String truncate(String s, int bytes) {
            byte[] b = utf8(s);
            return b.length <= bytes ? s : new String(b, 0, bytes, StandardCharsets.UTF_8);
        }

        private static void put(byte[] h, int offset, int length, byte[] value) {
            System.arraycopy(value, 0, h, offset, Math.min(length, value.length));
        }
    }

    /** Reads entries one after another; each entry's data is read before asking for the next. */
    public static final class Reader {
        private final InputStream in;
        private long remaining;
        private long padding;

        public Reader(InputStream in) {
            this.in = in;
        }

        /** The next entry, or null at the end of the archive. */
        public Entry next() throws IOException {
            skipRest();
            Map<String, String> pax = new HashMap<>();
            String longName = null;
            String longLink = null;
            while (true) {
                byte[] h = in.readNBytes(BLOCK);
                if (h.length == 0) {
                    return null; // no end blocks: tolerated, as GNU tar does
                }
                if (h.length < BLOCK) {
                    throw new EOFException("the archive ends inside a header");
                }
                if (allZero(h)) {
                    return null;
                }
                checkSum(h);
                char flag = (char) h[156];
                long size = number(h, 124, 12);
                if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
                    if (size > 1 << 20) {
                        throw new AgentException.Invalid("an extended tar header of " + size + " bytes: refused");
                    }
                    byte[] data = in.readNBytes((int) size);
                    in.skipNBytes(pad(size));
                    if (flag == 'x') {
                        pax.putAll(parsePax(data));
                    } else if (flag == 'L') {
                        longName = cString(data, 0, data.length);
                    } else if (flag == 'K') {
                        longLink = cString(data, 0, data.length);
                    }
                    continue;
                }
                String name = cString(h, 0, 100);
                String prefix = cString(h, 345, 155);
                if (!prefix.isEmpty() && new String(h, 257, 5, StandardCharsets.US_ASCII).equals("ustar")) {
                    name = prefix + "/" + name;
                }
                name = pax.getOrDefault("path", longName != null ? longName : name);
                String link = pax.getOrDefault("linkpath", longLink != null ? longLink : cString(h, 157, 100));
                if (pax.containsKey("size")) {
                    size = Long.parseLong(pax.get("size"));
                }
                Type type = switch (flag) {
                    case '0', '\0', '7' -> Type.FILE;
                    case '5' -> Type.DIRECTORY;
                    case '2' -> Type.SYMLINK;
                    case '1' -> Type.HARDLINK;
                    default -> Type.OTHER;
                };
                if (type == Type.DIRECTORY || type == Type.SYMLINK || type == Type.HARDLINK) {
                    size = flag == '5' ? 0 : size;
                }
                while (name.endsWith("/")) {
                    name = name.substring(0, name.length() - 1);
                }
                if (name.startsWith("./")) {
                    name = name.substring(2);
                }
                remaining = size;
                padding = pad(size);
                return new Entry(name, type, (int) number(h, 100, 8), (int) number(h, 108, 8), (int) number(h, 116, 8), size,
                        number(h, 136, 12), type == Type.SYMLINK || type == Type.HARDLINK ? link : null);
            }
        }

        /** The current entry's data. */
        public InputStream data() {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (remaining <= 0) {
                        return -1;
                    }
                    int n = in.read(b, off, (int) Math.min(len, remaining));
                    if (n < 0) {
                        throw new EOFException("the archive ends inside an entry");
                    }
                    remaining -= n;
                    return n;
                }
            };
        }

        private void skipRest() throws IOException {
            if (remaining > 0) {
                in.skipNBytes(remaining);
                remaining = 0;
            }
            if (padding > 0) {
                in.skipNBytes(padding);
                padding = 0;
            }
        }

        private static long pad(long size) {
            int rest = (int) (size % BLOCK);
            return rest == 0 ? 0 : BLOCK - rest;
        }

        private static boolean allZero(byte[] h) {
            for (byte b : h) {
                if (b != 0) {
                    return false;
                }
            }
            return true;
        }

        private static void checkSum(byte[] h) {
            long sum = 0;
            for (int i = 0; i < BLOCK; i++) {
                sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
            }
            if (sum != number(h, 148, 8)) {
                throw new AgentException.Invalid("not a tar archive (a header's checksum does not match)");
            }
        }

        private static Map<String, String> parsePax(byte[] data) {
            Map<String, String> values = new HashMap<>();
            int i = 0;
            while (i < data.length) {
                int space = i;
                while (space < data.length && data[space] != ' ') {
                    space++;
                }
                int length;
                try {
                    length = Integer.parseInt(new String(data, i, space - i, StandardCharsets.US_ASCII));
                } catch (NumberFormatException e) {
                    throw new AgentException.Invalid("a malformed pax header in the archive");
                }
                if (length <= 0 || i + length > data.length) {
                    throw new AgentException.Invalid("a malformed pax header in the archive");
                }
                String record = new String(data, space + 1, i + length - space - 2, StandardCharsets.UTF_8);
                int eq = record.indexOf('=');
                if (eq > 0) {
                    values.put(record.substring(0, eq), record.substring(eq + 1));
                }
                i += length;
            }
            return values;
        }

        private static long number(byte[] h, int offset, int length) {
            if ((h[offset] & 0x80) != 0) { // base-256, for values beyond octal's reach
                long value = h[offset] & 0x7f;
                for (int i = 1; i < length; i++) {
                    value = (value << 8) | (h[offset + i] & 0xff);
                }
                return value;
            }
            String text = cString(h, offset, length).trim();
            if (text.isEmpty()) {
                return 0;
            }
            try {
                return Long.parseLong(text, 8);
            } catch (NumberFormatException e) {
                throw new AgentException.Invalid("not a tar archive (a header field is not a number)");
            }
        }

        private static String cString(byte[] b, int offset, int length) {
            int end = offset;
            while (end < offset + length && end < b.length && b[end] != 0) {
                end++;
            }
            return new String(b, offset, end - offset, StandardCharsets.UTF_8);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Lets exactly {@code limit} bytes through to the wrapped stream. */
    private static final class Bounded extends OutputStream {
        private final OutputStream out;
        private long left;

        Bounded(OutputStream out, long limit) {
            this.out = out;
            this.left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            if (left > 0) {
                out.write(b);
                left--;
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int n = (int) Math.min(len, left);
            if (n > 0) {
                out.write(b, off, n);
                left -= n;
            }
        }
    }
}
