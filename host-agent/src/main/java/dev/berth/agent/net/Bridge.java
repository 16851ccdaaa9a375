package dev.berth.agent.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The host bridge containers attach to. The agent creates its managed bridge, with the subnet's
 * gateway address, when it is missing, and leaves an existing one as it is. Nothing is routed or
 * NATed beyond it: containers reach each other and the host, not the outside.
 */
public final class Bridge {

    private Bridge() {
    }

    /** Whether a network interface of that name exists. */
    public static boolean exists(String name) {
        return Files.exists(Path.of("/sys/class/net", name));
    }

    /**
     * Makes bridge {@code name} with {@code subnet}'s gateway address and brings it up, unless it
     * exists.
     *
     * @return true if it was created here
     */
    public static boolean ensure(String name, Subnet subnet) {
        if (name.length() > 15 || !name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("'" + name + "' is not a usable bridge name (at most 15 letters, digits, '-', '_', '.')");
        }
        if (exists(name)) {
            if (!Files.isDirectory(Path.of("/sys/class/net", name, "bridge"))) {
                throw new IllegalStateException("network interface " + name + " exists and is not a bridge; name another bridge"
                        + " in the agent's config (network.bridge)");
            }
            return false;
        }
        run("ip", "link", "add", name, "type", "bridge");
        try {
            run("ip", "addr", "add", subnet.toString(), "dev", name);
            run("ip", "link", "set", name, "up");
        } catch (RuntimeException e) {
            runQuietly("ip", "link", "del", name);
            throw e;
        }
        return true;
    }

    /** The IPv4 addresses (with prefix) on interface {@code name}. */
    public static List<String> addresses(String name) {
        String out = run("ip", "-4", "-o", "addr", "show", "dev", name);
        return out.lines().map(l -> l.replaceAll(".*\\binet ([0-9./]+).*", "$1")).filter(s -> s.contains("/")).toList();
    }

    static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out.strip());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command[0] + " (is iproute2 installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", command));
        }
    }

    private static void runQuietly(String... command) {
        try {
            run(command);
        } catch (RuntimeException ignored) {
            // best effort while undoing
        }
    }
}
