package dev.berth.agent.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * The init a rootfs runs as PID 1, and what LXC must know to drive it: the signal that halts it and
 * the common container config (capabilities, devices, seccomp, /dev) where the init expects it.
 */
public enum InitSystem {
    /** systemd halts on SIGRTMIN+3 and reboots on SIGINT (ctrl-alt-del). */
    SYSTEMD(Map.of(
            "lxc.include", "/usr/share/lxc/config/common.conf",
            "lxc.signal.halt", "SIGRTMIN+3",
            "lxc.signal.reboot", "SIGINT",
            "lxc.autodev", "1")),
    /** busybox init halts on SIGUSR1, reboots on SIGTERM; it needs nothing else. */
    BUSYBOX(Map.of(
            "lxc.signal.halt", "SIGUSR1",
            "lxc.signal.reboot", "SIGTERM",
            "lxc.autodev", "1",
            "lxc.pty.max", "16")),
    /** sysvinit and others: LXC's defaults (SIGPWR halts). */
    OTHER(Map.of(
            "lxc.include", "/usr/share/lxc/config/common.conf",
            "lxc.autodev", "1"));

    private final Map<String, String> lxcConfig;

    InitSystem(Map<String, String> lxcConfig) {
        this.lxcConfig = lxcConfig;
    }

    public Map<String, String> lxcConfig() {
        return lxcConfig;
    }

    /** Which init {@code rootfs} runs, from what {@code /sbin/init} is. */
    public static InitSystem detect(Path rootfs) throws IOException {
        Path init = rootfs.resolve("sbin/init");
        if (!Files.exists(init, LinkOption.NOFOLLOW_LINKS)) {
            init = rootfs.resolve("usr/sbin/init");
        }
        if (!Files.isSymbolicLink(init)) {
            return OTHER;
        }
        String target = Files.readSymbolicLink(init).toString();
        if (target.contains("systemd")) {
            return SYSTEMD;
        }
        return target.contains("busybox") ? BUSYBOX : OTHER;
    }
}
