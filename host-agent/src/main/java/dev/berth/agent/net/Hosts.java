package dev.berth.agent.net;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.files.ContainerRoot;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Name resolution between containers without a resolver: a block in each running container's
 * {@code /etc/hosts}, between marker lines, listing every container on the managed bridge. The rest
 * of the file is the container's own and left alone.
 */
public final class Hosts {

    static final String BEGIN = "# BEGIN berth: containers on the managed bridge (kept current by berthd)";
    static final String END = "# END berth";

    private Hosts() {
    }

    /** {@code existing} with Berth's block replaced by one for {@code entries} (name to address). */
    public static String merge(String existing, Map<String, String> entries) {
        StringBuilder out = new StringBuilder();
        boolean inBlock = false;
        for (String line : existing.split("\n", -1)) {
            if (line.equals(BEGIN)) {
                inBlock = true;
            } else if (line.equals(END)) {
                inBlock = false;
            } else if (!inBlock) {
                out.append(line).append('\n');
            }
        }
        while (out.length() > 0 && out.charAt(out.length() - 1) == '\n'
                && (out.length() == 1 || out.charAt(out.length() - 2) == '\n')) {
            out.setLength(out.length() - 1);
        }
        if (out.length() > 0 && out.charAt(out.length() - 1) != '\n') {
            out.append('\n');
        }
        out.append(BEGIN).append('\n');
        entries.forEach((name, address) -> out.append(address).append(' ').append(name).append('\n'));
        out.append(END).append('\n');
        return out.toString();
    }

    /** Rewrites Berth's block in the /etc/hosts of the running container {@code name}. */
    public static void update(String name, int initPid, int idShift, Map<String, String> entries) {
        try (ContainerRoot root = ContainerRoot.ofProcess(name, initPid, idShift)) {
            String existing;
            try (InputStream in = root.read("/etc/hosts")) {
                existing = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (AgentException.NotFound e) {
                existing = "127.0.0.1 localhost\n";
            }
            String merged = merge(existing, entries);
            if (!merged.equals(existing)) {
                root.write("/etc/hosts", new ByteArrayInputStream(merged.getBytes(StandardCharsets.UTF_8)), 0644, 0, 0);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update /etc/hosts in " + name, e);
        }
    }
}
