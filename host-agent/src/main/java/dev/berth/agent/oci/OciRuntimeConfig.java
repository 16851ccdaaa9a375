package dev.berth.agent.oci;

import dev.berth.agent.error.AgentException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.profile.AppSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The OCI runtime configuration ({@code config.json}) crun runs the app with, made from the image's
 * config and the profile's {@code app:} section, with Docker's rules where they meet:
 * <ul>
 *   <li>command: the profile's entrypoint replaces the image's and then also drops the image's CMD
 *   (as {@code docker run --entrypoint} does); the profile's command replaces CMD;</li>
 *   <li>environment: the image's, then the profile's by name; PATH has a default;</li>
 *   <li>working directory and user: the profile's, else the image's, else {@code /} and root; a user
 *   or group given by name is looked up in the image's own {@code /etc/passwd} and {@code /etc/group}.</li>
 * </ul>
 * PID 1 is {@code catatonit} (bind-mounted read-only at {@code /dev/init}), which reaps every zombie
 * and forwards signals. The app shares the system container's network (no network namespace): its
 * ports are the container's. Everything else is separate (pid, mount, ipc, uts, cgroup), with
 * Docker's default capabilities, masked and read-only paths.
 */
public final class OciRuntimeConfig {

    /** Where catatonit appears inside the app. */
    public static final String INIT = "/dev/init";

