package dev.berth.puppet;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the bridge needs from a container, implemented by the agent (its exec and files) or, in
 * tests, by the host itself: run a command with a time limit, and write and read files.
 */
public interface ContainerAccess {

    /** A command's end: its exit code and output, and whether the time limit killed it. */
    record Result(int exitCode, String stdout, String stderr, boolean timedOut) {
    }

    /** Runs {@code argv} with {@code env} added; kills it (and reports {@code timedOut}) after {@code timeout}. */
    Result run(List<String> argv, Map<String, String> env, Duration timeout);

    /** Writes {@code content} to {@code path} (parents made), replacing what is there. */
    void write(String path, byte[] content, int mode);

    /** The content of {@code path}, or null when there is no such file. */
    byte[] read(String path);

    /** Deletes {@code path} (a file, or a directory tree); nothing there is no error. */
    void delete(String path);

    /** Copies the host directory {@code hostDir} to {@code path} inside, replacing what is there. */
    void copyTree(java.nio.file.Path hostDir, String path);
}
