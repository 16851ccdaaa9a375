package dev.berth.profile;

import java.util.regex.Pattern;

/**
 * One LXC config item, as {@code set_config_item} takes it and as the container's config file keeps
 * it ({@code key = value}, one per line). Every item Berth gives liblxc is built here, so this is where
 * an item that would read as two is refused: a key outside LXC's alphabet, or a value with a line
 * break or another control character (liblxc writes the value as it is and reads the file line by
 * line, so a newline in a value is a new config line, such as a host-side {@code lxc.hook}).
 */
public record LxcConfigItem(String key, String value) {

    private static final Pattern KEY = Pattern.compile("lxc(\\.[a-z0-9_-]+)+");

    public LxcConfigItem {
        if (key == null || !KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("'" + key + "' is not an LXC config key");
        }
        if (value == null) {
            throw new IllegalArgumentException("LXC config item " + key + " has no value");
        }
        int bad = Text.firstForbidden(value, false);
        if (bad >= 0) {
            throw new IllegalArgumentException("LXC config item " + key + " would carry " + Text.describe(value, bad)
                    + ": refused, it could start another config item");
        }
    }

    /**
     * An {@code lxc.mount.entry} in fstab's shape. Fields are separated by blanks, so none may hold one
     * (fstab's {@code \040} escapes are not used: no field Berth writes needs a blank).
     */
    public static LxcConfigItem mountEntry(String source, String target, String type, String options) {
        for (String field : new String[] {source, target, type, options}) {
            if (field.isEmpty() || field.chars().anyMatch(c -> Character.isWhitespace(c) || c == '\\')) {
                throw new IllegalArgumentException("mount entry field '" + field + "' is empty or holds a blank or a backslash");
            }
        }
        return new LxcConfigItem("lxc.mount.entry", source + " " + target + " " + type + " " + options + " 0 0");
    }
}
