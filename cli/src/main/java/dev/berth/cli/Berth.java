package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.AgentClient;
import dev.berth.cli.client.AgentClient.AgentException;
import dev.berth.cli.client.Endpoint;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ScopeType;

/**
 * {@code berth}: the command-line client of berthd. Containers are the default noun (as with LXD's
 * {@code lxc}): {@code berth launch}, {@code berth list}; other nouns are subcommands
 * ({@code berth profile list}).
 */
public final class Berth {

    static final String DEFAULT_SOCKET = "/run/berth/berth.sock";

    /** Exit codes, also listed in {@code --help}. */
    static final int ERROR = 1;
    static final int USAGE = 2;
    static final int NOT_FOUND = 3;
    static final int CONFLICT = 4;
    static final int UNREACHABLE = 5;
    static final int FAILED = 6;

    /**
     * The command line this object is the root of (set by {@link #commandLine}, which makes both: no
     * {@code @Spec} annotation, as each annotation type costs a generated proxy class at start-up).
     */
    private CommandLine root;

    /** {@code --socket}: set while parsing (see {@link #rootSpec}). */
    Path socket;

    /** {@code --quiet}. */
    boolean quiet;

    /** {@code --remote}: a remote's name or an ssh:// address. */
    String remote;

    private static final String[] FOOTER = {
            "  BERTH_SOCKET      the agent's Unix socket (--socket wins)",
            "  BERTH_REMOTE      a remote agent, as --remote takes it (--remote, --socket win)",
            "  BERTH_CONFIG_DIR  where remotes.yaml is (default ~/.config/berth)",
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
            "  berth profile edit web",
            "  berth list --help"};

