package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.agent.Berthd;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code berth} as its own process, as a person's shell runs it: {@code profile edit} with a
 * scripted {@code $EDITOR}, and the bash completion script in a real bash.
 */
@RequiresLxc
class CliProcessTest {

    private Berthd agent;
    private Path socket;

    record Result(int code, String out, String err) {
    }

    private void startAgent(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        socket = state.resolve("berth.sock");
        agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start();
    }

    @AfterEach
    void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private static List<String> javaBerth() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "dev.berth.cli.Berth");
    }

    private Result berth(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(javaBerth());
        command.addAll(List.of("--socket", socket.toString()));
        command.addAll(List.of(args));
        return exec(command, env);
    }

    private static Result exec(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(env);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        var out = process.getInputStream().readAllBytes();
        var err = process.getErrorStream().readAllBytes();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(process.exitValue(), new String(out), new String(err));
    }

    private static Path script(Path dir, String name, String body) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, "#!/bin/bash\nset -eu\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    @Test
    void profileEditReopensTheEditorOnAnErrorAndSavesTheFix(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        Path dir = sandbox.scratch("editor");
        Path good = Files.writeString(dir.resolve("small.yaml"), "name: small\n# memory for the app\nlimits: {memory: 64MiB}\n");
        assertThat(berth(Map.of(), "profile", "apply", "-f", good.toString()).code()).isZero();
        // First round: a typo in a value. Second round: keep what the editor was shown, then fix the value.
        Path editor = script(dir, "editor.sh", """
                n=$(cat "%1$s/rounds" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "%1$s/rounds"
                cp "$1" "%1$s/shown-$n.yaml"
                if [ $n = 1 ]; then sed -i 's/64MiB/lots/' "$1"; else sed -i 's/lots/80MiB/' "$1"; fi
                """.formatted(dir));

        Result edited = berth(Map.of("EDITOR", editor.toString(), "VISUAL", ""), "profile", "edit", "small");

        assertThat(edited.code()).as(edited.err()).isZero();
        assertThat(Files.readString(dir.resolve("rounds")).strip()).isEqualTo("2");
        assertThat(edited.err()).contains("error: small.yaml:3:18: limits.memory");
        String second = Files.readString(dir.resolve("shown-2.yaml"));
        assertThat(second).startsWith(Profiles.NOTE_START).contains("# small.yaml:3:18: limits.memory", Profiles.NOTE_END)
                .endsWith("limits: {memory: lots}\n");
        assertThat(edited.out()).contains("Updated profile small");
        assertThat(berth(Map.of(), "profile", "show", "small").out())
                .as("saved without the note, comments kept").isEqualTo("name: small\n# memory for the app\nlimits: {memory: 80MiB}\n");
    }

    @Test
    void profileEditGivesUpWhenTheErrorIsLeftAsItWas(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        Path dir = sandbox.scratch("editor");
        Path good = Files.writeString(dir.resolve("small.yaml"), "name: small\nlimits: {memory: 64MiB}\n");
        assertThat(berth(Map.of(), "profile", "apply", "-f", good.toString()).code()).isZero();
        Path editor = script(dir, "editor.sh", """
                n=$(cat "%1$s/rounds" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "%1$s/rounds"
                if [ $n = 1 ]; then sed -i 's/name: small/name: other/' "$1"; fi
                """.formatted(dir));

        Result abandoned = berth(Map.of("EDITOR", editor.toString(), "VISUAL", ""), "profile", "edit", "small");

        assertThat(abandoned.code()).isEqualTo(Berth.USAGE);
        assertThat(abandoned.err()).contains("the file says 'other' but this is profile 'small'", "edit abandoned");
        Path kept = Path.of(abandoned.err().replaceAll("(?s).*Your version is in (\\S+).*", "$1"));
        assertThat(Files.readString(kept)).startsWith("name: other");
        Files.delete(kept);
        assertThat(berth(Map.of(), "profile", "show", "small").out()).isEqualTo("name: small\nlimits: {memory: 64MiB}\n");
    }

    @Test
    void bashCompletesNounsVerbsOptionsAndContainerNames(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        String web = sandbox.name("web");
        assertThat(berth(Map.of(), "launch", web, "-q").code()).isZero();
        try {
            Path dir = sandbox.scratch("completion");
            Path completion = dir.resolve("berth.bash");
            Files.writeString(completion, berth(Map.of(), "completion", "bash").out());
            // The script asks "berth" on the PATH for names: this one talks to the test's agent.
            script(dir, "berth", String.join(" ", javaBerth()).replace(System.getProperty("java.class.path"),
                    "'" + System.getProperty("java.class.path") + "'") + " --socket " + socket + " \"$@\"\n");

            assertThat(complete(dir, completion, "berth", "pro")).containsExactly("profile");
            assertThat(complete(dir, completion, "berth", "profile", "")).contains("list", "show", "edit", "apply", "validate");
            assertThat(complete(dir, completion, "berth", "list", "--fo")).containsExactly("--format");
            assertThat(complete(dir, completion, "berth", "--socket", "/x", "sto")).containsExactly("stop");
            assertThat(complete(dir, completion, "berth", "stop", web.substring(0, web.length() - 1))).containsExactly(web);
            assertThat(complete(dir, completion, "berth", "profile", "edit", "def")).containsExactly("default");
            assertThat(complete(dir, completion, "berth", "image", "alias", "")).contains("list", "add", "remove");
        } finally {
            berth(Map.of(), "delete", web, "--force", "-q");
        }
    }

    /** What bash's completion offers for {@code words}, the last being the one under the cursor. */
    private static List<String> complete(Path dir, Path completion, String... words) throws Exception {
        StringBuilder array = new StringBuilder();
        for (String word : words) {
            array.append("'").append(word).append("' ");
        }
        String program = "source " + completion + "\nCOMP_WORDS=(" + array + ")\nCOMP_CWORD=" + (words.length - 1)
                + "\n_berth\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
        Result result = exec(List.of("bash", "-c", program), Map.of("PATH", dir + ":" + System.getenv("PATH")));
        assertThat(result.code()).as(result.err()).isZero();
        return result.out().lines().filter(l -> !l.isBlank()).toList();
    }

    /**
     * {@code berth exec -t} as a person uses it: berth runs on a terminal of its own (util-linux
     * {@code script} gives it one), keys are typed into that terminal, the remote shell answers.
     */
    @Test
    void execOnATerminalDrivesAnInteractiveShell(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        String name = sandbox.name("tty");
        assertThat(berth(Map.of(), "launch", name, "-q").code()).isZero();
        String line = String.join(" ", javaBerth()) + " --socket " + socket + " exec " + name + " --env PS1=remote-prompt\\$\\  -- sh";
        Process session = new ProcessBuilder("script", "-qfec", line, "/dev/null").redirectErrorStream(true).start();
        StringBuilder screen = new StringBuilder();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                var in = session.getInputStream();
                byte[] buffer = new byte[4096];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    synchronized (screen) {
                        screen.append(new String(buffer, 0, n, java.nio.charset.StandardCharsets.UTF_8));
                    }
                }
            } catch (java.io.IOException ignored) {
                // the session ended
            }
        });
        var keys = session.getOutputStream();
        awaitScreen(screen, "remote-prompt$ ", session);
        keys.write("echo $((6 * 7)); [ -t 0 ] && echo on-a-terminal; stty size\n".getBytes());
        keys.flush();
        awaitScreen(screen, "on-a-terminal", session);
        keys.write("exit 3\n".getBytes());
        keys.flush();
        assertThat(session.waitFor(30, TimeUnit.SECONDS)).isTrue();
        reader.join(5000);
        assertThat(session.exitValue()).as(screen.toString()).isEqualTo(3);
        assertThat(screen.toString()).contains("42").contains("24 80"); // script's terminal has no size: the default

        // berth shell: a login shell in /root on a terminal
        Process shell = new ProcessBuilder("script", "-qfec", String.join(" ", javaBerth()) + " --socket " + socket + " shell " + name,
                "/dev/null").redirectErrorStream(true).start();
        StringBuilder shellScreen = new StringBuilder();
        Thread shellReader = Thread.ofPlatform().start(() -> {
            try {
                var in = shell.getInputStream();
                byte[] buffer = new byte[4096];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    synchronized (shellScreen) {
                        shellScreen.append(new String(buffer, 0, n, java.nio.charset.StandardCharsets.UTF_8));
                    }
                }
            } catch (java.io.IOException ignored) {
                // the session ended
            }
        });
        shell.getOutputStream().write("echo \"in-$(pwd)\"; exit 4\n".getBytes());
        shell.getOutputStream().flush();
        awaitScreen(shellScreen, "in-/root", shell);
        assertThat(shell.waitFor(30, TimeUnit.SECONDS)).isTrue();
        shellReader.join(5000);
        assertThat(shell.exitValue()).as(shellScreen.toString()).isEqualTo(4);
        assertThat(berth(Map.of(), "delete", "--force", name).code()).isZero();
    }

    /**
     * Long operations on a terminal: a progress line on standard error, redrawn in place and cleared
     * at the end, then one summary line; nothing of the sort without a terminal, nothing at all with -q.
     */
    @Test
    void longOperationsShowAProgressLineOnATerminalOnly(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        String name = sandbox.name("prog");
        String berth = String.join(" ", javaBerth()) + " --socket " + socket;
        String launched = onTerminal(berth + " launch " + name);
        assertThat(launched).contains("\r\033[KLaunching " + name + ": started (").contains("Launched " + name + " in ");
        assertThat(launched.indexOf("Launched " + name)).as("cleared before the summary")
                .isGreaterThan(launched.lastIndexOf("\r\033[K"));
        assertThat(onTerminal(berth + " snapshot create " + name + " s1")).contains("Snapshotting " + name + ": started (");
        String restored = onTerminal(berth + " snapshot restore " + name + " s1");
        assertThat(restored).contains("\r\033[KRestoring " + name + " to s1: started (").contains("Restored");

        String quiet = onTerminal(berth + " -q stop " + name);
        assertThat(quiet).doesNotContain("Stopping").doesNotContain("Stopped");
        Result piped = berth(Map.of(), "start", name);
        assertThat(piped.code()).isZero();
        assertThat(piped.err()).as("no terminal: no progress line").isEmpty();
        assertThat(piped.out()).startsWith("Started " + name + " in ").doesNotContain("\033");
        assertThat(berth(Map.of(), "delete", "--force", name).code()).isZero();
    }

    /** What {@code command} writes on a terminal of its own (util-linux script), both streams. */
    private static String onTerminal(String command) throws Exception {
        Process session = new ProcessBuilder("script", "-qfec", command, "/dev/null").redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String screen = new String(session.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(session.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(session.exitValue()).as(screen).isZero();
        return screen;
    }

    private static void awaitScreen(StringBuilder screen, String wanted, Process session) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            synchronized (screen) {
                if (screen.indexOf(wanted) >= 0) {
                    return;
                }
            }
            if (!session.isAlive()) {
                break;
            }
            Thread.sleep(50);
        }
        synchronized (screen) {
            throw new AssertionError("never saw \"" + wanted + "\" on the terminal; it showed:\n" + screen);
        }
    }
}
