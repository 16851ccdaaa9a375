package dev.berth.agent.image;

/** Why an image request failed; the API maps each kind to one status. */
public sealed class ImageException extends RuntimeException {

    ImageException(String message) {
        super(message);
    }

    /** Bad input: a recipe field, an alias, an archive; {@link #field} names it. */
    public static final class Invalid extends ImageException {
        private final String field;

        public Invalid(String field, String message) {
            super(message);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    /** No image or alias by that name. */
    public static final class NotFound extends ImageException {
        public NotFound(String message) {
            super(message);
        }
    }

    /** The image is in use by containers and cannot go. */
    public static final class InUse extends ImageException {
        public InUse(String message) {
            super(message);
        }
    }
}
