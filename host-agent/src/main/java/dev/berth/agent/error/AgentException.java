package dev.berth.agent.error;

/**
 * Every request the agent refuses or cannot carry out, by kind; the API answers each kind with one
 * status ({@link #status()}), and nothing else decides a status. {@code field} names the request field
 * or header at fault, where there is one.
 */
public abstract sealed class AgentException extends RuntimeException {

    private final String field;

    AgentException(String message, String field, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    /** The HTTP status of this kind. */
    public abstract int status();

    /** The request field or header at fault, or null. */
    public String field() {
        return field;
    }

    /** 400: the request can never succeed as made (a bad name, value, path or archive). */
    public static final class Invalid extends AgentException {
        public Invalid(String message) {
            this(null, message);
        }

        public Invalid(String field, String message) {
            super(message, field, null);
        }

        @Override
        public int status() {
            return 400;
        }
    }

    /** 403: the request reaches outside what it may (a path out of a container's root). */
    public static final class Forbidden extends AgentException {
        public Forbidden(String message) {
            super(message, null, null);
        }

        @Override
        public int status() {
            return 403;
        }
    }

    /** 404: no container, profile, image, volume, file or operation by that name. */
    public static final class NotFound extends AgentException {
        public NotFound(String message) {
            super(message, null, null);
        }

        @Override
        public int status() {
            return 404;
        }
    }

    /**
     * 409: the name is taken, the resource is in use or busy with another operation, or in a state
     * that forbids the change.
     */
    public static final class Conflict extends AgentException {
        public Conflict(String message) {
            super(message, null, null);
        }

        public Conflict(String message, Throwable cause) {
            super(message, null, cause);
        }

        @Override
        public int status() {
            return 409;
        }
    }

    /** 413: a body beyond what the agent takes. */
    public static final class TooLarge extends AgentException {
        public TooLarge(String message) {
            super(message, null, null);
        }

        @Override
        public int status() {
            return 413;
        }
    }

    /** 409: another operation holds the thing right now; the same request can succeed once it ends. */
    public static final class Busy extends AgentException {
        public Busy(String message) {
            super(message, null, null);
        }

        @Override
        public int status() {
            return 409;
        }
    }

    /** 503: something the request needs is not set up on this agent (a network, a store) or not reachable now. */
    public static final class Unavailable extends AgentException {
        public Unavailable(String message) {
            super(message, null, null);
        }

        @Override
        public int status() {
            return 503;
        }
    }

    /** 500: the agent tried and failed (a step of the host's went wrong); the message says which and why. */
    public static final class Failed extends AgentException {
        public Failed(String message, Throwable cause) {
            super(message, null, cause);
        }

        @Override
        public int status() {
            return 500;
        }
    }
}
