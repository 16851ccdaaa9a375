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

/** {@code berth exec} and {@code berth shell}: commands in a container, collected, streamed or on a terminal. */
final class ExecVerbs {

    private ExecVerbs() {
    }

    @Command(name = "exec", description = "Run a command in a container; output streams as it comes, the exit code is passed through.",
            footer = {"%nWith a terminal (or -t) the command runs on a pseudo-terminal inside, keys are sent as typed "
                + "and the window size follows yours; -T turns that off. Without a terminal, -i sends standard "
                + "input to the command. Examples:",
                "  berth exec web1 --env LANG=C -- ls -l /etc",
                "  berth exec -t web1 -- sh",
                "  tar c . | berth exec -i web1 -- tar x -C /srv"})
    static final class Exec extends ContainerVerbs.Verb {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments (after --).")
        List<String> command;
        @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE", description = "An environment variable (repeat).")
        List<String> env;
        @Option(names = "--cwd", paramLabel = "DIR", description = "The working directory inside (default /).")
        String cwd;
        @Option(names = "--user", paramLabel = "UID[:GID]", description = "Run as this user (default root).")
        String user;
        @Option(names = {"-i", "--stdin"}, description = "Send standard input to the command (without it, the command reads end-of-file).")
        boolean stdin;
        @Option(names = {"-t", "--tty"}, description = "Run on a pseudo-terminal (the default when this is a terminal).")
        boolean tty;
        @Option(names = {"-T", "--no-tty"}, description = "Never a pseudo-terminal.")
        boolean noTty;
        @Option(names = "--timeout", paramLabel = "SECONDS", description = "Kill the command after this long.")
        Integer timeout;

        @Override
        public Integer call() throws Exception {
            return run(berth, name, command, env, cwd, user, stdin, tty, noTty, timeout);
        }
    }

    @Command(name = "shell", description = "Open an interactive shell in a container (bash if it has one, else sh).")
    static final class Shell extends ContainerVerbs.Verb {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            return run(berth, name, List.of("sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"),
                    null, "/root", null, false, true, false, null);
        }
    }

    static int run(Berth berth, String name, List<String> command, List<String> env, String cwd, String user, boolean stdin,
                   boolean tty, boolean noTty, Integer timeout) throws Exception {
        return run(berth, name, command, env, cwd, user, stdin, tty, noTty, timeout, false);
    }

    /** @param inApp run the command inside the container's app (crun exec) rather than in the system container */
    static int run(Berth berth, String name, List<String> command, List<String> env, String cwd, String user, boolean stdin,
                   boolean tty, boolean noTty, Integer timeout, boolean inApp) throws Exception {
        boolean interactive = !noTty && (tty || Terminal.interactive());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("command", command);
        if (inApp) {
            body.put("app", true);
        }
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
        JsonNode accepted = checked(berth.client().call("POST", "/1.0/containers/" + encode(name) + "/exec", body));
        String websocket = accepted.path("metadata").path("metadata").path("websocket").asText();
        berth.out().flush();
        Runnable restore = interactive && Terminal.interactive() ? Terminal.raw() : () -> { };
        try {
            java.io.OutputStream stdout = berth.stdoutBytes();
            java.io.OutputStream stderr = berth.stderrBytes();
            try {
                return ExecSession.run(berth.endpoint(), websocket, interactive, interactive || stdin ? System.in : null, stdout, stderr);
            } finally {
                stdout.flush();
                stderr.flush();
            }
        } finally {
            restore.run();
        }
    }
}
