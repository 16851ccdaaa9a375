package dev.berth.profile;

/**
 * One thing wrong with a profile.
 *
 * @param location where (file:line:column)
 * @param path     the field path, such as {@code limits.memory} or {@code network.forwards[1].port}
 * @param message  what is wrong and what is allowed
 * @param hint     what to do instead (a near key for a typo), or null
 */
public record Problem(Location location, String path, String message, String hint) {

    @Override
    public String toString() {
        return location + ": " + (path.isEmpty() ? "" : path + ": ") + message + (hint == null ? "" : " (" + hint + ")");
    }
}
