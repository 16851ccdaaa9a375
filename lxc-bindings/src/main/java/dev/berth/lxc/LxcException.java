package dev.berth.lxc;

import java.util.List;

/**
 * A liblxc operation that failed, with liblxc's own explanation: the ERROR lines it wrote to the
 * container's log file during the call ({@link #logExcerpt()}), never a bare {@code false}.
 */
public abstract sealed class LxcException extends RuntimeException {

    private final String container;
    private final List<String> logExcerpt;

    LxcException(String container, String message, List<String> logExcerpt) {
        super(message + format(logExcerpt));
        this.container = container;
        this.logExcerpt = List.copyOf(logExcerpt);
    }

    /** The container's name. */
    public String container() {
        return container;
    }

    /** liblxc's ERROR lines written during the failed call, oldest first; empty if it wrote none. */
    public List<String> logExcerpt() {
        return logExcerpt;
    }

    private static String format(List<String> lines) {
        return lines.isEmpty() ? "" : "\nliblxc said:\n  " + String.join("\n  ", lines);
    }

    /** The name is not one liblxc can hold (empty, contains {@code /}, too long, ...). */
    public static final class InvalidName extends LxcException {
        InvalidName(String name, String why) {
            super(name, "invalid container name \"" + name + "\": " + why, List.of());
        }
    }

    /** The container is not defined in its lxcpath. */
    public static final class NotDefined extends LxcException {
        NotDefined(String name, String operation) {
            super(name, "cannot " + operation + " \"" + name + "\": the container is not defined", List.of());
        }
    }

    /** A container of that name already exists. */
    public static final class AlreadyDefined extends LxcException {
        AlreadyDefined(String name) {
            super(name, "container \"" + name + "\" already exists", List.of());
        }
    }

    /** The operation needs a stopped container. */
    public static final class AlreadyRunning extends LxcException {
        AlreadyRunning(String name, String operation) {
            super(name, "cannot " + operation + " \"" + name + "\": the container is running; stop it first", List.of());
        }
    }

    /** The operation needs a running container. */
    public static final class NotRunning extends LxcException {
        NotRunning(String name, String operation) {
            super(name, "cannot " + operation + " \"" + name + "\": the container is not running", List.of());
        }
    }

    /** liblxc could not start the container. */
    public static final class StartFailed extends LxcException {
        StartFailed(String name, List<String> logExcerpt) {
            super(name, "container \"" + name + "\" failed to start", logExcerpt);
        }
    }

    /** A wait for a state ran out of time. */
    public static final class Timeout extends LxcException {
        Timeout(String name, String what) {
            super(name, "timed out on \"" + name + "\": " + what, List.of());
        }
    }

    /** liblxc refused a configuration key or value. */
    public static final class ConfigRejected extends LxcException {
        ConfigRejected(String name, String key, String value, List<String> logExcerpt) {
            super(name, "liblxc rejected config item " + key + (value == null ? "" : " = " + value)
                    + " for \"" + name + "\"", logExcerpt);
        }
    }

    /** Any other liblxc call that returned failure. */
    public static final class OperationFailed extends LxcException {
        OperationFailed(String name, String operation, List<String> logExcerpt) {
            super(name, operation + " failed for \"" + name + "\"", logExcerpt);
        }
    }
}