    static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Docker's default capability set. */
    static final List<String> CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
            "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL", "CAP_AUDIT_WRITE");

    /** Names in the image's /etc/passwd and /etc/group. */
    public interface Accounts {
        /** uid and primary gid of user {@code name}. */
        Optional<int[]> user(String name);

        Optional<Integer> group(String name);

        /** No accounts: numeric users only. */
        Accounts NONE = new Accounts() {
            @Override
            public Optional<int[]> user(String name) {
                return Optional.empty();
            }

            @Override
            public Optional<Integer> group(String name) {
                return Optional.empty();
            }
        };

        /** Accounts from the text of /etc/passwd and /etc/group (either may be empty). */
        static Accounts of(String passwd, String group) {
            Map<String, int[]> users = new LinkedHashMap<>();
            for (String line : passwd.split("\n")) {
                String[] f = line.split(":");
                if (f.length >= 4 && f[2].matches("\\d+") && f[3].matches("\\d+")) {
                    users.put(f[0], new int[] {Integer.parseInt(f[2]), Integer.parseInt(f[3])});
                    users.putIfAbsent(f[2], users.get(f[0])); // by uid too: a numeric user gets its primary group
                }
            }
            Map<String, Integer> groups = new LinkedHashMap<>();
            for (String line : group.split("\n")) {
                String[] f = line.split(":");
                if (f.length >= 3 && f[2].matches("\\d+")) {
                    groups.put(f[0], Integer.parseInt(f[2]));
                }
            }
            return new Accounts() {
                @Override
                public Optional<int[]> user(String name) {
                    return Optional.ofNullable(users.get(name));
                }

                @Override
                public Optional<Integer> group(String name) {
                    return Optional.ofNullable(groups.get(name));
                }
            };
        }
    }

    private OciRuntimeConfig() {
    }

    /** The program and arguments the app runs (after the init). */
    public static List<String> args(AppSpec app, AppImageStore.Config image) {
        List<String> entrypoint = app.entrypoint() != null ? app.entrypoint() : image.entrypoint();
        List<String> cmd = app.command() != null ? app.command() : app.entrypoint() != null ? List.of() : image.cmd();
        List<String> args = new ArrayList<>(entrypoint == null ? List.of() : entrypoint);
        args.addAll(cmd == null ? List.of() : cmd);
        if (args.isEmpty()) {
            throw new AgentException.Invalid("the image " + app.image() + " names no command (no ENTRYPOINT or CMD):"
                    + " give one in the profile, app: {command: [...]}");
        }
        return args;
    }

    /** The environment: the image's, then the profile's by name, with a default PATH. */
    public static List<String> env(AppSpec app, AppImageStore.Config image) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String pair : image.env() == null ? List.<String>of() : image.env()) {
            int eq = pair.indexOf('=');
            env.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
        }
        env.putAll(app.env());
        env.putIfAbsent("PATH", DEFAULT_PATH.substring(5));
        List<String> list = new ArrayList<>();
        env.forEach((k, v) -> list.add(k + "=" + v));
        return list;
    }

    /** uid and gid for {@code user} ("", name, uid, name:group, uid:gid). */
    public static int[] user(String user, Accounts accounts) {
        if (user == null || user.isBlank()) {
            return new int[] {0, 0};
        }
        String[] parts = user.split(":", 2);
        int uid;
        int gid;
        if (parts[0].matches("\\d+")) {
            uid = Integer.parseInt(parts[0]);
            gid = accounts.user(parts[0]).map(u -> u[1]).orElse(uid == 0 ? 0 : uid);
        } else {
            int[] found = accounts.user(parts[0]).orElseThrow(() -> new AgentException.Invalid("user '" + parts[0]
                    + "' is not in the image's /etc/passwd: give a uid (user: 1000:1000) or a user the image has"));
            uid = found[0];
            gid = found[1];
        }
        if (parts.length > 1) {
            gid = parts[1].matches("\\d+") ? Integer.parseInt(parts[1]) : accounts.group(parts[1]).orElseThrow(() ->
                    new AgentException.Invalid("group '" + parts[1] + "' is not in the image's /etc/group: give a gid"));
        }
        return new int[] {uid, gid};
    }

    /**
     * The whole config.json. {@code rootfs} is the bundle's root file system directory (relative to
     * the bundle), {@code initOnHost} the catatonit binary as the runtime sees it.
     */
    public static ObjectNode render(AppSpec app, AppImageStore.Config image, Accounts accounts, String hostname, String initOnHost) {
        return render(app, image, accounts, hostname, initOnHost, java.util.Map.of());
    }

    /**
     * As above, with the system container's own mounts ({@code binds}: path to read-only) bound into
     * the app at the same paths: a volume the profile mounts is the app's data, and it stays where it
     * is when the app is upgraded or rolled back.
     */
    public static ObjectNode render(AppSpec app, AppImageStore.Config image, Accounts accounts, String hostname, String initOnHost,
                                    java.util.Map<String, Boolean> binds) {
        ObjectNode config = AppImageStore.JSON.createObjectNode();
        config.put("ociVersion", "1.0.2");
        ObjectNode process = config.putObject("process");
        process.put("terminal", false);
        int[] ids = user(app.user() != null ? app.user() : image.user(), accounts);
        process.putObject("user").put("uid", ids[0]).put("gid", ids[1]);
        ArrayNode args = process.putArray("args");
        args.add(INIT).add("--");
        args(app, image).forEach(args::add);
        ArrayNode envArray = process.putArray("env");
        env(app, image).forEach(envArray::add);
        String cwd = app.workdir() != null ? app.workdir() : image.workdir() == null || image.workdir().isBlank() ? "/" : image.workdir();
        if (!cwd.startsWith("/")) {
            throw new AgentException.Invalid("the app's working directory must be absolute, not '" + cwd + "'");
        }
        process.put("cwd", cwd);
        ObjectNode caps = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            ArrayNode list = caps.putArray(set);
            CAPABILITIES.forEach(list::add);
        }
        process.put("noNewPrivileges", true);
        config.putObject("root").put("path", "rootfs").put("readonly", false);
        config.put("hostname", hostname);
        ArrayNode mounts = config.putArray("mounts");
        mount(mounts, "/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev"));
        mount(mounts, "/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
        mount(mounts, "/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"));
        mount(mounts, "/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
        mount(mounts, "/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev"));
        mount(mounts, "/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"));
        mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro"));
        mount(mounts, INIT, "bind", initOnHost, List.of("bind", "ro", "nosuid", "nodev"));
        new java.util.TreeMap<>(binds).forEach((path, readOnly) ->
                mount(mounts, path, "bind", path, readOnly ? List.of("rbind", "ro") : List.of("rbind", "rw")));
        ObjectNode linux = config.putObject("linux");
        AppSpec.Resources limits = app.resources() == null ? AppSpec.Resources.NONE : app.resources();
        if (!limits.equals(AppSpec.Resources.NONE)) {
            // within the system container's own cgroup: crun makes the app's beneath it
            ObjectNode resources = linux.putObject("resources");
            if (limits.memoryBytes() != null) {
                resources.putObject("memory").put("limit", limits.memoryBytes());
            }
            if (limits.cpus() != null || limits.cpuSet() != null) {
                ObjectNode cpu = resources.putObject("cpu");
                if (limits.cpus() != null) {
                    cpu.put("period", 100_000).put("quota", Math.round(limits.cpus() * 100_000));
                }
                if (limits.cpuSet() != null) {
                    cpu.put("cpus", limits.cpuSet());
                }
            }
            if (limits.pids() != null) {
                resources.putObject("pids").put("limit", limits.pids());
            }
        }
        ArrayNode namespaces = linux.putArray("namespaces");
        for (String type : List.of("pid", "ipc", "uts", "mount", "cgroup")) {
            namespaces.addObject().put("type", type); // no network namespace: the app is on the container's network
        }
        ArrayNode masked = linux.putArray("maskedPaths");
        List.of("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware").forEach(masked::add);
        ArrayNode readonly = linux.putArray("readonlyPaths");
        List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger").forEach(readonly::add);
        return config;
    }

    private static void mount(ArrayNode mounts, String destination, String type, String source, List<String> options) {
        ObjectNode mount = mounts.addObject().put("destination", destination).put("type", type).put("source", source);
        ArrayNode list = mount.putArray("options");
        options.forEach(list::add);
    }
}
