package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth snapshot}: a container's snapshots. */
@Command(name = "snapshot",
        description = "Take, list, restore and delete a container's snapshots.",
        footer = {"%nA restore is all or nothing: if it fails, the container is left as it was (and running, if it "
                + "was). Examples:",
                "  berth snapshot create web1 before-upgrade",
                "  berth snapshot restore web1 before-upgrade",
                "  berth copy web1/before-upgrade web1-test"})
final class SnapshotCommand {

    @ParentCommand
    Berth berth;

    @Command(name = "create", description = "Snapshot a container (a running one is frozen for the copy).")
    int create(@Parameters(index = "0", paramLabel = "NAME") String name,
               @Parameters(index = "1", arity = "0..1", paramLabel = "SNAPSHOT", description = "Its name (default snap0, snap1, ...).") String snapshot) {
        long start = System.nanoTime();
        JsonNode op = berth.operate("Snapshotting " + name, "POST", "/1.0/containers/" + Berth.encode(name) + "/snapshots",
                snapshot == null ? Map.of() : Map.of("name", snapshot), Duration.ofMinutes(30));
        berth.summary("Snapshot " + op.path("metadata").path("name").asText() + " of " + name + " taken in "
                + Output.elapsed(System.nanoTime() - start));
        return 0;
    }

    @Command(name = "list", aliases = "ls", description = "List a container's snapshots, oldest first.")
    int list(@Parameters(paramLabel = "NAME") String name,
             @Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
                     description = "table, json, yaml or csv (default: ${DEFAULT-VALUE}).") Output.Format format) {
        JsonNode all = Berth.checked(berth.client().get("/1.0/containers/" + Berth.encode(name) + "/snapshots"));
        Output.print(berth.out(), format, all, List.of(Output.Column.of("NAME", "name"), Output.Column.of("CREATED", "created"),
                new Output.Column("SIZE", s -> Output.size(s.path("bytes").asLong()))), true);
        return 0;
    }

    @Command(name = "restore", description = "Put a container back to a snapshot (a running one is restarted).")
    int restore(@Parameters(index = "0", paramLabel = "NAME") String name, @Parameters(index = "1", paramLabel = "SNAPSHOT") String snapshot) {
        long start = System.nanoTime();
        berth.operate("Restoring " + name + " to " + snapshot, "POST", "/1.0/containers/" + Berth.encode(name) + "/snapshots/"
                + Berth.encode(snapshot) + "/restore", null, Duration.ofMinutes(30));
        berth.summary("Restored " + name + " to " + snapshot + " in " + Output.elapsed(System.nanoTime() - start));
        return 0;
    }

    @Command(name = "delete", aliases = "rm", description = "Delete a snapshot.")
    int delete(@Parameters(index = "0", paramLabel = "NAME") String name, @Parameters(index = "1", paramLabel = "SNAPSHOT") String snapshot) {
        berth.operate("Deleting snapshot " + snapshot, "DELETE", "/1.0/containers/" + Berth.encode(name) + "/snapshots/"
                + Berth.encode(snapshot), null, Duration.ofMinutes(10));
        berth.summary("Deleted snapshot " + snapshot + " of " + name);
        return 0;
    }
}
