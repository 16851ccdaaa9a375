package dev.berth.agent.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** A command started inside a container, with its streams (or one pseudo-terminal for all three). */
public interface RunningCommand extends AutoCloseable {

    int pid();

    boolean tty();

    OutputStream stdin();

    void closeStdin() throws IOException;

    InputStream stdout();

    InputStream stderr();

    void resize(int columns, int rows);

    void signal(int signal);

    /** Blocks until the command ends; its exit code (128 + signal when killed). */
    int waitFor();

    @Override
    void close();
}
