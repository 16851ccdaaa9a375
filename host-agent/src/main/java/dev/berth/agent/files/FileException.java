package dev.berth.agent.files;

/** A refused or failed file operation inside a container; the API gives each kind its own status. */
public sealed class FileException extends RuntimeException {

    FileException(String message) {
        super(message);
    }

    /** 404: nothing at the path. */
    public static final class NotFound extends FileException {
        NotFound(String message) {
            super(message);
        }
    }

    /** 403: the path leaves the container's root (through {@code ..} or a symlink), or is a symlink where one may not be. */
    public static final class Escape extends FileException {
        Escape(String message) {
            super(message);
        }
    }

    /** 400: a bad path, a bad archive, or the wrong kind of file at the path. */
    public static final class Invalid extends FileException {
        Invalid(String message) {
            super(message);
        }
    }
}
