package dev.berth.profile;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The value types of profiles: each one YAML string, parsed and checked here. */
public final class Values {

    private Values() {
    }

    /** Bytes with an optional binary or decimal unit, or a percentage of the host's memory. */
    @Format(pattern = "^([0-9]+(\\.[0-9]+)?\\s*([kKmMgGtT]i?[bB]?|[bB])?|[0-9]{1,3}%)$",
            description = "bytes with an optional unit (512MiB, 1GiB, 2G, 1048576) or a percentage of the host's memory (50%)")
    public record Size(long bytes, Integer percent) {

        private static final Pattern FORM = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([kmgt]?)(i?)b?", Pattern.CASE_INSENSITIVE);

        public static Size parse(String text) {
            String t = text.strip();
            if (t.endsWith("%")) {
                int percent = parseInt(t.substring(0, t.length() - 1), "a percentage");
                if (percent < 1 || percent > 100) {
                    throw new IllegalArgumentException("a percentage must be 1% to 100%, not " + t);
                }
                return new Size(0, percent);
            }
            Matcher m = FORM.matcher(t);
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + text + "' is not a size: write bytes with an optional unit"
                        + " (512MiB, 1GiB, 2G, 1048576) or a percentage (50%)");
            }
            int power = "kmgt".indexOf(m.group(2).toLowerCase(Locale.ROOT)) + 1;
            double base = m.group(3).isEmpty() && power > 0 ? 1000 : 1024;
            double bytes = Double.parseDouble(m.group(1)) * Math.pow(base, power);
            if (bytes < 1 || bytes > Long.MAX_VALUE / 2) {
                throw new IllegalArgumentException("size " + text + " is out of range");
            }
            return new Size((long) bytes, null);
        }

        /** The size in bytes on a host with {@code hostMemory} bytes. */
        public long resolve(long hostMemory) {
            return percent == null ? bytes : Math.multiplyExact(hostMemory, (long) percent) / 100;
        }
    }

    /** A CPU limit: a count of CPUs' worth of time, or a set of CPUs to pin to. */
    @Format(pattern = "^([0-9]+(\\.[0-9]+)?|[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)$",
            description = "a number of CPUs (2, 0.5) or a set of CPU numbers to pin to (0-1,3)")
    public record Cpu(Double count, String set) {

        private static final Pattern SET = Pattern.compile("[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*");

        public static Cpu parse(String text) {
            String t = text.strip();
            if (t.matches("[0-9]+(\\.[0-9]+)?")) {
                double count = Double.parseDouble(t);
                if (count <= 0 || count > 4096) {
                    throw new IllegalArgumentException("a CPU count must be above 0 and at most 4096, not " + t);
                }
                return new Cpu(count, null);
            }
            if (SET.matcher(t).matches() && (t.contains("-") || t.contains(","))) {
                for (String range : t.split(",")) {
                    String[] ends = range.split("-");
                    if (ends.length == 2 && Integer.parseInt(ends[0]) > Integer.parseInt(ends[1])) {
                        throw new IllegalArgumentException("CPU range " + range + " runs backwards");
                    }
                }
                return new Cpu(null, t);
            }
            throw new IllegalArgumentException("'" + text + "' is not a CPU limit: write a count (2, 0.5) or a set (0-1,3)");
        }
    }

    /** A time span such as {@code 30s}, {@code 5m}, {@code 1h} or {@code 500ms}. */
    @Format(pattern = "^[0-9]+(ms|s|m|h)$", description = "a time span: 500ms, 30s, 5m, 1h")
    public record Interval(Duration duration) {

        public static Interval parse(String text) {
            Matcher m = Pattern.compile("([0-9]+)(ms|s|m|h)").matcher(text.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + text + "' is not a time span: write 500ms, 30s, 5m or 1h");
            }
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
            return new Interval(d);
        }
    }

    /** An IPv4 address with optional prefix length, or {@code auto} for one from the agent's pool. */
    @Format(pattern = "^(auto|([0-9]{1,3}\\.){3}[0-9]{1,3}(/[0-9]{1,2})?)$",
            description = "auto (from the agent's pool) or an IPv4 address, optionally with a prefix length (10.0.3.5/24)")
    public record Ipv4(boolean auto, String address, Integer prefix) {

        public static Ipv4 parse(String text) {
            String t = text.strip();
            if (t.equals("auto")) {
                return new Ipv4(true, null, null);
            }
            String[] parts = t.split("/", 2);
            String[] octets = parts[0].split("\\.", -1);
            boolean ok = octets.length == 4;
            for (int i = 0; ok && i < 4; i++) {
                ok = octets[i].matches("[0-9]{1,3}") && Integer.parseInt(octets[i]) <= 255;
            }
            Integer prefix = null;
            if (ok && parts.length == 2) {
                ok = parts[1].matches("[0-9]{1,2}") && Integer.parseInt(parts[1]) <= 32;
                prefix = ok ? Integer.parseInt(parts[1]) : null;
            }
            if (!ok) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address: write auto or a.b.c.d[/prefix]");
            }
            return new Ipv4(false, parts[0], prefix);
        }
    }

    private static int parseInt(String text, String what) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not " + what);
        }
    }
}
