package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth operation}: the agent's background operations. */
@Command(name = "operation", aliases = "op",
        description = "List, wait for and cancel the agent's operations (launches, builds, state changes).")
final class OperationsCommand {

    @ParentCommand
    Berth berth;

    @Command(name = "list", aliases = "ls", description = "List running and recently finished operations (kept 10 minutes).")
    int list(@Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json, yaml or csv (default: ${DEFAULT-VALUE}).") Output.Format format,
             @Option(names = "--no-header", description = "Leave out the header line.") boolean noHeader) {
        JsonNode all = Berth.checked(berth.client().get("/1.0/operations?recursion=1"));
        Output.print(berth.out(), format, all, List.of(Output.Column.of("ID", "id"), Output.Column.of("STATUS", "status"),
                Output.Column.of("DESCRIPTION", "description"), Output.Column.of("CREATED", "created"),
                new Output.Column("CANCELLABLE", o -> o.path("mayCancel").asBoolean() ? "yes" : "no"),
                Output.Column.of("ERROR", "error")), !noHeader);
        return 0;
    }

    @Command(name = "wait", description = "Wait for an operation to end; exits 0 only if it succeeded.")
    int await(@Parameters(paramLabel = "ID") String id,
              @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS", description = "Give up after this long (default ${DEFAULT-VALUE}).") long timeout) {
        String path = "/1.0/operations/" + Berth.encode(id);
        Berth.checked(berth.client().get(path));
        JsonNode op = berth.client().await(path, Duration.ofSeconds(timeout));
        String status = op.path("status").asText();
        berth.summary("Operation " + id + " " + status + (op.hasNonNull("error") ? ": " + op.get("error").asText() : ""));
        return switch (status) {
            case "success" -> 0;
            case "pending", "running" -> Berth.ERROR;
            default -> Berth.FAILED;
        };
    }

    @Command(name = "cancel", description = "Cancel an operation that has not started its irreversible part.")
    int cancel(@Parameters(paramLabel = "ID") String id) {
        JsonNode op = Berth.checked(berth.client().call("DELETE", "/1.0/operations/" + Berth.encode(id), null));
        berth.summary("Operation " + id + " " + op.path("status").asText());
        return 0;
    }
}
