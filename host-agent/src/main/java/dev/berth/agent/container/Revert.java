package dev.berth.agent.container;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Undo as you go: each step of a multi-step operation registers how to undo itself; unless the
 * operation reaches {@link #success()}, {@link #close()} runs the undos in reverse order. An undo that
 * fails does not stop the others; its failure is attached to the operation's own.
 */
final class Revert implements AutoCloseable {

    @FunctionalInterface
    interface Undo {
        void run() throws Exception;
    }

    private final Deque<Undo> undos = new ArrayDeque<>();
    private boolean succeeded;
    private Throwable cause;

    void add(Undo undo) {
        undos.push(undo);
    }

    void success() {
        succeeded = true;
    }

    /** Records the failure that the undos will be attached to. */
    <T extends Throwable> T failed(T failure) {
        cause = failure;
        return failure;
    }

    @Override
    public void close() {
        if (succeeded) {
            return;
        }
        while (!undos.isEmpty()) {
            try {
                undos.pop().run();
            } catch (Exception e) {
                if (cause != null) {
                    cause.addSuppressed(e);
                }
            }
        }
    }
}
