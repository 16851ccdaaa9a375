package dev.berth.agent;

import dev.berth.lxc.ExecResult;
import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcCommand;
import dev.berth.lxc.LxcContainer;
import dev.berth.lxc.LxcException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Berth's main job until berthd exists: one real system container, created, started, used and
 * destroyed through Berth's liblxc bindings, with each step and its time printed. Whatever happens,
 * the container it made is gone when it exits.
 *
 * <p>Usage: {@code BindingsDemo [--lxcpath DIR]} (default {@code /var/lib/berth/containers}).
 */
public final class BindingsDemo {

    private BindingsDemo() {
    }

    public static void main(String[] args) throws Exception {
        Path lxcpath = Path.of("/var/lib/berth/containers");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--lxcpath" -> lxcpath = Path.of(args[++i]);
                case "-h", "--help" -> {
                    System.out.println("usage: berth-demo [--lxcpath DIR]   (default /var/lib/berth/containers)");
                    return;
                }
                default -> {
                    System.err.println("unknown option " + args[i] + "; try --help");
                    System.exit(2);
                }
            }
        }
        Files.createDirectories(lxcpath);
        String name = "berth-demo-" + Long.toString(ProcessHandle.current().pid(), 36);
        System.out.printf("liblxc %s; lxcpath %s%n", Lxc.version(), lxcpath);
        try (LxcContainer c = Lxc.open(name, lxcpath)) {
            try {
                step("Creating " + name + " from the busybox template", () -> {
                    c.setConfigItem("lxc.net.0.type", "empty");
                    c.setConfigItem("lxc.apparmor.profile", "unconfined");
                    c.create("busybox", List.of());
                    // The template's rcS asks for DHCP forever; Berth configures addresses itself.
                    Path rcs = c.directory().resolve("rootfs/etc/init.d/rcS");
                    Files.writeString(rcs, Files.readString(rcs).replace("/bin/udhcpc", ""));
                });
                step("Starting " + name, c::start);
                System.out.printf("    state %s, init pid %d, memory %.1f MiB%n", c.state(),
                        c.initPid().orElse(-1), c.memoryUsage() / 1048576.0);
                ExecResult[] result = new ExecResult[1];
                step("Running commands inside", () -> result[0] = c.run(
                        LxcCommand.of("sh", "-c", "echo \"hostname: $(hostname)\"; uname -sr; ps")));
                result[0].stdoutText().lines().forEach(line -> System.out.println("    | " + line));
                if (result[0].exitCode() != 0) {
                    throw new IllegalStateException("command exited " + result[0].exitCode() + ": " + result[0].stderrText());
                }
                step("Stopping " + name, c::stop);
            } finally {
                if (c.isDefined()) {
                    if (c.isRunning()) {
                        c.stop();
                    }
                    step("Destroying " + name, c::destroy);
                }
            }
        } catch (LxcException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
        System.out.println("Done: the container was created, started, used, stopped and destroyed.");
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private static void step(String what, Step step) throws Exception {
        System.out.print("==> " + what + "... ");
        System.out.flush();
        long start = System.nanoTime();
        step.run();
        System.out.printf(Locale.ROOT, "done in %.0f ms%n", (System.nanoTime() - start) / 1e6);
    }
}
