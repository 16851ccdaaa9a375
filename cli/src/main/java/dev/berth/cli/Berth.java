package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.cli.client.AgentClient;
import dev.berth.cli.client.AgentClient.AgentException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code berth}: the command-line client of berthd. Containers are the default noun (as with LXD's
 * {@code lxc}): {@code berth launch}, {@code berth list}; other nouns are subcommands
 * ({@code berth profile list}).
 */
@Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = Berth.Version.class,
        description = "Manage Berth system containers through the local berthd agent.",
        footerHeading = "%nEnvironment:%n",
        footer = {
                "  BERTH_SOCKET   the agent's Unix socket (--socket wins)",
                "",
                "Exit codes:",
                "  0  success",
                "  1  any other error",
                "  2  usage error or input the agent refused as invalid (HTTP 400)",
                "  3  not found: no such container, profile, image or operation",
                "  4  conflict: it exists already, is in use, or is in the wrong state",
                "  5  the agent cannot be reached",
                "  6  the operation ran and failed (the agent rolled back what it did)",
                "  berth exec passes the command's own exit code through.",
                "",
                "Examples:",
                "  berth launch web1 --profile web --set limits.memory=512MiB",
                "  berth list --format json",
                "  berth exec web1 -- ls /",
                "  berth profile edit web"})
public final class Berth {

    static final String DEFAULT_SOCKET = "/run/berth/berth.sock";

    /** Exit codes, also listed in {@code --help}. */
    static final int ERROR = 1;
    static final int USAGE = 2;
    static final int NOT_FOUND = 3;
    static final int CONFLICT = 4;
    static final int UNREACHABLE = 5;
    static final int FAILED = 6;

    @Spec
    CommandSpec spec;

    @Option(names = "--socket", scope = ScopeType.INHERIT, paramLabel = "PATH",
            description = "The agent's Unix socket (default: $BERTH_SOCKET, else " + DEFAULT_SOCKET + ").")
    Path socket;

