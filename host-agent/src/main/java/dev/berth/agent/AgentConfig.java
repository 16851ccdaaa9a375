package dev.berth.agent;

import dev.berth.agent.ops.AgentLog;
import dev.berth.profile.Doc;
import java.util.List;

/**
 * berthd's config file (YAML, {@code --config}); a flag given on the command line wins over the
 * same setting here. Read with the profiles' rules: unknown keys are errors with file:line:column.
 */
@Doc("berthd's configuration file.")
public record AgentConfig(
        @Doc("Berth's state: images, profiles, container records. Default /var/lib/berth.") String stateDir,
        @Doc("Where containers live. Default <state-dir>/containers.") String lxcpath,
        @Doc("The local API's Unix socket (mode 0660). Default /run/berth/berth.sock.") String socket,
        @Doc("Also serve the API on this TCP address, host:port: loopback only (127.0.0.1 or ::1), as it has no TLS and no authentication.") String listen,
        @Doc("error, warn, info or debug. Default info.") AgentLog.Level logLevel,
        @Doc("The image store. Default <state-dir>/images; several agents may share one.") String images,
        @Doc("Host directories under which profiles may mount host paths.") List<String> hostPaths,
        @Doc("The managed network containers attach to by default.") NetworkConfig network,
        @Doc("How many drift checks (Puppet runs) may run at once on this host. Default 2.") Integer driftConcurrency) {

    /** The managed bridge. */
    @Doc("The managed network.")
    public record NetworkConfig(
            @Doc("The bridge's name (made if missing, left alone if present); 'none' for no managed network. Default berthbr0.")
            String bridge,
            @Doc("The bridge's address and prefix, from which containers get theirs. Default 10.87.0.1/24.") String ipv4) {
    }
}
