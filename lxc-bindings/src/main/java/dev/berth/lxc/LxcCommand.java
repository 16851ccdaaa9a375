package dev.berth.lxc;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A command to run inside a running container (liblxc's attach-run-wait).
 *
 * @param argv    the program and its arguments; the program is looked up in the container's {@code PATH}
 * @param env     the environment; the attached process gets only this, plus a default {@code PATH}
 *                when none is given
 * @param cwd     the working directory inside the container, or null for {@code /}
 * @param uid     the user id inside the container, or -1 for root (the container's init user)
 * @param gid     the group id inside the container, or -1 for root
 * @param stdin   bytes fed to the command's standard input (empty: it reads end-of-file)
 */
public record LxcCommand(List<String> argv, Map<String, String> env, String cwd, int uid, int gid, byte[] stdin) {

    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public LxcCommand {
        argv = List.copyOf(Objects.requireNonNull(argv, "argv"));
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a command needs at least a program name");
        }
        env = Map.copyOf(env);
        stdin = stdin == null ? new byte[0] : stdin.clone();
    }

    /** Runs {@code argv} as root in {@code /} with only a default {@code PATH}. */
    public static LxcCommand of(String... argv) {
        return new LxcCommand(List.of(argv), Map.of(), null, -1, -1, null);
    }

    public LxcCommand withEnv(Map<String, String> newEnv) {
        return new LxcCommand(argv, newEnv, cwd, uid, gid, stdin);
    }

    public LxcCommand withCwd(String newCwd) {
        return new LxcCommand(argv, env, newCwd, uid, gid, stdin);
    }

    public LxcCommand withUser(int newUid, int newGid) {
        return new LxcCommand(argv, env, cwd, newUid, newGid, stdin);
    }

    public LxcCommand withStdin(byte[] input) {
        return new LxcCommand(argv, env, cwd, uid, gid, input);
    }
}
