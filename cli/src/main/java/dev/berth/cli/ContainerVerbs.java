package dev.berth.cli;

import static dev.berth.cli.Berth.checked;
import static dev.berth.cli.Berth.encode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.cli.client.AgentClient;
import dev.berth.cli.client.AgentClient.AgentException;
import dev.berth.cli.client.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Containers are berth's default noun (as with LXD's {@code lxc}): their verbs sit at the top level,
 * {@code berth launch}, {@code berth list}. Each verb is its own class so that a run builds the
 * command model of the one verb it runs (see {@link Berth#commandLine}).
 */
final class ContainerVerbs {

    private ContainerVerbs() {
    }

    /** Shared by the verbs: the root command with the global options and helpers. */
    abstract static class Verb implements Callable<Integer> {
        /** The root command, set by {@link Berth#commandLine} (no {@code @ParentCommand}: see {@link Berth}). */
        Berth berth;

        PrintWriter out() {
            return berth.out();
        }
    }

    @Command(name = "launch", description = "Create a container from profiles and an image, and start it.",
            footer = {"%nThe container's own settings (--set) win over its profiles'. Keys are the profile's fields, "
                + "dotted: limits.memory=512MiB, limits.cpu=2, autostart=true."})
    static final class Launch extends Verb {
        @Parameters(paramLabel = "NAME", description = "The container's name (also its hostname).")
        String name;
        @Option(names = {"-i", "--image"}, paramLabel = "IMAGE", description = "An image alias or fingerprint; replaces the profiles' image.")
        String image;
        @Option(names = {"-p", "--profile"}, paramLabel = "PROFILE", description = "A profile to compose, in order (repeat; default: default).")
        List<String> profiles;
        @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "One of the container's own settings (repeat).")
        List<String> settings;
        @Option(names = "--ephemeral", description = "Delete the container (keeping its volumes) when it stops.")
        boolean ephemeral;

        @Override
        public Integer call() {
            ObjectNode body = Json.object();
            body.put("name", name);
            if (image != null) {
                body.put("image", image);
            }
            body.set("profiles", Json.tree(profiles == null || profiles.isEmpty() ? List.of("default") : profiles));
            body.set("config", Json.tree(settings(settings)));
            body.put("ephemeral", ephemeral);
            long start = System.nanoTime();
            berth.operate("Launching " + name, "POST", "/1.0/containers", body, Duration.ofMinutes(10));
            berth.summary("Launched " + name + " in " + Output.elapsed(System.nanoTime() - start));
            return 0;
        }
    }

    /** {@code key=value} settings, typed as YAML would read them (numbers, true/false, else text). */
    static Map<String, Object> settings(List<String> settings) {
        Map<String, Object> config = new LinkedHashMap<>();
        for (String setting : settings == null ? List.<String>of() : settings) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new Berth.UsageError("--set takes KEY=VALUE, such as limits.memory=512MiB; got '" + setting + "'");
            }
            String value = setting.substring(eq + 1);
            Object typed = value.matches("-?\\d{1,18}") ? Long.parseLong(value)
                    : value.equals("true") || value.equals("false") ? Boolean.parseBoolean(value) : value;
            config.put(setting.substring(0, eq).strip(), typed);
        }
        return config;
    }

    static final List<String> CONTAINER_COLUMNS = List.of("name", "state", "address", "app", "drift", "image", "profiles", "pid", "created");

    /**
     * {@code berth list}: the command people run most, so its model is built in code, like the root's:
     * a run of {@code berth list} reads no annotation at all (see {@link Berth#rootSpec}).
     */
    static final class ListVerb extends Verb {
        final CommandSpec spec = CommandSpec.wrapWithoutInspection(this);

        ListVerb() {
            spec.name("list").aliases("ls");
            spec.usageMessage().description("List containers.").footer(
                    "%nFilters: a word matches names containing it; KEY=VALUE matches a column exactly",
                    "(state=running, profiles=web). Columns: " + String.join(", ", CONTAINER_COLUMNS) + ".");
            spec.addPositional(PositionalParamSpec.builder().paramLabel("FILTER").arity("0..*").type(List.class)
                    .auxiliaryTypes(String.class).description("Name substrings or column=value.").build());
            spec.addOption(OptionSpec.builder("-f", "--format").paramLabel("FORMAT").type(Output.Format.class).defaultValue("table")
                    .description("table, json, yaml or csv (default: ${DEFAULT-VALUE}).").build());
            spec.addOption(OptionSpec.builder("-c", "--columns").paramLabel("COLUMN").splitRegex(",").type(List.class)
                    .auxiliaryTypes(String.class).description("The columns to show, comma-separated (default: all).").build());
            spec.addOption(OptionSpec.builder("--no-header").type(boolean.class).description("Leave out the header line (table and csv).").build());
            spec.addOption(OptionSpec.builder("--names").type(boolean.class).hidden(true)
                    .description("Names only, one per line (for completion).").build());
        }

        @Override
        public Integer call() {
            List<String> filters = spec.positionalParameters().getFirst().getValue();
            Output.Format format = spec.findOption("--format").getValue();
            List<String> columns = spec.findOption("--columns").getValue();
            boolean noHeader = Boolean.TRUE.equals(spec.findOption("--no-header").getValue());
            boolean names = Boolean.TRUE.equals(spec.findOption("--names").getValue());
            AgentClient client = berth.client();
            if (names) {
                for (JsonNode url : client.get("/1.0/containers").body()) {
                    out().println(url.asText().substring("/1.0/containers/".length()));
                }
                out().flush();
                return 0;
            }
            List<Output.Column> shownColumns = containerColumns(columns);
            JsonNode all = checked(client.get("/1.0/containers?recursion=1"));
            var shown = Output.array();
            for (JsonNode container : all) {
                if (matches(container, filters)) {
                    shown.add(container);
                }
            }
            Output.print(out(), format, shown, shownColumns, !noHeader);
            return 0;
        }

        private static List<Output.Column> containerColumns(List<String> wanted) {
            List<Output.Column> columns = new ArrayList<>();
            for (String column : wanted == null || wanted.isEmpty() ? CONTAINER_COLUMNS : wanted) {
                String key = column.strip().toLowerCase(Locale.ROOT);
                columns.add(switch (key) {
                    case "name" -> Output.Column.of("NAME", "name");
                    // a privileged container is marked where it is seen first: root inside it is root on the host
                    case "state" -> new Output.Column("STATE", c -> c.path("status").asText()
                            + (c.path("privileged").asBoolean(false) ? " (privileged)" : ""));
                    case "address" -> Output.Column.of("ADDRESS", "address");
                    case "app" -> new Output.Column("APP", c -> c.path("app").isTextual() ? c.path("app").asText() : "-");
                    case "drift" -> new Output.Column("DRIFT", c -> c.path("drift").isTextual() ? c.path("drift").asText() : "-");
                    case "image" -> new Output.Column("IMAGE", c -> Berth.shortFingerprint(c.path("image")));
                    case "profiles" -> Output.Column.of("PROFILES", "profiles");
                    case "pid" -> Output.Column.of("PID", "pid");
                    case "created" -> Output.Column.of("CREATED", "created");
                    default -> throw new Berth.UsageError("unknown column '" + column
                            + "'; the columns are " + String.join(", ", CONTAINER_COLUMNS));
                });
            }
            return columns;
        }

        private static boolean matches(JsonNode container, List<String> filters) {
            for (String filter : filters == null ? List.<String>of() : filters) {
                int eq = filter.indexOf('=');
                if (eq < 0) {
                    if (!container.path("name").asText().contains(filter)) {
                        return false;
                    }
                    continue;
                }
                String key = filter.substring(0, eq).toLowerCase(Locale.ROOT);
                String value = filter.substring(eq + 1);
                JsonNode field = container.path(key.equals("state") ? "status" : key);
                if (field.isMissingNode()) {
                    throw new Berth.UsageError("unknown filter key '" + key
                            + "'; filter on " + String.join(", ", CONTAINER_COLUMNS));
                }
                boolean hit = field.isArray() ? contains(field, value) : field.asText().equalsIgnoreCase(value)
                        || key.equals("image") && field.asText().startsWith(value);
                if (!hit) {
                    return false;
                }
            }
            return true;
        }

        private static boolean contains(JsonNode array, String value) {
            for (JsonNode item : array) {
                if (item.asText().equals(value)) {
                    return true;
                }
            }
            return false;
        }
    }

    @Command(name = "info", description = "Show a container: what it is made of, and its live state.")
    static final class Info extends Verb {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                description = "table (readable), json or yaml (default: ${DEFAULT-VALUE}).")
        Output.Format format;

        @Override
        public Integer call() {
            AgentClient client = berth.client();
            JsonNode container = checked(client.get("/1.0/containers/" + encode(name)));
            JsonNode state = checked(client.get("/1.0/containers/" + encode(name) + "/state"));
            ObjectNode both = container.deepCopy();
            both.set("state", state);
            if (format != Output.Format.TABLE) {
                Output.printObject(out(), format, both);
                return 0;
            }
            PrintWriter out = out();
            out.println("Name:       " + container.path("name").asText());
            out.println("State:      " + state.path("status").asText());
            out.println("Image:      " + Output.text(container.path("image")));
            out.println("Profiles:   " + Output.text(container.path("profiles")));
            out.println("Created:    " + Output.text(container.path("created")));
            if (container.hasNonNull("privileged")) {
                out.println("Privileged: " + (container.path("privileged").asBoolean()
                        ? "yes (root inside is root on the host: security.privileged: true)"
                        : "no (root inside is a host uid of the container's own range)"));
            }
            if (container.hasNonNull("address")) {
                out.println("Address:    " + container.path("address").asText());
            }
            if (!container.path("forwards").isEmpty()) {
                out.println("Forwards:   " + Output.text(container.path("forwards")));
            }
            if (container.path("ephemeral").asBoolean()) {
                out.println("Ephemeral:  yes (deleted when it stops)");
            }
            if (state.hasNonNull("pid")) {
                long limit = state.path("memoryLimit").asLong();
                out.println("Init pid:   " + state.path("pid").asText());
                out.println("Memory:     " + Output.size(state.path("memoryUsage").asLong()) + " used"
                        + (limit > 0 && limit < Long.MAX_VALUE / 2 ? " of " + Output.size(limit) : ""));
                out.println("Processes:  " + state.path("processes").asText());
                out.println("Addresses:  " + Output.text(state.path("addresses")));
            }
            if (state.hasNonNull("app")) {
                JsonNode app = state.path("app");
                out.println("App:        " + app.path("image").asText() + " (revision " + app.path("revision").asInt() + ", "
                        + AppCommand.shortDigest(app.path("digest").asText()) + "), " + app.path("summary").asText()
                        + (app.path("restarts").asInt() > 0 ? ", " + app.path("restarts").asInt() + " restarts" : ""));
            }
            out.flush();
            return 0;
        }
    }

    private static final Map<String, String> PAST = Map.of("start", "Started", "stop", "Stopped", "restart", "Restarted",
            "freeze", "Froze", "unfreeze", "Unfroze");
    private static final Map<String, String> DOING = Map.of("start", "Starting", "stop", "Stopping", "restart", "Restarting",
            "freeze", "Freezing", "unfreeze", "Unfreezing");

    /** start, stop, restart, freeze, unfreeze: a state change of several containers, or of all. */
    abstract static class StateChange extends Verb {
        @Parameters(paramLabel = "NAME", arity = "0..*")
        List<String> names;
        @Option(names = "--all", description = "Every container.")
        boolean all;

        /** The agent's action: the command's own name (start, stop, restart, freeze, unfreeze). */
        String action() {
            return getClass().getAnnotation(Command.class).name();
        }

        boolean force() {
            return false;
        }

        Integer timeout() {
            return null;
        }

        @Override
        public Integer call() {
            String action = action();
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("action", action);
            body.put("force", force());
            Integer timeout = timeout();
            if (timeout != null) {
                body.put("timeout", timeout);
            }
            return berth.forEach(targets(berth, names, all), name -> berth.operate(DOING.get(action) + " " + name, "PUT",
                    "/1.0/containers/" + encode(name) + "/state", body,
                    Duration.ofSeconds(timeout == null ? 120 : timeout + 60)), PAST.get(action));
        }
    }

    /** stop and restart may halt cleanly or kill. */
    abstract static class Halting extends StateChange {
        @Option(names = "--force", description = "Kill at once instead of a clean halt.")
        boolean force;
        @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long a clean halt may take (default 30).")
        Integer timeout;

        @Override
        boolean force() {
            return force;
        }

        @Override
        Integer timeout() {
            return timeout;
        }
    }

    @Command(name = "start", description = "Start containers.")
    static final class Start extends StateChange {
    }

    @Command(name = "stop", description = "Stop containers: init is asked to halt, then killed after --timeout.")
    static final class Stop extends Halting {
    }

    @Command(name = "restart", description = "Restart containers (a clean halt first, unless --force).")
    static final class Restart extends Halting {
    }

    @Command(name = "freeze", description = "Freeze containers' processes.")
    static final class Freeze extends StateChange {
    }

    @Command(name = "unfreeze", description = "Let frozen containers run again.")
    static final class Unfreeze extends StateChange {
    }

    private static List<String> targets(Berth berth, List<String> names, boolean all) {
        if (all == (names != null && !names.isEmpty())) {
            throw new Berth.UsageError("name the containers, or give --all");
        }
        if (!all) {
            return names;
        }
        List<String> everything = new ArrayList<>();
        for (JsonNode url : checked(berth.client().get("/1.0/containers"))) {
            everything.add(url.asText().substring("/1.0/containers/".length()));
        }
        return everything;
    }

    @Command(name = "delete", aliases = "rm", description = "Delete containers: stopped cleanly first (or killed with --force), then destroyed.")
    static final class Delete extends Verb {
        @Parameters(paramLabel = "NAME", arity = "1..*")
        List<String> names;
        @Option(names = "--force", description = "Kill a running container instead of a clean halt.")
        boolean force;

        @Override
        public Integer call() {
            return berth.forEach(names, name -> berth.operate("Deleting " + name, "DELETE", "/1.0/containers/" + encode(name)
                    + (force ? "?force=true" : ""), null, Duration.ofMinutes(2)), "Deleted");
        }
    }

    @Command(name = "copy", aliases = "cp", description = "Copy a container, or one of its snapshots, to a new container (with its own address).",
            footer = {"%nExamples:",
                "  berth copy web1 web2",
                "  berth copy web1/before web3 --ephemeral"})
    static final class Copy extends Verb {
        @Parameters(index = "0", paramLabel = "SOURCE[/SNAPSHOT]")
        String source;
        @Parameters(index = "1", paramLabel = "NAME")
        String name;
        @Option(names = "--ephemeral", description = "Delete the copy when it stops.")
        boolean ephemeral;

        @Override
        public Integer call() {
            int slash = source.indexOf('/');
            Map<String, Object> from = new LinkedHashMap<>();
            from.put("container", slash < 0 ? source : source.substring(0, slash));
            if (slash >= 0) {
                from.put("snapshot", source.substring(slash + 1));
            }
            long start = System.nanoTime();
            berth.operate("Copying " + source + " to " + name, "POST", "/1.0/containers",
                    Map.of("name", name, "source", from, "ephemeral", ephemeral), Duration.ofMinutes(30));
            berth.summary("Copied " + source + " to " + name + " in " + Output.elapsed(System.nanoTime() - start));
            return 0;
        }
    }

    @Command(name = "events", description = "Follow the agent's events until interrupted.",
            footer = {"%nTypes: operation, lifecycle, logging, app. Human lines by default; --format json prints one "
                + "JSON object per line (for jq)."})
    static final class Events extends Verb {
        @Option(names = {"-t", "--type"}, split = ",", paramLabel = "TYPE", description = "Only these types (default: all).")
        List<String> types;
        @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT", description = "table (lines) or json.")
        Output.Format format;
        @Option(names = "--count", paramLabel = "N", hidden = true, description = "Stop after N events (for tests).")
        Integer count;

        @Override
        public Integer call() throws Exception {
            try (var stream = dev.berth.cli.client.EventStream.open(berth.endpoint(), types == null ? null : String.join(",", types))) {
                int seen = 0;
                for (JsonNode event; (count == null || seen < count) && (event = stream.next()) != null; seen++) {
                    out().println(format == Output.Format.JSON ? Json.compact(event) : Progress.describe(event));
                    out().flush();
                }
                if (stream.closeCode() == 1008) {
                    throw new AgentException("the agent dropped this listener for reading too slowly: " + stream.closeReason(), 500);
                }
            }
            return 0;
        }
    }

    @Command(name = "version", description = "Print the client's and the agent's versions.")
    static final class Version extends Verb {
        @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT", description = "table or json.")
        Output.Format format;

        @Override
        public Integer call() {
            ObjectNode versions = Json.object();
            versions.put("client", Berth.clientVersion());
            int code = 0;
            try {
                JsonNode server = checked(berth.client().get("/1.0"));
                versions.put("agent", server.path("version").asText());
                versions.put("liblxc", server.path("liblxc").asText());
                versions.put("host", server.path("hostname").asText());
            } catch (AgentException e) {
                versions.putNull("agent");
                versions.put("error", Berth.message(e));
                code = Berth.exitCode(e);
            }
            if (format == Output.Format.JSON) {
                out().println(Json.compact(versions));
            } else {
                out().println("Client: " + versions.path("client").asText());
                out().println("Agent:  " + (versions.hasNonNull("agent") ? versions.path("agent").asText() + " on "
                        + versions.path("host").asText() + " (liblxc " + versions.path("liblxc").asText() + ")" : "unreachable: "
                        + versions.path("error").asText()));
            }
            out().flush();
            return code;
        }
    }

    @Command(name = "dial-stdio", hidden = true,
            description = "Connect standard input and output to the local agent's socket (what --remote runs over SSH).")
    static final class DialStdio extends Verb {
        @Override
        public Integer call() throws Exception {
            if (berth.remote != null) {
                throw new Berth.UsageError("dial-stdio connects to this host's agent; drop --remote");
            }
            java.nio.file.Path socket = berth.socketPath();
            var connection = new dev.berth.cli.client.Endpoint.Unix(socket).connect();
            // standard input to the agent until it ends (the far side went away): then the connection closes
            Thread.ofPlatform().daemon().name("berth-dial-in").start(() -> {
                try {
                    byte[] buffer = new byte[64 * 1024];
                    for (int n; (n = System.in.read(buffer)) > 0; ) {
                        connection.out().write(buffer, 0, n);
                    }
                } catch (java.io.IOException e) {
                    // the agent closed first
                } finally {
                    try {
                        connection.close();
                    } catch (java.io.IOException ignored) {
                        // closed already
                    }
                }
            });
            byte[] buffer = new byte[64 * 1024];
            try {
                for (int n; (n = connection.in().read(buffer)) > 0; ) {
                    System.out.write(buffer, 0, n);
                    System.out.flush();
                }
            } catch (java.io.IOException e) {
                // closed by the input side
            }
            System.out.flush();
            return 0;
        }
    }
}
