package dev.berth.agent.ops;

import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's log: one line per message on standard error (journald adds the time when run by
 * systemd; the line carries it anyway for a terminal), each also sent as a {@code logging} event.
 * Messages logged inside an operation carry its container and operation id, taken from the
 * operation's scope ({@link Operations#current()}), the way an MDC would.
 */
public final class AgentLog {

    /** How much is logged: each level includes the ones before it. */
    public enum Level { ERROR, WARN, INFO, DEBUG }

    private final Events events;
    private final Level threshold;
    private final PrintStream out;

    /** Log lines go to standard error as UTF-8 whatever the locale (a service's is often POSIX, which has no é or emoji). */
    public AgentLog(Events events, Level threshold) {
        this(events, threshold, new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true,
                java.nio.charset.StandardCharsets.UTF_8));
    }

    AgentLog(Events events, Level threshold, PrintStream out) {
        this.events = events;
        this.threshold = threshold;
        this.out = out;
    }

    public void error(String message) {
        log(Level.ERROR, message);
    }

    public void warn(String message) {
        log(Level.WARN, message);
    }

    public void info(String message) {
        log(Level.INFO, message);
    }

    public void debug(String message) {
        log(Level.DEBUG, message);
    }

    public boolean enabled(Level level) {
        return level.ordinal() <= threshold.ordinal();
    }

    private void log(Level level, String message) {
        if (!enabled(level)) {
            return;
        }
        Map<String, Object> context = new LinkedHashMap<>();
        Operations.current().ifPresent(op -> {
            context.put("operation", op.id());
            if (op.container() != null) {
                context.put("container", op.container());
            }
        });
        String where = context.isEmpty() ? "" : " [" + (context.containsKey("container") ? context.get("container") + " " : "")
                + "op=" + String.valueOf(context.get("operation")).substring(0, 8) + "]";
        out.println(Instant.now() + " " + String.format(Locale.ROOT, "%-5s", level) + where + " " + message);
        events.publish("logging", Map.of("level", level.name().toLowerCase(Locale.ROOT), "message", message, "context", context));
    }
}
