package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.berth.cli.client.Endpoint;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Remote agents, by name: {@code $BERTH_CONFIG_DIR/remotes.yaml} (default {@code ~/.config/berth}).
 * <pre>
 * remotes:
 *   lab:
 *     ssh: root@lab.example.org        # [user@]host, required
 *     port: 2222                       # SSH port (default: SSH's own)
 *     socket: /run/berth/berth.sock    # the agent's socket there (this default)
 *     command: berth                   # berth on that host, for its dial-stdio (this default)
 *     ssh-options: [-i, ~/.ssh/lab]    # more ssh arguments
 * </pre>
 * {@code --remote} also takes an address: {@code ssh://[user@]host[:port][/path/to/berth.sock]}.
 */
final class Remotes {

    static final String DEFAULT_COMMAND = "berth";

    /** One remote: what {@link Endpoint.Ssh} needs. */
    record Remote(String name, String ssh, Integer port, String socket, String command, List<String> sshOptions) {
        Endpoint.Ssh endpoint() {
            return new Endpoint.Ssh(ssh, port, socket, command, sshOptions);
        }

        String address() {
            return "ssh://" + ssh + (port == null ? "" : ":" + port) + socket;
        }
    }

    private Remotes() {
    }

    static Path file() {
        String dir = System.getenv("BERTH_CONFIG_DIR");
        if (dir != null && !dir.isBlank()) {
            return Path.of(dir, "remotes.yaml");
        }
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return base.resolve("berth").resolve("remotes.yaml");
    }

    private static ObjectMapper yaml() {
        return new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));
    }

    /** Every remote in the file, in its order; none if there is no file. */
    static Map<String, Remote> load() {
        Path file = file();
        Map<String, Remote> remotes = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return remotes;
        }
        JsonNode root;
        try {
            root = yaml().readTree(file.toFile());
        } catch (IOException e) {
            throw new Berth.UsageError(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
        JsonNode all = root == null ? null : root.path("remotes");
        if (all == null || all.isMissingNode() || all.isNull()) {
            return remotes;
        }
        if (!all.isObject()) {
            throw new Berth.UsageError(file + ": remotes: must map names to remotes (see berth remote --help)");
        }
        for (Map.Entry<String, JsonNode> entry : all.properties()) {
            remotes.put(entry.getKey(), parse(file, entry.getKey(), entry.getValue()));
        }
        return remotes;
    }

    private static Remote parse(Path file, String name, JsonNode node) {
        String where = file + ": remotes." + name;
        if (!node.isObject()) {
            throw new Berth.UsageError(where + ": must be a mapping with at least ssh: [user@]host");
        }
        List<String> known = List.of("ssh", "port", "socket", "command", "ssh-options");
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!known.contains(field.getKey())) {
                throw new Berth.UsageError(where + "." + field.getKey() + ": unknown field; the fields are " + String.join(", ", known));
            }
        }
        String ssh = node.path("ssh").asText("");
        if (ssh.isBlank()) {
            throw new Berth.UsageError(where + ".ssh: missing; give the host as [user@]host");
        }
        Integer port = null;
        if (node.has("port")) {
            if (!node.get("port").canConvertToInt() || node.get("port").asInt() < 1 || node.get("port").asInt() > 65535) {
                throw new Berth.UsageError(where + ".port: must be a port number (1-65535), got " + node.get("port"));
            }
            port = node.get("port").asInt();
        }
        List<String> options = new ArrayList<>();
        JsonNode given = node.path("ssh-options");
        if (!given.isMissingNode()) {
            if (!given.isArray()) {
                throw new Berth.UsageError(where + ".ssh-options: must be a list, such as [-i, ~/.ssh/lab]");
            }
            given.forEach(o -> options.add(expandHome(o.asText())));
        }
        return new Remote(name, ssh, port, node.path("socket").asText(Berth.DEFAULT_SOCKET),
                node.path("command").asText(DEFAULT_COMMAND), options);
    }

    private static String expandHome(String option) {
        return option.startsWith("~/") ? System.getProperty("user.home") + option.substring(1) : option;
    }

    /** A remote named in the file, or given as an {@code ssh://} address. */
    static Remote resolve(String nameOrAddress) {
        if (nameOrAddress.startsWith("ssh://")) {
            return fromAddress(null, nameOrAddress, DEFAULT_COMMAND, List.of());
        }
        Map<String, Remote> remotes = load();
        Remote remote = remotes.get(nameOrAddress);
        if (remote == null) {
            throw new Berth.UsageError("no remote '" + nameOrAddress + "' in " + file() + (remotes.isEmpty() ? "" : " (there are: "
                    + String.join(", ", remotes.keySet()) + ")") + "; add it with: berth remote add " + nameOrAddress
                    + " ssh://[user@]host[:port]");
        }
        return remote;
    }

    static Remote fromAddress(String name, String address, String command, List<String> sshOptions) {
        URI uri;
        try {
            uri = new URI(address);
        } catch (URISyntaxException e) {
            throw new Berth.UsageError("not an address: '" + address + "'; use ssh://[user@]host[:port][/path/to/berth.sock]");
        }
        if (!"ssh".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new Berth.UsageError("not an ssh:// address: '" + address + "'; use ssh://[user@]host[:port][/path/to/berth.sock]");
        }
        String destination = (uri.getUserInfo() == null ? "" : uri.getUserInfo() + "@") + uri.getHost();
        String socket = uri.getPath() == null || uri.getPath().isEmpty() || uri.getPath().equals("/") ? Berth.DEFAULT_SOCKET : uri.getPath();
        return new Remote(name, destination, uri.getPort() < 0 ? null : uri.getPort(), socket, command, List.copyOf(sshOptions));
    }

    /** Writes the file whole (a temporary file renamed over it). */
    static void save(Map<String, Remote> remotes) {
        ObjectNode root = dev.berth.cli.client.Json.object();
        ObjectNode all = root.putObject("remotes");
        for (Remote remote : remotes.values()) {
            ObjectNode node = all.putObject(remote.name());
            node.put("ssh", remote.ssh());
            if (remote.port() != null) {
                node.put("port", remote.port());
            }
            node.put("socket", remote.socket());
            node.put("command", remote.command());
            if (!remote.sshOptions().isEmpty()) {
                remote.sshOptions().forEach(node.putArray("ssh-options")::add);
            }
        }
        Path file = file();
        try {
            Files.createDirectories(file.getParent());
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(temp, "# berth remotes: berth --remote NAME ... (or BERTH_REMOTE=NAME); see berth remote --help\n"
                    + yaml().writeValueAsString(root));
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
