package dev.berth.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** The local terminal, through stty on /dev/tty: its size, raw mode for interactive sessions, and resizes. */
final class Terminal {

    private Terminal() {
    }

    /** Whether standard input and output are both a terminal. */
    static boolean interactive() {
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    /** {rows, columns}, or {24, 80} when they cannot be read. */
    static int[] size() {
        try {
            String[] parts = stty("size").strip().split("\\s+");
            int rows = Integer.parseInt(parts[0]);
            int columns = Integer.parseInt(parts[1]);
            return rows > 0 && columns > 0 ? new int[] {rows, columns} : new int[] {24, 80}; // 0 0: a terminal nobody sized

        } catch (RuntimeException | IOException e) {
            return new int[] {24, 80};
        }
    }

    /**
     * Puts the terminal in raw mode (keys go to the remote program as typed, ^C included) and returns
     * what restores it.
     */
    static Runnable raw() throws IOException {
        String saved = stty("-g").strip();
        stty("raw", "-echo");
        return () -> {
            try {
                stty(saved);
            } catch (IOException ignored) {
                // the terminal is gone
            }
        };
    }

    /** Calls {@code listener} with {rows, columns} whenever the window changes size; returns what stops it. */
    @SuppressWarnings("restriction")
    static Runnable onResize(Consumer<int[]> listener) {
        try {
            sun.misc.Signal winch = new sun.misc.Signal("WINCH");
            sun.misc.SignalHandler previous = sun.misc.Signal.handle(winch, signal -> listener.accept(size()));
            return () -> sun.misc.Signal.handle(winch, previous);
        } catch (IllegalArgumentException e) {
            return () -> { };
        }
    }

    private static String stty(String... args) throws IOException {
        String[] command = new String[args.length + 1];
        command[0] = "stty";
        System.arraycopy(args, 0, command, 1, args.length);
        Process p = new ProcessBuilder(command).redirectInput(new java.io.File("/dev/tty")).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("stty " + String.join(" ", args) + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        return out;
    }
}
