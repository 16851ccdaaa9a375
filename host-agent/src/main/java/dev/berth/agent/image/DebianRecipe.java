package dev.berth.agent.image;

import dev.berth.agent.error.AgentException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * How to build a full-OS Debian image with debootstrap. Two recipes with the same suite, variant,
 * mirror and package set (in any order, duplicates aside) are the same recipe: the store builds it
 * once and reuses the image.
 *
 * @param suite    the Debian release (bookworm)
 * @param variant  debootstrap's variant (minbase)
 * @param packages extra packages; the defaults give a systemd system that can run Puppet and an app container
 * @param mirror   the Debian mirror
 */
public record DebianRecipe(String suite, String variant, List<String> packages, String mirror) {

    public static final List<String> DEFAULT_PACKAGES = List.of("systemd-sysv", "iproute2", "puppet", "crun", "catatonit");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9+.-]{0,99}");
    private static final Pattern MIRROR = Pattern.compile("https?://[A-Za-z0-9.:/_~-]{1,200}");
    private static final List<String> VARIANTS = List.of("minbase", "buildd", "fakechroot", "standard");

    /** The recipe with defaults filled in and the package set sorted, or a clear error naming the field. */
    public DebianRecipe {
        suite = suite == null ? "bookworm" : suite;
        variant = variant == null ? "minbase" : variant;
        mirror = mirror == null ? "http://deb.debian.org/debian" : mirror;
        packages = List.copyOf(new TreeSet<>(packages == null ? DEFAULT_PACKAGES : packages));
        check("suite", suite, NAME.matcher(suite).matches(), "a Debian suite such as bookworm");
        check("variant", variant, VARIANTS.contains(variant), "one of " + VARIANTS);
        check("mirror", mirror, MIRROR.matcher(mirror).matches(), "an http(s) URL such as http://deb.debian.org/debian");
        for (String p : packages) {
            check("packages", p, NAME.matcher(p).matches(), "Debian package names");
        }
    }

    /** What the image records as its recipe. */
    public Map<String, Object> asMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("kind", "debootstrap");
        map.put("suite", suite);
        map.put("variant", variant);
        map.put("packages", new ArrayList<>(packages));
        map.put("mirror", mirror);
        return map;
    }

    private static void check(String field, String value, boolean ok, String expected) {
        if (!ok) {
            throw new AgentException.Invalid("recipe." + field, "\"" + value + "\" is not a valid " + field + "; expected " + expected);
        }
    }
}
