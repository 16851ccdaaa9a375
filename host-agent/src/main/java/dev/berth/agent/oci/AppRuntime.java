package dev.berth.agent.oci;

import dev.berth.agent.error.AgentException;
import dev.berth.profile.LxcConfigItem;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.agent.files.ContainerRoot;
import dev.berth.agent.image.InitSystem;
import dev.berth.agent.ops.Wait;
import dev.berth.agent.exec.ExecResult;
import dev.berth.agent.exec.Command;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.profile.AppSpec;
import dev.berth.profile.ProfileSpec.Restart;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs the app container inside a system container with crun. The host's crun and catatonit (Debian's
 * packages) are seen read-only inside at {@code /.berth/usr}, and crun is started through the host's
 * own dynamic loader, so any system container can run an app whatever its distribution.
 *
 * <p>Inside, under {@link #DIR}: each revision of the app is a bundle of its own
 * ({@code revisions/<n>/config.json}, {@code rootfs/}, {@code revision.json}); {@code current} is a
 * symlink to the one that runs, switched by rename, so an upgrade unpacks beside the running revision
 * and a rollback is a switch back. {@code supervise} is the supervisor: it runs crun in the foreground,
 * restarts the app by the policy in {@code restart} (with back-off) and writes {@code status}; the
 * container's init starts it at boot (an inittab line for busybox init, a generated unit for systemd),
 * so an agent restart leaves a running app alone. The file {@code stopped} is the agent's stop: the
 * supervisor sees it when the app ends and does not start it again. The app's output goes to
 * {@code app.log}.
 */
public final class AppRuntime {

    public static final String DIR = "/var/lib/berth/app";
    public static final String REVISIONS = DIR + "/revisions";
    public static final String CURRENT = DIR + "/current";
    public static final String LOG = DIR + "/app.log";
    public static final String STATUS = DIR + "/status";
    public static final String STOPPED = DIR + "/stopped";
    public static final String SUPERVISE = DIR + "/supervise";
    public static final String RESTART = DIR + "/restart";
    public static final String UNIT = "berth-app.service";
    /** How often the supervisor's status file is read while waiting on it (a file read). */
    private static final Duration POLL = Duration.ofMillis(5);
    /** The id crun knows the app by, inside its system container. */
    public static final String ID = "app";
    /** The host's multiarch triplet and loader name, for the host's own crun seen inside at /.berth/usr. */
    private static final String TRIPLET = switch (System.getProperty("os.arch")) {
        case "aarch64" -> "aarch64-linux-gnu";
        default -> "x86_64-linux-gnu";
    };
    private static final String LOADER = TRIPLET.startsWith("aarch64") ? "ld-linux-aarch64.so.1" : "ld-linux-x86-64.so.2";
    public static final String CRUN = loader() + " --library-path /.berth/usr/lib/" + TRIPLET + " /.berth/usr/bin/crun";

    /**
     * The host's dynamic loader as the container sees it. Its usual name is an absolute symlink
     * ({@code /lib64/... -> /lib/x86_64-linux-gnu/...}), which inside would point into the container's
     * own files: the real file (under /usr on a merged-/usr host such as Debian 12) is named instead.
     */
    private static String loader() {
        try {
            Path real = Path.of(TRIPLET.startsWith("aarch64") ? "/lib" : "/lib64", LOADER).toRealPath();
            if (!real.startsWith("/usr/")) {
                throw new IllegalStateException("the host's loader " + real + " is not under /usr: app containers need a merged-/usr host");
            }
            return "/.berth" + real;
        } catch (IOException e) {
            return "/.berth/usr/lib/" + TRIPLET + "/" + LOADER;
        }
    }

    private AppRuntime() {
    }

    /** One unpacked revision of the app. */
    public record Revision(int number, String image, String digest, Instant installed) {
    }

    /**
     * What the supervisor last wrote: {@code running}, {@code restarting} (after an exit, waiting its
     * back-off), {@code exited} (ended and the policy does not restart it), {@code stopped} (by the
     * agent), or {@code absent} (no supervisor has run yet).
     */
    public record Status(AppStatus state, Instant since, int restarts, Integer exitCode) {
        static final Status ABSENT = new Status(AppStatus.ABSENT, null, 0, null);
    }

    /**
     * What the system container needs to host an app: a writable cgroup tree for crun, and the host's
     * runtime read-only. Not nesting: /proc and /sys stay as LXC's {@code mixed} gives them (/proc/sys
     * and /sys read-only), so a privileged container cannot write the host's kernel settings; crun
     * mounts a fresh proc and sysfs for the app in its own namespaces.
     */
    public static List<LxcConfigItem> lxcConfig() {
        return List.of(new LxcConfigItem("lxc.mount.auto", "proc:mixed sys:mixed cgroup:rw:force"),
                LxcConfigItem.mountEntry("/usr", ".berth/usr", "none", "bind,ro,create=dir"));
    }

    /**
     * Before a launched container first starts: revision 1 from {@code image} into {@code layer} (the
     * container's own files), the supervisor, and the hook that makes the container's init start it.
     *
     * @param imageRootfs the system container's image (the layer lies over it), for files the hook extends
     * @param binds       the system container's mounts (path to read-only), bound into the app
     */
    public static void prepare(AppImageStore store, AppImageStore.AppImage image, AppSpec app, ContainerRoot layer, String hostname,
                               InitSystem init, Path imageRootfs, Map<String, Boolean> binds) {
        layer.mkdirs(REVISIONS, 0700, 0, 0);
        install(store, image, app, layer, hostname, binds, 1);
        layer.symlink(CURRENT, "revisions/1", 0, 0);
        writeSupervisor(layer, app.restart());
        switch (init) {
            case SYSTEMD -> {
                layer.mkdirs("/etc/systemd/system/multi-user.target.wants", 0755, 0, 0); // the layer over the image is empty
                write(layer, "/etc/systemd/system/" + UNIT, unit(), 0644);
                layer.symlink("/etc/systemd/system/multi-user.target.wants/" + UNIT, "../" + UNIT, 0, 0);
            }
            case BUSYBOX -> {
                String inittab = readHost(imageRootfs.resolve("etc/inittab"));
                layer.mkdirs("/etc", 0755, 0, 0);
                write(layer, "/etc/inittab", inittab + (inittab.isEmpty() || inittab.endsWith("\n") ? "" : "\n")
                        + "::once:/bin/sh " + SUPERVISE + " --boot\n", 0644);
            }
            case OTHER -> {
                // no hook this init runs for sure: the agent starts the supervisor after each start it makes
            }
        }
    }

    /** Whether the agent itself must start the supervisor after starting a container of {@code init}. */
    public static boolean agentStarts(InitSystem init) {
        return init == InitSystem.OTHER;
    }

    /** Unpacks {@code image} as revision {@code number} (the bundle and its record), beside whatever runs. */
    public static void install(AppImageStore store, AppImageStore.AppImage image, AppSpec app, ContainerRoot root, String hostname,
                               Map<String, Boolean> binds, int number) {
        String bundle = REVISIONS + "/" + number;
        root.delete(bundle); // the remains of an install that failed half-way
        root.mkdirs(bundle, 0700, 0, 0);
        store.unpack(image, root, bundle + "/rootfs");
        OciRuntimeConfig.Accounts accounts = OciRuntimeConfig.Accounts.of(text(root, bundle + "/rootfs/etc/passwd"),
                text(root, bundle + "/rootfs/etc/group"));
        ObjectNode config = OciRuntimeConfig.render(app, image.config(), accounts, hostname, "/.berth/usr/bin/catatonit", binds);
        write(root, bundle + "/config.json", config.toPrettyString(), 0600);
        ObjectNode record = AppImageStore.JSON.createObjectNode().put("revision", number).put("image", app.image())
                .put("digest", image.digest()).put("installed", Instant.now().toString());
        write(root, bundle + "/revision.json", record.toPrettyString(), 0600);
    }

    /** The restart policy the supervisor reads before each restart. */
    public static void writeRestartPolicy(ContainerRoot root, Restart restart) {
        write(root, RESTART, restart.name().toLowerCase(Locale.ROOT).replace('_', '-') + "\n", 0644);
    }

    private static void writeSupervisor(ContainerRoot root, Restart restart) {
        write(root, SUPERVISE, supervisor(), 0755);
        writeRestartPolicy(root, restart);
    }

    /** The revisions unpacked in the container, oldest first. */
    public static List<Revision> revisions(ContainerRoot root) {
        List<Revision> revisions = new ArrayList<>();
        for (String name : root.list(REVISIONS)) {
            if (!name.matches("[0-9]{1,9}")) {
                continue;
            }
            try (InputStream in = root.read(REVISIONS + "/" + name + "/revision.json")) {
                JsonNode r = AppImageStore.JSON.readTree(in);
                revisions.add(new Revision(Integer.parseInt(name), r.path("image").asText(), r.path("digest").asText(),
                        Instant.parse(r.path("installed").asText())));
            } catch (IOException | RuntimeException e) {
                // an install that did not finish: not a revision to run
            }
        }
        revisions.sort(Comparator.comparingInt(Revision::number));
        return revisions;
    }

    /** The revision {@code current} points at, or 0 when there is none. */
    public static int currentRevision(ContainerRoot root) {
        String target = root.readLink(CURRENT);
        if (target == null || !target.startsWith("revisions/")) {
            return 0;
        }
        try {
            return Integer.parseInt(target.substring("revisions/".length()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Points {@code current} at revision {@code number} (one rename: never no current). */
    public static void switchTo(ContainerRoot root, int number) {
        root.symlink(CURRENT, "revisions/" + number, 0, 0);
    }

    /** Deletes the oldest revisions so that {@code keep} besides the current one are left; returns those deleted. */
    public static List<Integer> prune(ContainerRoot root, int keep) {
        int current = currentRevision(root);
        List<Integer> others = revisions(root).stream().map(Revision::number).filter(n -> n != current).toList();
        List<Integer> deleted = new ArrayList<>();
        for (int i = 0; i < others.size() - keep; i++) {
            root.delete(REVISIONS + "/" + others.get(i));
            deleted.add(others.get(i));
        }
        return deleted;
    }

    /** The supervisor's last word on the app. */
    public static Status status(ContainerRoot root) {
        String line;
        try (InputStream in = root.read(STATUS)) {
            line = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (AgentException | IOException | UncheckedIOException e) {
            return Status.ABSENT;
        }
        String[] f = line.split(" ");
        if (f.length < 4) {
            return Status.ABSENT;
        }
        try {
            return new Status(AppStatus.of(f[0]), Instant.ofEpochSecond(Long.parseLong(f[1])), Integer.parseInt(f[2]),
                    f[3].equals("-") ? null : Integer.valueOf(f[3]));
        } catch (NumberFormatException e) {
            return Status.ABSENT;
        }
    }

    /**
     * Starts the supervisor (which starts the app) unless it runs already; clears an earlier stop.
     * Fails with the runtime's words when crun cannot be run at all.
     */
    public static void start(RuntimeContainer container, ContainerRoot root, InitSystem init) {
        root.delete(STOPPED);
        String launch = init == InitSystem.SYSTEMD ? "systemctl start " + UNIT : "/bin/sh " + SUPERVISE + " --background";
        ExecResult started = container.run(Command.of("sh", "-c", CRUN + " --version >/dev/null 2>&1 || exit 127; " + launch));
        if (started.exitCode() == 127) {
            throw new AgentException.Invalid("the app runtime is missing in " + container.name() + ": the host's /usr is not at"
                    + " /.berth/usr inside, or crun is not installed on the host; install crun and catatonit (scripts/setup.sh does)");
        }
        if (started.exitCode() != 0) {
            throw new AgentException.Invalid("the app's supervisor did not start in " + container.name() + " (exit "
                    + started.exitCode() + "): " + started.stdoutText().strip() + started.stderrText().strip());
        }
    }

    /**
     * Stops the app: marks the stop (so that the supervisor does not restart it), sends
     * {@code signal}, waits {@code grace}, then kills; ends when the supervisor has noted the stop.
     */
    public static void stop(RuntimeContainer container, ContainerRoot root, String signal, Duration grace) throws InterruptedException {
        write(root, STOPPED, "stopped by the agent\n", 0644);
        kill(container, signal);
        if (!Wait.upTo(grace, POLL).until(() -> ended(root))) {
            kill(container, "SIGKILL");
            Wait.upTo(Duration.ofSeconds(5), POLL).until(() -> ended(root));
        }
        // a supervisor waiting out a back-off (no app runs) ends now rather than after it
        container.run(Command.of("sh", "-c", "p=$(cat " + DIR + "/supervisor.pid 2>/dev/null) && [ -n \"$p\" ]"
                + " && grep -q supervise /proc/$p/cmdline 2>/dev/null && kill $p; rm -f " + DIR + "/supervisor.pid; "
                + CRUN + " delete --force " + ID + " >/dev/null 2>&1; s=$(cat " + STATUS + " 2>/dev/null); set -- $s;"
                + " [ \"$1\" = stopped ] || echo \"stopped $(date +%s) ${3:-0} ${4:--}\" > " + STATUS));
    }

    private static boolean ended(ContainerRoot root) {
        return status(root).state().ended();
    }

    private static void kill(RuntimeContainer container, String signal) {
        container.run(Command.of("sh", "-c", CRUN + " kill " + ID + " " + signal + " >/dev/null 2>&1"));
    }

    /** The app's state as crun reports it (created, running, stopped), with its PID 1 in the system container; null when crun knows no app. */
    public static JsonNode crunState(RuntimeContainer container) {
        ExecResult state = container.run(Command.of("sh", "-c", CRUN + " state " + ID + " 2>/dev/null"));
        if (state.exitCode() != 0) {
            return null;
        }
        try {
            return AppImageStore.JSON.readTree(state.stdout());
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code command} run inside the app (as {@code crun exec}). */
    public static List<String> execInApp(List<String> command, boolean terminal) {
        return execInApp(command, terminal, Map.of(), null, null);
    }

    /**
     * {@code command} run inside the app by {@code crun exec}, which hands the environment, working
     * directory and user ({@code uid[:gid]}; null for the app's own) on to the process in the app.
     */
    public static List<String> execInApp(List<String> command, boolean terminal, Map<String, String> env, String cwd, String user) {
        List<String> args = new ArrayList<>(List.of(CRUN.split(" ")));
        args.add("exec");
        if (terminal) {
            args.add("--tty");
        }
        env.forEach((k, v) -> args.add("--env=" + k + "=" + v));
        if (cwd != null) {
            args.add("--cwd=" + cwd);
        }
        if (user != null) {
            args.add("--user=" + user);
        }
        args.add(ID);
        args.addAll(command);
        return args;
    }

    /**
     * The supervisor, a POSIX shell script (busybox's sh is enough). One runs at a time (its pid file
     * is checked); it writes {@code status} as "state since restarts exit-code" on every change.
     */
    static String supervisor() {
        return """
                #!/bin/sh
                # Berth's app supervisor (generated: edits are lost). Runs the app with crun in the foreground,
                # restarts it by the policy in ./restart, records its state in ./status. ./stopped: do not restart.
                D=%1$s
                CRUN="%2$s"
                case "$1" in
                  --background) setsid /bin/sh "$0" </dev/null >/dev/null 2>&1 & exit 0 ;;
                  --boot) rm -f $D/stopped ;; # a (re)started container runs its app
                esac
                p=$(cat $D/supervisor.pid 2>/dev/null)
                if [ -n "$p" ] && [ "$p" != $$ ] && grep -q supervise /proc/$p/cmdline 2>/dev/null; then
                  exit 0
                fi
                echo $$ > $D/supervisor.pid
                { ip link set lo up || ifconfig lo up; } >/dev/null 2>&1
                restarts=0 code=- delay=0
                status() { echo "$1 $(date +%%s) $restarts $code" > $D/status.new && mv -f $D/status.new $D/status; }
                while [ ! -e $D/stopped ]; do
                  $CRUN delete --force %3$s >/dev/null 2>&1
                  started=$(date +%%s)
                  status running
                  $CRUN run --bundle $D/current %3$s </dev/null >>$D/app.log 2>&1
                  code=$?
                  [ -e $D/stopped ] && break
                  case "$(cat $D/restart 2>/dev/null):$code" in
                    no:*|on-failure:0) $CRUN delete --force %3$s >/dev/null 2>&1; status exited; rm -f $D/supervisor.pid; exit 0 ;;
                  esac
                  if [ $(( $(date +%%s) - started )) -ge 10 ]; then delay=0; fi
                  status restarting
                  echo "berth: the app ended with exit code $code; restarting in ${delay}s" >>$D/app.log
                  sleep $delay
                  restarts=$((restarts + 1))
                  if [ $delay = 0 ]; then delay=1; elif [ $delay -lt 30 ]; then delay=$((delay * 2)); fi
                done
                $CRUN delete --force %3$s >/dev/null 2>&1
                status stopped
                rm -f $D/supervisor.pid
                """.formatted(DIR, CRUN, ID);
    }

    /** The systemd unit that starts the supervisor at boot (the supervisor restarts the app). */
    static String unit() {
        return """
                [Unit]
                Description=Berth app container (crun, supervised)
                After=network.target

                [Service]
                Type=simple
                ExecStart=/bin/sh %s --boot
                Restart=no
                KillMode=mixed

                [Install]
                WantedBy=multi-user.target
                """.formatted(SUPERVISE);
    }

    private static void write(ContainerRoot root, String path, String text, int mode) {
        root.write(path, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), mode, 0, 0);
    }

    private static String readHost(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    private static String text(ContainerRoot root, String path) {
        try (InputStream in = root.read(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return ""; // no such file: numeric users only
        }
    }
}
