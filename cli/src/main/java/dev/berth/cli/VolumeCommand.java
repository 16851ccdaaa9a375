package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth volume}: named persistent volumes. */
@Command(name = "volume",
        description = "List, create and delete named volumes: data that outlives containers.",
        footer = {"%nA profile mounts one with mounts: [{volume: data, path: /srv/data}]; a launch creates it if "
                + "missing. A volume that a container mounts cannot be deleted."})
final class VolumeCommand {

    @ParentCommand
    Berth berth;

    @Command(name = "list", aliases = "ls", description = "List volumes with their size and the containers mounting them.")
    int list(@Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json, yaml or csv (default: ${DEFAULT-VALUE}).") Output.Format format) {
        JsonNode all = Berth.checked(berth.client().get("/1.0/volumes?recursion=1"));
        Output.print(berth.out(), format, all, List.of(Output.Column.of("NAME", "name"),
                new Output.Column("SIZE", v -> Output.size(v.path("bytes").asLong())), Output.Column.of("USED BY", "usedBy"),
                Output.Column.of("CREATED", "created")), true);
        return 0;
    }

    @Command(name = "create", description = "Create an empty volume.")
    int create(@Parameters(paramLabel = "NAME") String name) {
        Berth.checked(berth.client().call("POST", "/1.0/volumes", Map.of("name", name)));
        berth.summary("Created volume " + name);
        return 0;
    }

    @Command(name = "delete", aliases = "rm", description = "Delete volumes and their data (refused while mounted).")
    int delete(@Parameters(paramLabel = "NAME", arity = "1..*") List<String> names) {
        return berth.forEach(names, name -> Berth.checked(berth.client().call("DELETE", "/1.0/volumes/" + Berth.encode(name), null)),
                "Deleted volume");
    }
}
