package dev.berth.agent.app;

/** An app image problem: the API answers 400 (invalid), 404 (not found) or 409 (in use). */
public abstract sealed class AppImageException extends RuntimeException {

    AppImageException(String message) {
        super(message);
    }

    /** A bad reference, or an archive refused: damaged, tampered with, escaping, or not an image. */
    public static final class Invalid extends AppImageException {
        public Invalid(String message) {
            super(message);
        }
    }

    public static final class NotFound extends AppImageException {
        public NotFound(String message) {
            super(message);
        }
    }

    public static final class InUse extends AppImageException {
        public InUse(String message) {
            super(message);
        }
    }
}
