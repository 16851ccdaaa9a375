package dev.berth.agent.instance;

/** A container operation the agent refuses, by kind; the API maps each kind to one HTTP status. */
public abstract sealed class InstanceException extends RuntimeException {

    InstanceException(String message) {
        super(message);
    }

    /** 404: no such container, profile or image. */
    public static final class NotFound extends InstanceException {
        public NotFound(String message) {
            super(message);
        }
    }

    /** 409: the name is taken or being taken, or the container is not in the state the request needs. */
    public static final class Conflict extends InstanceException {
        public Conflict(String message) {
            super(message);
        }
    }

    /** A request that can never succeed as made (a bad snapshot name, a volume in the wrong place). */
    public static final class Invalid extends InstanceException {
        public Invalid(String message) {
            super(message);
        }
    }
}
