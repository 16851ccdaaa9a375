package dev.berth.profile;

import dev.berth.profile.Values.Cpu;
import dev.berth.profile.Values.Interval;
import dev.berth.profile.Values.Ipv4;
import dev.berth.profile.Values.Size;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a profile declares: the writable part of a profile, and the shape of a composed one. Every
 * field may be absent in one file and come from a profile it extends.
 */
@Doc("A Berth profile: how to build and run one system container and the one app container inside it.")
public record ProfileSpec(
        @Required @Doc("The profile's name: letters, digits and '-', at most 63 characters.") String name,
        @Multiline @Doc("What the profile is for.") String description,
        @Key("extends") @Doc("Profiles applied before this one, in order; this one's keys win.") List<String> parents,
        @Doc("The base system image, by alias (debian/bookworm) or sha256 fingerprint.") String image,
        @Doc("Resource limits of the system container.") Limits limits,
        @Doc("Start the container when the agent starts.") Boolean autostart,
        @Doc("Privilege and nesting.") Security security,
        @Doc("The container's network: bridge, address and port forwards.") Network network,
        @Doc("Persistent volumes and host paths mounted into the container.") List<Mount> mounts,
        @Doc("Automatic snapshots of the container: how often, and how long each is kept.") AutoSnapshots snapshots,
        @Doc("Environment variables of the container's init.") Map<String, String> environment,
        @Doc("Free-form labels for selection and discovery.") Map<String, String> labels,
        @Doc("The one application (OCI) container inside.") App app,
        @Doc("Configuration kept in place by Puppet, and the drift policy.") Puppet puppet) implements Validated {

    static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** A Linux interface name: at most 15 bytes, no '/', ':' or whitespace. */
    static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,14}");

    @Override
    public void validate(Checks checks) {
        if (name != null && !NAME.matcher(name).matches()) {
            checks.fail("name", "'" + name + "' is not a profile name: use lower-case letters, digits and '-', 1-63 characters",
                    "for example web-frontend");
        }
        if (image == null) {
            checks.fail("image", "no profile in the chain sets the base image", "add image: debian/bookworm (or another alias)");
        }
        if (environment != null) {
            for (String key : environment.keySet()) {
                if (!ENV_NAME.matcher(key).matches()) {
                    checks.fail("environment", "'" + key + "' is not an environment variable name",
                            "letters, digits and '_', not starting with a digit: for example APP_MODE");
                }
            }
        }
    }

    @Doc("Resource limits; live-updatable on a running container where the kernel allows.")
    public record Limits(
            @Doc("CPU: a count of CPUs' time (2, 0.5) or a set to pin to (0-1,3).") Cpu cpu,
            @Doc("Memory: bytes with a unit (512MiB) or a percentage of the host (25%).") Size memory,
            @Range(min = 1, max = 4194304) @Doc("The most processes and threads at once.") Integer pids,
            @Doc("Root disk size, where the storage supports quotas.") Size disk) {
    }

    @Doc("Security settings.")
    public record Security(
            @Doc("Run with host root as container root (default false: unprivileged, with an idmap).") Boolean privileged,
            @Doc("Allow containers inside the container (default false; the app container gets what it needs without it).") Boolean nesting,
            @Doc("An unprivileged container's host ids: isolated (default), a range of 65,536 of its own; shared, the one range"
                    + " every shared container runs as (for volumes they write to together).") Idmap idmap) {
    }

    public enum Idmap { ISOLATED, SHARED }

    @Doc("Network settings.")
    public record Network(
            @Doc("The host bridge to attach to (default: the agent's managed bridge).") String bridge,
            @Doc("auto, or a static IPv4 address on the bridge's subnet.") Ipv4 ipv4,
            @Doc("Host ports forwarded into the container.") List<Forward> forwards) implements Validated {

        @Override
        public void validate(Checks checks) {
            if (bridge != null && !INTERFACE.matcher(bridge).matches()) {
                checks.fail("bridge", "'" + bridge + "' is not a network interface name",
                        "1-15 letters, digits, '.', '_' or '-': for example br0");
            }
        }
    }

    @Doc("A host port forwarded to a container port.")
    public record Forward(
            @Doc("tcp (default) or udp.") Protocol protocol,
            @Doc("The host address to listen on (default 127.0.0.1).") String listen,
            @Required @Range(min = 1, max = 65535) @Doc("The host port.") Integer port,
            @Key("target-port") @Range(min = 1, max = 65535) @Doc("The container port (default: the host port).") Integer targetPort)
            implements Validated {

        @Override
        public void validate(Checks checks) {
            if (listen != null) {
                try {
                    Ipv4.parse(listen);
                } catch (IllegalArgumentException e) {
                    checks.fail("listen", "'" + listen + "' is not an IPv4 address to listen on", "for example 127.0.0.1 or 0.0.0.0");
                }
            }
        }
    }

    public enum Protocol { TCP, UDP }

    @Doc("A mount: a named volume or an allow-listed host path, at a path inside the container.")
    public record Mount(
            @Doc("A named persistent volume of the agent; it outlives the container.") String volume,
            @Key("host-path") @Doc("An absolute host path, allowed by the agent's allow-list.") String hostPath,
            @Required @Doc("The absolute path inside the container.") String path,
            @Key("read-only") @Doc("Mount read-only (default false).") Boolean readOnly) implements Validated {

        @Override
        public void validate(Checks checks) {
            if ((volume == null) == (hostPath == null)) {
                checks.fail("volume", "a mount names exactly one of volume and host-path", "volume: data, or host-path: /srv/data");
            }
            if (volume != null && !NAME.matcher(volume).matches()) {
                checks.fail("volume", "'" + volume + "' is not a volume name", "lower-case letters, digits and '-'");
            }
            checkAbsolute(checks, "host-path", hostPath);
            checkAbsolute(checks, "path", path);
        }

        private static void checkAbsolute(Checks checks, String field, String value) {
            if (value == null) {
                return;
            }
            if (value.chars().anyMatch(c -> Character.isWhitespace(c) || c == '\\')) {
                checks.fail(field, "'" + value + "' contains whitespace or a backslash, which mount entries cannot carry",
                        "rename the directory, or mount a parent of it");
                return;
            }
            Path p = Path.of(value);
            if (!p.isAbsolute() || !p.normalize().toString().equals(p.toString()) || value.contains("..") || value.equals("/")) {
                checks.fail(field, "'" + value + "' must be an absolute path without '..' or '.' parts, and not /",
                        "for example /var/lib/data");
            }
        }
    }

    @Doc("Automatic snapshots, named auto-<time>; snapshots taken by hand are never expired.")
    public record AutoSnapshots(
            @Required @Doc("Time between snapshots (30m, 24h).") Interval schedule,
            @Doc("How long an automatic snapshot is kept (default: until the container is deleted).") Interval expiry) {
    }

    @Doc("The application container.")
    public record App(
            @Required @Doc("The OCI image: name:tag in the agent's store, name@sha256:<digest>, or an archive path.") String image,
            @Multiline @Doc("Replaces the image's ENTRYPOINT.") List<String> entrypoint,
            @Multiline @Doc("Replaces the image's CMD.") List<String> command,
            @Doc("Environment added to the image's.") Map<String, String> env,
            @Doc("Working directory (default: the image's).") String workdir,
            @Doc("User (name or uid[:gid]) to run as (default: the image's).") String user,
            @Doc("Ports the app listens on (for health checks and discovery).") @Range(min = 1, max = 65535) List<Integer> ports,
            @Doc("How to tell that the app is up.") Health health,
            @Doc("no, on-failure (default) or always.") Restart restart,
            @Key("stop-signal") @Doc("Signal that asks the app to stop (default SIGTERM).") String stopSignal,
            @Key("stop-grace") @Doc("How long to wait after the stop signal before SIGKILL (default 10s).") Interval stopGrace,
            @Range(min = 0, max = 20) @Doc("Previous revisions kept after an upgrade, for berth app rollback (default 2).") Integer keep,
            @Doc("The app's own limits (cpu, memory, pids) within the container's: at most the container's own.") Limits limits)
            implements Validated {

        @Override
        public void validate(Checks checks) {
            if (limits != null && limits.disk() != null) {
                checks.fail("limits.disk", "an app has no disk of its own", "set limits.disk on the container, not on its app");
            }
            if (stopSignal != null && !stopSignal.matches("SIG[A-Z0-9]+")) {
                checks.fail("stop-signal", "'" + stopSignal + "' is not a signal name", "for example SIGTERM or SIGQUIT");
            }
            if (workdir != null && !workdir.startsWith("/")) {
                checks.fail("workdir", "'" + workdir + "' must be an absolute path", "for example /srv/app");
            }
        }
    }

    public enum Restart { NO, ON_FAILURE, ALWAYS }

    @Doc("A health check.")
    public record Health(
            @Required @Doc("command (run inside the app), http or tcp (from the host to the container's address).") HealthType type,
            @Multiline @Doc("For command checks: the command; exit 0 means healthy.") List<String> command,
            @Range(min = 1, max = 65535) @Doc("For http and tcp checks: the container port.") Integer port,
            @Doc("For http checks: the path (default /); 2xx and 3xx mean healthy.") String path,
            @Doc("Time between checks (default 10s).") Interval interval,
            @Doc("Time one check may take (default 3s).") Interval timeout,
            @Range(min = 1, max = 100) @Doc("Failures in a row before unhealthy (default 3).") Integer retries) implements Validated {

        @Override
        public void validate(Checks checks) {
            if (type == HealthType.COMMAND && (command == null || command.isEmpty())) {
                checks.fail("command", "a command health check needs a command", "command: [\"curl\", \"-f\", \"http://localhost/\"]");
            }
            if ((type == HealthType.HTTP || type == HealthType.TCP) && port == null) {
                checks.fail("port", "an " + type.name().toLowerCase(java.util.Locale.ROOT) + " health check needs a port", "port: 8080");
            }
            if (path != null && !path.startsWith("/")) {
                checks.fail("path", "'" + path + "' must start with /", "path: /healthz");
            }
        }
    }

    public enum HealthType { COMMAND, HTTP, TCP }

    @Doc("Puppet configuration and drift policy.")
    public record Puppet(
            @Multiline @Doc("An inline Puppet manifest.") String manifest,
            @Key("manifest-file") @Doc("A manifest file, relative to the profile's file.") String manifestFile,
            @Key("module-path") @Doc("A directory of Puppet modules, relative to the profile's file.") String modulePath,
            @Doc("Custom facts ($facts) for the manifest.") Map<String, Object> facts,
            @Doc("Hiera-style data for lookup().") Map<String, Object> data,
            @Doc("report (detect and report drift) or enforce (also correct it); default report.") DriftPolicy policy,
            @Doc("Time between drift checks (default 30m).") Interval interval,
            @Doc("How long one Puppet run may take before it is killed and the check fails (default 10m).") Interval timeout,
            @Doc("The Puppet command inside the container (default puppet; OpenVox installs the same name).") String binary)
            implements Validated {

        @Override
        public void validate(Checks checks) {
            if ((manifest == null) == (manifestFile == null)) {
                checks.fail("manifest", "puppet needs exactly one of manifest and manifest-file",
                        "manifest: | followed by Puppet code, or manifest-file: site.pp");
            }
        }
    }

    public enum DriftPolicy { REPORT, ENFORCE }
}
