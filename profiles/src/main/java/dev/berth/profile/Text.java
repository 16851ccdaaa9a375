package dev.berth.profile;

/**
 * The one rule for text that reaches line-based formats: which characters break a line or a key, and
 * how to name the first one in an error.
 */
public final class Text {

    private Text() {
    }

    /**
     * The first character of {@code text} that a line-based reader could take as the end of a line or
     * that no single-line value should carry: C0 and C1 controls (tab allowed where {@code multiline}),
     * DEL, and the Unicode line and paragraph separators; -1 if there is none. Newlines and tabs are
     * allowed where {@code multiline}.
     */
    public static int firstForbidden(String text, boolean multiline) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean allowed = multiline && (c == '\n' || c == '\t' || c == '\r');
            if (!allowed && (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029')) {
                return i;
            }
        }
        return -1;
    }

    /** Unicode format characters (bidirectional overrides, zero-width joiners): text that shows other than it is. */
    public static int firstInvisible(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.getType(text.charAt(i)) == Character.FORMAT) {
                return i;
            }
        }
        return -1;
    }

    /** {@code U+000A (line feed)} for the character at {@code index} of {@code text}. */
    public static String describe(String text, int index) {
        char c = text.charAt(index);
        String name = switch (c) {
            case '\n' -> "line feed";
            case '\r' -> "carriage return";
            case '\t' -> "tab";
            case 0 -> "NUL";
            default -> Character.getName(c) == null ? "control character" : Character.getName(c).toLowerCase(java.util.Locale.ROOT);
        };
        return String.format("U+%04X (%s) at character %d", (int) c, name, index + 1);
    }
}