    /**
     * The root command's model, built in code rather than from annotations: it is built on every run,
     * and reading annotations costs a generated proxy class per annotation type (a third of berth's
     * start-up). Its help and the global options are inherited by every command, so
     * {@code berth <anything> --help} works.
     */
    private static CommandSpec rootSpec(Berth berth) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(berth);
        spec.name("berth").versionProvider(new Version());
        spec.usageMessage()
                .description("Manage Berth system containers through the local berthd agent.")
                .footerHeading("%nEnvironment:%n")
                .footer(FOOTER);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).scopeType(ScopeType.INHERIT)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
        spec.addOption(OptionSpec.builder("--socket").paramLabel("PATH").type(Path.class).scopeType(ScopeType.INHERIT)
                .description("The agent's Unix socket (default: $BERTH_SOCKET, else " + DEFAULT_SOCKET + ").")
                .setter(setter(value -> berth.socket = (Path) value)).build());
        spec.addOption(OptionSpec.builder("--remote").paramLabel("REMOTE").type(String.class).scopeType(ScopeType.INHERIT)
                .description("An agent on another host, through SSH: a name from 'berth remote list', or "
                        + "ssh://[user@]host[:port][/socket]; 'local' for this host's.")
                .setter(setter(value -> berth.remote = (String) value)).build());
        spec.addOption(OptionSpec.builder("-q", "--quiet").type(boolean.class).scopeType(ScopeType.INHERIT)
                .description("Print no progress and no summary lines; errors still go to standard error.")
                .setter(setter(value -> berth.quiet = (Boolean) value)).build());
        return spec;
    }

    private static CommandLine.Model.ISetter setter(java.util.function.Consumer<Object> consumer) {
        return new CommandLine.Model.ISetter() {
            @Override
            public <T> T set(T value) {
                if (value != null) {
                    consumer.accept(value);
                }
                return null;
            }
        };
    }

    /** Set by {@link #main}: standard output and error are the process's, so bytes go to them as they are. */
    static boolean processStdio;

    public static void main(String[] args) {
        processStdio = true;
        int code = commandLine(args).execute(args);
        System.out.flush();
        System.err.flush();
        // halt, not exit: berth has no shutdown hooks, and exit() starts the JDK's logging to log itself
        Runtime.getRuntime().halt(code);
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

    /** A subcommand of {@code berth}: its names, and how to make it. */
    private record Entry(List<String> names, Supplier<Object> make) {
        Entry(String name, Supplier<Object> make, String... aliases) {
            this(java.util.stream.Stream.concat(java.util.stream.Stream.of(name), java.util.Arrays.stream(aliases)).toList(), make);
        }
    }

    /**
     * Every subcommand, in the order {@code --help} lists them: the container verbs (used most) first.
     * The names repeat each class's {@code @Command} (a test holds them equal) so that a run can pick
     * its command without reflecting on the others.
     */
    private static final List<Entry> COMMANDS = List.of(
            new Entry("launch", ContainerVerbs.Launch::new),
            new Entry("list", () -> new ContainerVerbs.ListVerb().spec, "ls"),
            new Entry("info", ContainerVerbs.Info::new),
            new Entry("start", ContainerVerbs.Start::new),
            new Entry("stop", ContainerVerbs.Stop::new),
            new Entry("restart", ContainerVerbs.Restart::new),
            new Entry("freeze", ContainerVerbs.Freeze::new),
            new Entry("unfreeze", ContainerVerbs.Unfreeze::new),
            new Entry("delete", ContainerVerbs.Delete::new, "rm"),
            new Entry("exec", ExecVerbs.Exec::new),
            new Entry("shell", ExecVerbs.Shell::new),
            new Entry("copy", ContainerVerbs.Copy::new, "cp"),
            new Entry("events", ContainerVerbs.Events::new),
            new Entry("version", ContainerVerbs.Version::new),
            new Entry("profile", Profiles::new),
            new Entry("image", Images::new),
            new Entry("file", FileCommand::new),
            new Entry("snapshot", SnapshotCommand::new),
            new Entry("volume", VolumeCommand::new),
            new Entry("operation", OperationsCommand::new, "op"),
            new Entry("app", AppCommand::new),
            new Entry("drift", DriftCommand::new),
            new Entry("config", ConfigCommand::new),
            new Entry("remote", RemoteCommand::new),
            new Entry("completion", Completion::new),
            new Entry("dial-stdio", ContainerVerbs.DialStdio::new));

    /** The subcommands' objects, made fresh (for tests that compare names with annotations). */
    static List<Object> allCommands() {
        return COMMANDS.stream().map(e -> e.make().get()).toList();
    }

    /** The names and aliases of every subcommand. */
    static java.util.Set<String> commandNames() {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        COMMANDS.forEach(e -> names.addAll(e.names()));
        return names;
    }

    /** The command word in {@code args}: the first that is not an option or an option's value; null for none. */
    static String target(String... args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--socket") || arg.equals("--remote")) {
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
        Berth berth = new Berth();
        CommandLine cmd = new CommandLine(rootSpec(berth));
        berth.root = cmd;
        // Start-up is most of a command's time, and building picocli's model of every command is much
        // of that: when the arguments name a command, only that command's model is built. Help,
        // completion and mistakes (picocli suggests the nearest name) get all of them.
        String target = target(args);
        boolean known = target != null && !target.equals("completion") && commandNames().contains(target);
        boolean versionOnly = target == null && (List.of(args).contains("-V") || List.of(args).contains("--version"))
                && !List.of(args).contains("-h") && !List.of(args).contains("--help");
        for (Entry entry : COMMANDS) {
            if (!versionOnly && (!known || entry.names().contains(target))) {
                Object command = entry.make().get();
                if ((command instanceof CommandSpec spec ? spec.userObject() : command) instanceof ContainerVerbs.Verb verb) {
                    verb.berth = berth;
                }
                cmd.addSubcommand(command);
            }
        }
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        // picocli's own Path converter calls Paths.get by reflection (it supports Java 5): tens of ms cold
        cmd.registerConverter(Path.class, text -> Path.of(text));
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
        return new AgentClient(endpoint());
    }

    /** The agent this run talks to: --remote, --socket, $BERTH_REMOTE, $BERTH_SOCKET, else the default socket. */
    Endpoint endpoint() {
        if (remote != null && socket != null) {
            throw new UsageError("--remote and --socket name two agents; give one");
        }
        String env = System.getenv("BERTH_REMOTE");
        String chosen = remote != null ? remote : socket == null && env != null && !env.isBlank() ? env.strip() : null;
        if (chosen == null || chosen.equals("local")) {
            return new Endpoint.Unix(socketPath());
        }
        return Remotes.resolve(chosen).endpoint();
    }

    Path socketPath() {
        if (socket != null) {
            return socket;
        }
        String env = System.getenv("BERTH_SOCKET");
        return Path.of(env != null && !env.isBlank() ? env : DEFAULT_SOCKET);
    }

    PrintWriter out() {
        return root.getOut();
    }

    PrintWriter err() {
        return root.getErr();
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

    static String clientVersion() {
        String client = Berth.class.getPackage().getImplementationVersion();
        return client == null ? "0.1.0" : client;
    }

    /** The CLI's version for {@code --version}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"berth " + clientVersion()};
        }
    }

    static String shortFingerprint(JsonNode fingerprint) {
        String text = Output.text(fingerprint);
        return text.length() > 12 ? text.substring(0, 12) : text;
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
}
