package dev.berth.cli;

import dev.berth.cli.client.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth remote}: agents on other hosts, reached through SSH. */
@Command(name = "remote",
        description = "Name agents on other hosts, to use with --remote NAME (or BERTH_REMOTE=NAME).",
        footer = {"%nA remote is reached through SSH, as Docker's ssh:// hosts are: berth runs",
                "  ssh [-p PORT] [SSH-OPTIONS] [USER@]HOST -- berth --socket SOCKET dial-stdio",
                "and speaks to the agent through it. SSH does the authentication (keys or an agent; never a "
                + "password prompt) and the encryption; berth must be installed on that host. Remotes are kept in "
                + "$BERTH_CONFIG_DIR/remotes.yaml (default ~/.config/berth/remotes.yaml).",
                "%nExamples:",
                "  berth remote add lab ssh://root@lab.example.org",
                "  berth --remote lab list",
                "  BERTH_REMOTE=lab berth exec web1 -- uptime",
                "  berth --remote ssh://root@10.0.0.7:2222 list"})
final class RemoteCommand {

    @ParentCommand
    Berth berth;

    @Command(name = "list", aliases = "ls", description = "List the remotes.")
    int list(@Option(names = {"-f", "--format"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json, yaml or csv (default: ${DEFAULT-VALUE}).") Output.Format format) {
        var rows = Output.array();
        for (Remotes.Remote remote : Remotes.load().values()) {
            var row = rows.addObject();
            row.put("name", remote.name());
            row.put("address", remote.address());
            row.put("command", remote.command());
            row.set("sshOptions", Json.tree(remote.sshOptions()));
        }
        Output.print(berth.out(), format, rows, List.of(Output.Column.of("NAME", "name"), Output.Column.of("ADDRESS", "address"),
                Output.Column.of("COMMAND", "command"), Output.Column.of("SSH OPTIONS", "sshOptions")), true);
        return 0;
    }

    @Command(name = "add", description = "Add a remote (replacing one of the same name with --force).")
    int add(@Parameters(index = "0", paramLabel = "NAME") String name,
            @Parameters(index = "1", paramLabel = "ADDRESS", description = "ssh://[USER@]HOST[:PORT][/path/to/berth.sock]") String address,
            @Option(names = "--command", paramLabel = "PATH", defaultValue = Remotes.DEFAULT_COMMAND,
                    description = "berth on that host (default: ${DEFAULT-VALUE}, found on its PATH).") String command,
            @Option(names = "--ssh-option", paramLabel = "ARG", description = "An ssh argument (repeat), such as --ssh-option=-i --ssh-option=KEY.")
            List<String> sshOptions,
            @Option(names = "--force", description = "Replace a remote of that name.") boolean force) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new Berth.UsageError("a remote's name is letters, digits, '.', '_' and '-'; got '" + name + "'");
        }
        Map<String, Remotes.Remote> remotes = new LinkedHashMap<>(Remotes.load());
        if (remotes.containsKey(name) && !force) {
            throw new Berth.UsageError("there is a remote '" + name + "' already (" + remotes.get(name).address()
                    + "); replace it with --force, or remove it first");
        }
        Remotes.Remote remote = Remotes.fromAddress(name, address, command, sshOptions == null ? List.of() : new ArrayList<>(sshOptions));
        remotes.put(name, remote);
        Remotes.save(remotes);
        berth.summary("Added remote " + name + " (" + remote.address() + ") to " + Remotes.file());
        return 0;
    }

    @Command(name = "remove", aliases = "rm", description = "Remove remotes.")
    int remove(@Parameters(paramLabel = "NAME", arity = "1..*") List<String> names) {
        Map<String, Remotes.Remote> remotes = new LinkedHashMap<>(Remotes.load());
        for (String name : names) {
            if (remotes.remove(name) == null) {
                throw new Berth.UsageError("no remote '" + name + "' in " + Remotes.file());
            }
        }
        Remotes.save(remotes);
        berth.summary("Removed remote" + (names.size() > 1 ? "s " : " ") + String.join(", ", names));
        return 0;
    }
}
