package dev.berth.agent.net;

/** A network request that cannot be met; the API answers 409 for a conflict, 400 for the rest. */
public sealed class NetworkException extends RuntimeException {

    NetworkException(String message, Throwable cause) {
        super(message, cause);
    }

    /** An address or host port already taken. */
    public static final class Conflict extends NetworkException {
        public Conflict(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** An address off the subnet, a full subnet, a bad listen address. */
    public static final class Invalid extends NetworkException {
        public Invalid(String message) {
            super(message, null);
        }
    }
}
