package dev.berth.agent.exec;

import java.util.List;
import java.util.Map;

/**
 * A command to run inside a container: its argv, environment (none inherited), working directory,
 * ids inside the container (-1: root) and standard input (null: none).
 */
public record Command(List<String> argv, Map<String, String> env, String cwd, int uid, int gid, byte[] stdin) {

    public Command {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
    }

    public static Command of(String... argv) {
        return new Command(List.of(argv), Map.of(), null, -1, -1, null);
    }

    public Command withEnv(Map<String, String> newEnv) {
        return new Command(argv, newEnv, cwd, uid, gid, stdin);
    }

    public Command withCwd(String newCwd) {
        return new Command(argv, env, newCwd, uid, gid, stdin);
    }

    public Command withUser(int newUid, int newGid) {
        return new Command(argv, env, cwd, newUid, newGid, stdin);
    }

    public Command withStdin(byte[] input) {
        return new Command(argv, env, cwd, uid, gid, input);
    }
}