    @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT,
            description = "Print no progress and no summary lines; errors still go to standard error.")
    boolean quiet;

    /** Set by {@link #main}: standard output and error are the process's, so bytes go to them as they are. */
    static boolean processStdio;

    public static void main(String[] args) {
        processStdio = true;
        System.exit(commandLine(args).execute(args));
    }

    /** Where a command's output bytes go: the process's stdout, or (embedded, in tests) the command's writer. */
    java.io.OutputStream stdoutBytes() {
        return processStdio ? System.out : new WriterStream(out());
    }

    java.io.OutputStream stderrBytes() {
        return processStdio ? System.err : new WriterStream(err());
    }

    /** Bytes to a writer as UTF-8 text, for commands run embedded with picocli writers. */
    private static final class WriterStream extends java.io.OutputStream {
        private final PrintWriter writer;
        private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();

        WriterStream(PrintWriter writer) {
            this.writer = writer;
        }

        @Override
        public void write(int b) {
            pending.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            pending.write(b, off, len);
        }

        @Override
        public void flush() {
            writer.print(pending.toString(StandardCharsets.UTF_8));
            writer.flush();
            pending.reset();
        }
    }

    private static final java.util.Set<String> NOUNS = java.util.Set.of("profile", "image", "operation", "op", "completion", "file",
            "snapshot", "volume");

    /** Whether {@code word} names a container verb or a noun (else picocli must see all, to suggest). */
    private static boolean isCommand(CommandLine cmd, String word) {
        return cmd.getSubcommands().containsKey(word) || NOUNS.contains(word);
    }

    /** The command word in {@code args}: the first that is not an option or an option's value; null for none. */
    static String target(String... args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--socket")) {
                i++;
            } else if (!arg.startsWith("-")) {
                return arg;
            } else if (arg.equals("-h") || arg.equals("--help") || arg.equals("-V") || arg.equals("--version")) {
                return null;
            }
        }
        return null;
    }

    /** A fresh, fully configured command line (tests make one per test). */
    public static CommandLine commandLine(String... args) {
        CommandLine cmd = new CommandLine(new Berth());
        // Start-up is most of a command's time, and building picocli's model of every command is much
        // of that: when the command is a noun named in the arguments, only that noun's model is built
        // (help, completion and mistakes get all of them).
        String target = target(args);
        List<Object> nouns = new ArrayList<>();
        for (Object noun : List.of(new Profiles(), new Images(), new FileCommand(), new SnapshotCommand(), new VolumeCommand(),
                new OperationsCommand(), new Completion())) {
            Command annotation = noun.getClass().getAnnotation(Command.class);
            if (target == null || target.equals("completion") || annotation.name().equals(target)
                    || List.of(annotation.aliases()).contains(target) || !isCommand(cmd, target)) {
                nouns.add(noun);
            }
        }
        // The nouns after the container verbs, so that --help lists what is used most first.
        nouns.forEach(cmd::addSubcommand);
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        cmd.setExecutionExceptionHandler((e, command, parseResult) -> {
            command.getErr().println("error: " + message(e));
            if (e instanceof UsageError) {
                command.getErr().println("See 'berth " + command.getCommandSpec().qualifiedName(" ").replaceFirst("^berth ?", "")
                        + " --help'.");
            }
            command.getErr().flush();
            return exitCode(e);
        });
        return cmd;
    }

    static String message(Exception e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    static int exitCode(Exception e) {
        return switch (e) {
            case OperationFailed _ -> FAILED;
            case AgentException a -> switch (a.status()) {
                case 0 -> UNREACHABLE;
                case 400, 413 -> USAGE;
                case 404 -> NOT_FOUND;
                case 409 -> CONFLICT;
                default -> ERROR;
            };
            case CommandLine.ParameterException _, UsageError _ -> USAGE;
            default -> ERROR;
        };
    }

    /** Bad usage found while running a command (a malformed --set, an unknown column): exit code 2. */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }

    /** An operation that ran and ended in failure. */
    static final class OperationFailed extends RuntimeException {
        OperationFailed(String message) {
            super(message);
        }
    }

    // ---- shared by the nouns ----

    AgentClient client() {
        return new AgentClient(socketPath());
    }

    Path socketPath() {
        if (socket != null) {
            return socket;
        }
        String env = System.getenv("BERTH_SOCKET");
        return Path.of(env != null && !env.isBlank() ? env : DEFAULT_SOCKET);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Progress lines go to standard error when it is a terminal and --quiet was not given. */
    boolean showProgress() {
        if (quiet) {
            return false;
        }
        String forced = System.getenv("BERTH_PROGRESS");
        if (forced != null) {
            return forced.equals("1");
        }
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    /** Starts an operation and follows it to its end (see {@link Progress}); fails unless it succeeded. */
    JsonNode operate(String what, String method, String path, Object body, Duration timeout) {
        return Progress.run(this, what, method, path, body, timeout);
    }

    /** Prints a one-line summary unless quiet. */
    void summary(String line) {
        if (!quiet) {
            out().println(line);
            out().flush();
        }
    }

    static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** The body of a 2xx answer, else the agent's error as an exception. */
    static JsonNode checked(AgentClient.Response response) {
        if (response.status() >= 400) {
            throw new AgentException(response.body().path("error").asText("HTTP " + response.status()), response.status());
        }
        return response.body();
    }

    /** The CLI's version, and the agent's if it answers. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String client = Berth.class.getPackage().getImplementationVersion();
            return new String[] {"berth " + (client == null ? "0.1.0" : client)};
        }
    }

    // ---- containers: the default noun, its verbs at the top level ----

    @Command(name = "launch", description = "Create a container from profiles and an image, and start it.",
            footer = {"%nThe container's own settings (--set) win over its profiles'. Keys are the profile's fields, dotted:"
                    + " limits.memory=512MiB, limits.cpu=2, autostart=true."})
    int launch(@Parameters(paramLabel = "NAME", description = "The container's name (also its hostname).") String name,
               @Option(names = {"-i", "--image"}, paramLabel = "IMAGE",
                       description = "An image alias or fingerprint; replaces the profiles' image.") String image,
               @Option(names = {"-p", "--profile"}, paramLabel = "PROFILE",
                       description = "A profile to compose, in order (repeat; default: default).") List<String> profiles,
               @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
                       description = "One of the container's own settings (repeat).") List<String> settings,
               @Option(names = "--ephemeral", description = "Delete the container (keeping its volumes) when it stops.") boolean ephemeral) {
        ObjectNode body = Output.JSON.createObjectNode();
        body.put("name", name);
        if (image != null) {
            body.put("image", image);
        }
        body.set("profiles", Output.JSON.valueToTree(profiles == null || profiles.isEmpty() ? List.of("default") : profiles));
        body.set("config", Output.JSON.valueToTree(settings(settings)));
        body.put("ephemeral", ephemeral);
        long start = System.nanoTime();
        operate("Launching " + name, "POST", "/1.0/containers", body, Duration.ofMinutes(10));
        summary("Launched " + name + " in " + Output.elapsed(System.nanoTime() - start));
        return 0;
    }

    /** {@code key=value} settings, typed as YAML would read them (numbers, true/false, else text). */
    Map<String, Object> settings(List<String> settings) {
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

    static final List<String> CONTAINER_COLUMNS = List.of("name", "state", "address", "image", "profiles", "pid", "created");

    @Command(name = "list", aliases = "ls", description = "List containers.",
            footer = {"%nFilters: a word matches names containing it; KEY=VALUE matches a column exactly",
                    "(state=running, profiles=web). Columns: " + "name, state, address, image, profiles, pid, created."})
    int list(@Parameters(paramLabel = "FILTER", arity = "0..*", description = "Name substrings or column=value.") List<String> filters,
             @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                     description = "table, json, yaml or csv (default: ${DEFAULT-VALUE}).") Output.Format format,
             @Option(names = {"-c", "--columns"}, split = ",", paramLabel = "COLUMN",
                     description = "The columns to show, comma-separated (default: all).") List<String> columns,
             @Option(names = "--no-header", description = "Leave out the header line (table and csv).") boolean noHeader,
             @Option(names = "--names", hidden = true, description = "Names only, one per line (for completion).") boolean names) {
        AgentClient client = client();
        if (names) {
            for (JsonNode url : client.get("/1.0/containers").body()) {
                out().println(url.asText().substring("/1.0/containers/".length()));
            }
            out().flush();
            return 0;
        }
        JsonNode all = checked(client.get("/1.0/containers?recursion=1"));
        var shown = Output.array();
        for (JsonNode container : all) {
            if (matches(container, filters)) {
                shown.add(container);
            }
        }
        Output.print(out(), format, shown, containerColumns(columns), !noHeader);
        return 0;
    }

    private List<Output.Column> containerColumns(List<String> wanted) {
        List<Output.Column> columns = new ArrayList<>();
        for (String column : wanted == null || wanted.isEmpty() ? CONTAINER_COLUMNS : wanted) {
            String key = column.strip().toLowerCase(Locale.ROOT);
            columns.add(switch (key) {
                case "name" -> Output.Column.of("NAME", "name");
                case "state" -> Output.Column.of("STATE", "status");
                case "address" -> Output.Column.of("ADDRESS", "address");
                case "image" -> new Output.Column("IMAGE", c -> shortFingerprint(c.path("image")));
                case "profiles" -> Output.Column.of("PROFILES", "profiles");
                case "pid" -> Output.Column.of("PID", "pid");
                case "created" -> Output.Column.of("CREATED", "created");
                default -> throw new Berth.UsageError("unknown column '" + column
                        + "'; the columns are " + String.join(", ", CONTAINER_COLUMNS));
            });
        }
        return columns;
    }

    private boolean matches(JsonNode container, List<String> filters) {
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
            JsonNode field = container.path(switch (key) {
                case "state" -> "status";
                default -> key;
            });
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

    static String shortFingerprint(JsonNode fingerprint) {
        String text = Output.text(fingerprint);
        return text.length() > 12 ? text.substring(0, 12) : text;
    }

    @Command(name = "info", description = "Show a container: what it is made of, and its live state.")
    int info(@Parameters(paramLabel = "NAME") String name,
             @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                     description = "table (readable), json or yaml (default: ${DEFAULT-VALUE}).") Output.Format format) {
        AgentClient client = client();
        JsonNode container = checked(client.get("/1.0/containers/" + encode(name)));
        JsonNode state = checked(client.get("/1.0/containers/" + encode(name) + "/state"));
        ObjectNode both = ((ObjectNode) container.deepCopy());
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
            out.println("Init pid:   " + state.path("pid").asText());
            out.println("Memory:     " + Output.size(state.path("memoryUsage").asLong()) + " used"
                    + (state.path("memoryLimit").asLong() > 0 && state.path("memoryLimit").asLong() < Long.MAX_VALUE / 2
                    ? " of " + Output.size(state.path("memoryLimit").asLong()) : ""));
            out.println("Processes:  " + state.path("processes").asText());
            out.println("Addresses:  " + Output.text(state.path("addresses")));
        }
        out.flush();
        return 0;
    }

    @Command(name = "start", description = "Start containers.")
    int start(@Parameters(paramLabel = "NAME", arity = "0..*") List<String> names,
              @Option(names = "--all", description = "Every container.") boolean all) {
        return changeState("start", names, all, false, null);
    }

    @Command(name = "stop", description = "Stop containers: init is asked to halt, then killed after --timeout.")
    int stop(@Parameters(paramLabel = "NAME", arity = "0..*") List<String> names,
             @Option(names = "--all", description = "Every container.") boolean all,
             @Option(names = "--force", description = "Kill at once instead of a clean halt.") boolean force,
             @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long a clean halt may take (default 30).") Integer timeout) {
        return changeState("stop", names, all, force, timeout);
    }

    @Command(name = "restart", description = "Restart containers (a clean halt first, unless --force).")
    int restart(@Parameters(paramLabel = "NAME", arity = "0..*") List<String> names,
                @Option(names = "--all", description = "Every container.") boolean all,
                @Option(names = "--force", description = "Kill instead of a clean halt.") boolean force,
                @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long a clean halt may take (default 30).") Integer timeout) {
        return changeState("restart", names, all, force, timeout);
    }

    @Command(name = "freeze", description = "Freeze containers' processes.")
    int freeze(@Parameters(paramLabel = "NAME", arity = "0..*") List<String> names,
               @Option(names = "--all", description = "Every container.") boolean all) {
        return changeState("freeze", names, all, false, null);
    }

    @Command(name = "unfreeze", description = "Let frozen containers run again.")
    int unfreeze(@Parameters(paramLabel = "NAME", arity = "0..*") List<String> names,
                 @Option(names = "--all", description = "Every container.") boolean all) {
        return changeState("unfreeze", names, all, false, null);
    }

    private static final Map<String, String> PAST = Map.of("start", "Started", "stop", "Stopped", "restart", "Restarted",
            "freeze", "Froze", "unfreeze", "Unfroze");
    private static final Map<String, String> DOING = Map.of("start", "Starting", "stop", "Stopping", "restart", "Restarting",
            "freeze", "Freezing", "unfreeze", "Unfreezing");

    private int changeState(String action, List<String> names, boolean all, boolean force, Integer timeout) {
        List<String> targets = targets(names, all);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("action", action);
        body.put("force", force);
        if (timeout != null) {
            body.put("timeout", timeout);
        }
        return forEach(targets, name -> operate(DOING.get(action) + " " + name, "PUT", "/1.0/containers/" + encode(name) + "/state", body,
                Duration.ofSeconds(timeout == null ? 120 : timeout + 60)), PAST.get(action));
    }

    @Command(name = "delete", aliases = "rm", description = "Delete containers: stopped cleanly first (or killed with --force), then destroyed.")
    int delete(@Parameters(paramLabel = "NAME", arity = "1..*") List<String> names,
               @Option(names = "--force", description = "Kill a running container instead of a clean halt.") boolean force) {
        return forEach(names, name -> operate("Deleting " + name, "DELETE", "/1.0/containers/" + encode(name)
                + (force ? "?force=true" : ""), null, Duration.ofMinutes(2)), "Deleted");
    }

    private List<String> targets(List<String> names, boolean all) {
        if (all == (names != null && !names.isEmpty())) {
            throw new Berth.UsageError("name the containers, or give --all");
        }
        if (!all) {
            return names;
        }
        List<String> everything = new ArrayList<>();
        for (JsonNode url : checked(client().get("/1.0/containers"))) {
            everything.add(url.asText().substring("/1.0/containers/".length()));
        }
        return everything;
    }

    /** Runs {@code action} on each name; goes on after a failure and returns the first failure's exit code. */
    int forEach(List<String> names, java.util.function.Consumer<String> action, String past) {
        int result = 0;
        for (String name : names) {
            long start = System.nanoTime();
            try {
                action.accept(name);
                summary(past + " " + name + " in " + Output.elapsed(System.nanoTime() - start));
            } catch (AgentException | OperationFailed e) {
                err().println("error: " + name + ": " + message(e));
                err().flush();
                if (result == 0) {
                    result = exitCode(e);
                }
            }
        }
        return result;
    }

    @Command(name = "exec", description = "Run a command in a container; output streams as it comes, the exit code is passed through.",
            footer = {"%nWith a terminal (or -t) the command runs on a pseudo-terminal inside, keys are sent as typed and the",
                    "window size follows yours; -T turns that off. Without a terminal, -i sends standard input to the command.",
                    "Examples:", "  berth exec web1 --env LANG=C -- ls -l /etc", "  berth exec -t web1 -- sh", "  tar c . | berth exec -i web1 -- tar x -C /srv"})
    int exec(@Parameters(index = "0", paramLabel = "NAME") String name,
             @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments (after --).") List<String> command,
             @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE", description = "An environment variable (repeat).") List<String> env,
             @Option(names = "--cwd", paramLabel = "DIR", description = "The working directory inside (default /).") String cwd,
             @Option(names = "--user", paramLabel = "UID[:GID]", description = "Run as this user (default root).") String user,
             @Option(names = {"-i", "--stdin"}, description = "Send standard input to the command (without it, the command reads end-of-file).") boolean stdin,
             @Option(names = {"-t", "--tty"}, description = "Run on a pseudo-terminal (the default when this is a terminal).") boolean tty,
             @Option(names = {"-T", "--no-tty"}, description = "Never a pseudo-terminal.") boolean noTty,
             @Option(names = "--timeout", paramLabel = "SECONDS", description = "Kill the command after this long.") Integer timeout) throws Exception {
        boolean interactive = !noTty && (tty || Terminal.interactive());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("command", command);
        Map<String, String> environment = new LinkedHashMap<>();
        for (String pair : env == null ? List.<String>of() : env) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new Berth.UsageError("--env takes KEY=VALUE; got '" + pair + "'");
            }
            environment.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        body.put("environment", environment);
        if (cwd != null) {
            body.put("cwd", cwd);
        }
        if (user != null) {
            String[] ids = user.split(":", 2);
            try {
                body.put("user", Integer.parseInt(ids[0]));
                body.put("group", Integer.parseInt(ids.length > 1 ? ids[1] : ids[0]));
            } catch (NumberFormatException e) {
                throw new Berth.UsageError("--user takes numeric UID[:GID]; got '" + user + "'");
            }
        }
        if (timeout != null) {
            body.put("timeout", timeout);
        }
        if (interactive) {
            int[] size = Terminal.size();
            body.put("interactive", true);
            body.put("width", size[1]);
            body.put("height", size[0]);
        } else {
            body.put("stream", true);
        }
        JsonNode accepted = checked(client().call("POST", "/1.0/containers/" + encode(name) + "/exec", body));
        String websocket = accepted.path("metadata").path("metadata").path("websocket").asText();
        out().flush();
        Runnable restore = interactive && Terminal.interactive() ? Terminal.raw() : () -> { };
        try {
            java.io.OutputStream stdout = stdoutBytes();
            java.io.OutputStream stderr = stderrBytes();
            try {
                return ExecSession.run(socketPath(), websocket, interactive, interactive || stdin ? System.in : null, stdout, stderr);
            } finally {
                stdout.flush();
                stderr.flush();
            }
        } finally {
            restore.run();
        }
    }

    @Command(name = "shell", description = "Open an interactive shell in a container (bash if it has one, else sh).")
    int shell(@Parameters(paramLabel = "NAME") String name) throws Exception {
        return exec(name, List.of("sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"),
                null, "/root", null, false, true, false, null);
    }

    @Command(name = "copy", aliases = "cp", description = "Copy a container, or one of its snapshots, to a new container (with its own address).",
            footer = {"%nExamples:", "  berth copy web1 web2", "  berth copy web1/before web3 --ephemeral"})
    int copy(@Parameters(index = "0", paramLabel = "SOURCE[/SNAPSHOT]") String source,
             @Parameters(index = "1", paramLabel = "NAME") String name,
             @Option(names = "--ephemeral", description = "Delete the copy when it stops.") boolean ephemeral) {
        int slash = source.indexOf('/');
        Map<String, Object> from = new LinkedHashMap<>();
        from.put("container", slash < 0 ? source : source.substring(0, slash));
        if (slash >= 0) {
            from.put("snapshot", source.substring(slash + 1));
        }
        long start = System.nanoTime();
        operate("Copying " + source + " to " + name, "POST", "/1.0/containers",
                Map.of("name", name, "source", from, "ephemeral", ephemeral), Duration.ofMinutes(30));
        summary("Copied " + source + " to " + name + " in " + Output.elapsed(System.nanoTime() - start));
        return 0;
    }

    @Command(name = "events", description = "Follow the agent's events until interrupted.",
            footer = {"%nTypes: operation, lifecycle, logging. Human lines by default; --format json prints one JSON",
                    "object per line (for jq)."})
    int events(@Option(names = {"-t", "--type"}, split = ",", paramLabel = "TYPE", description = "Only these types (default: all).") List<String> types,
               @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT", description = "table (lines) or json.") Output.Format format,
               @Option(names = "--count", paramLabel = "N", hidden = true, description = "Stop after N events (for tests).") Integer count) throws Exception {
        try (var stream = dev.berth.cli.client.EventStream.open(socketPath(), types == null ? null : String.join(",", types))) {
            int seen = 0;
            for (JsonNode event; (count == null || seen < count) && (event = stream.next()) != null; seen++) {
                out().println(format == Output.Format.JSON ? event.toString() : Progress.describe(event));
                out().flush();
            }
            if (stream.closeCode() == 1008) {
                throw new AgentException("the agent dropped this listener for reading too slowly: " + stream.closeReason(), 500);
            }
        }
        return 0;
    }

    @Command(name = "version", description = "Print the client's and the agent's versions.")
    int version(@Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT", description = "table or json.") Output.Format format) {
        ObjectNode versions = Output.JSON.createObjectNode();
        versions.put("client", new Version().getVersion()[0].substring("berth ".length()));
        int code = 0;
        try {
            JsonNode server = checked(client().get("/1.0"));
            versions.put("agent", server.path("version").asText());
            versions.put("liblxc", server.path("liblxc").asText());
            versions.put("host", server.path("hostname").asText());
        } catch (AgentException e) {
            versions.putNull("agent");
            versions.put("error", message(e));
            code = exitCode(e);
        }
        if (format == Output.Format.JSON) {
            out().println(versions.toString());
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
