package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cli.client.AgentClient.AgentException;
import dev.berth.cli.client.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth drift}: configuration drift inside containers (Puppet's) and of their envelope (LXC config, limits). */
@Command(name = "drift", subcommands = {DriftCommand.Check.class, DriftCommand.Reconcile.class},
        description = "Show the last drift check of a container; check or reconcile drift now.",
        footer = {"%nA check runs the profile's Puppet manifest with --noop inside the container and reads the run "
                + "report, and compares the container's LXC config and live limits with its profile. Under "
                + "puppet.policy enforce (or with reconcile) what drifted is put back and reported corrected. "
                + "Checks also run by themselves at the profile's puppet.interval, a few at a time per host "
                + "(drift-concurrency).",
                "%nExit status of check and reconcile: 0 in sync or corrected, 2 drift left as found, 6 a check "
                + "that failed.",
                "%nExamples:",
                "  berth drift web1",
                "  berth drift check --all",
                "  berth drift reconcile web1"})
final class DriftCommand implements Callable<Integer> {

    static final int DRIFTED = 2;

    @ParentCommand
    Berth berth;

    @Parameters(paramLabel = "NAME", arity = "0..1", description = "The container whose last report to show.")
    String name;

    @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json or yaml (default: ${DEFAULT-VALUE}).")
    Output.Format format;

    @Override
    public Integer call() {
        if (name == null) {
            throw new Berth.UsageError("name a container (berth drift NAME), or check: berth drift check NAME|--all");
        }
        JsonNode report = Berth.checked(berth.client().get("/1.0/containers/" + Berth.encode(name) + "/drift"));
        if (format != Output.Format.TABLE) {
            Output.printObject(berth.out(), format, report);
        } else {
            print(berth.out(), report);
        }
        return exitCode(report);
    }

    static int exitCode(JsonNode report) {
        return switch (report.path("status").asText()) {
            case "failed" -> Berth.FAILED;
            case "drifted" -> DRIFTED;
            default -> 0;
        };
    }

    /** A report for people: when, how long, the status, then one row per resource and the failures. */
    static void print(PrintWriter out, JsonNode report) {
        int count = report.path("resources").size();
        out.println("Container:  " + report.path("container").asText());
        out.println("Checked:    " + report.path("time").asText() + " (" + Output.elapsed(report.path("durationMs").asLong() * 1_000_000)
                + ", policy " + report.path("policy").asText()
                + (report.hasNonNull("puppetVersion") ? ", Puppet " + report.path("puppetVersion").asText() : "") + ")");
        out.println("Status:     " + report.path("status").asText() + (count > 0 ? " (" + count + (count == 1 ? " resource)" : " resources)") : ""));
        if (count > 0) {
            out.println();
            Output.print(out, Output.Format.TABLE, report.path("resources"), List.of(
                    new Output.Column("RESOURCE", r -> r.path("resource").asText()),
                    new Output.Column("PROPERTY", r -> r.path("property").asText("-")),
                    new Output.Column("IS", r -> r.path("is").asText("-")),
                    new Output.Column("SHOULD", r -> r.path("should").asText("-")),
                    new Output.Column("CORRECTED", r -> r.path("corrected").asBoolean() ? "yes" : "no"),
                    new Output.Column("WHERE", r -> r.hasNonNull("line") ? r.path("file").asText() + ":" + r.path("line").asInt()
                            : r.path("source").asText())), true);
        }
        if (!report.path("failures").isEmpty()) {
            out.println();
            out.println("Failures:");
            for (JsonNode f : report.path("failures")) {
                out.println("  " + f.asText());
            }
        }
        out.flush();
    }

    /** Shared by check and reconcile: one operation per container, a summary line each (or the reports as JSON). */
    abstract static class Run implements Callable<Integer> {
        @ParentCommand
        DriftCommand drift;

        @Parameters(paramLabel = "NAME", arity = "0..*", description = "The containers.")
        List<String> names;

        @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                description = "table (a line per container, the report of a single one) or json (the reports).")
        Output.Format format;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "1800",
                description = "How long to wait for each check, Puppet's own time limit aside (default: ${DEFAULT-VALUE}).")
        int timeout;

        @Option(names = "--all", description = "Every running container Berth made.")
        boolean all;

        abstract String action();

        @Override
        public Integer call() {
            Berth berth = drift.berth;
            List<String> targets = new ArrayList<>(names == null ? List.of() : names);
            if (all) {
                if (!targets.isEmpty()) {
                    throw new Berth.UsageError("--all checks every running container: give no names with it");
                }
                for (JsonNode c : Berth.checked(berth.client().get("/1.0/containers?recursion=1"))) {
                    if (c.path("status").asText().equals("RUNNING") && c.hasNonNull("profiles") && !c.path("profiles").isEmpty()) {
                        targets.add(c.path("name").asText());
                    }
                }
            } else if (targets.isEmpty()) {
                throw new Berth.UsageError("name the containers, or give --all");
            }
            int result = 0;
            var reports = Output.array();
            for (String target : targets) {
                long start = System.nanoTime();
                try {
                    JsonNode op = berth.operate((action().equals("check") ? "Checking " : "Reconciling ") + target, "POST",
                            "/1.0/containers/" + Berth.encode(target) + "/drift", Map.of("action", action()), Duration.ofSeconds(timeout));
                    JsonNode report = op.path("metadata");
                    reports.add(report);
                    int code = exitCode(report);
                    result = result == Berth.FAILED || code == Berth.FAILED ? Berth.FAILED : Math.max(result, code);
                    if (format == Output.Format.JSON) {
                        continue;
                    }
                    if (targets.size() == 1) {
                        print(berth.out(), report);
                    } else {
                        berth.out().println(target + ": " + summary(report) + " in " + Output.elapsed(System.nanoTime() - start));
                        berth.out().flush();
                    }
                } catch (AgentException | Berth.OperationFailed e) {
                    berth.err().println("error: " + target + ": " + Berth.message(e));
                    berth.err().flush();
                    result = Berth.exitCode(e);
                }
            }
            if (format == Output.Format.JSON) {
                berth.out().println(Json.compact(reports));
                berth.out().flush();
            }
            return result;
        }

        private static String summary(JsonNode report) {
            int count = report.path("resources").size();
            String what = report.path("status").asText();
            if (count > 0) {
                List<String> names = new ArrayList<>();
                report.path("resources").forEach(r -> names.add(r.path("resource").asText()
                        + (r.hasNonNull("property") ? "." + r.path("property").asText() : "")));
                what += " (" + String.join(", ", names) + ")";
            }
            if (!report.path("failures").isEmpty()) {
                what += ": " + report.path("failures").get(0).asText();
            }
            return what;
        }
    }

    @Command(name = "check", description = "Check containers for drift now (the profile's policy decides whether to reconcile).")
    static final class Check extends Run {
        @Override
        String action() {
            return "check";
        }
    }

    @Command(name = "reconcile", description = "Check and put back what drifted, whatever the profile's policy.")
    static final class Reconcile extends Run {
        @Override
        String action() {
            return "reconcile";
        }
    }
}
