package dev.berth.agent.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The tiny image behind the {@code busybox} alias: the host's statically linked busybox, its applets
 * as symlinks, and an init that starts nothing. No DHCP client: addresses come from LXC's config.
 */
final class BusyboxImage {

    static final Path BUSYBOX = Path.of("/bin/busybox");

    static final Map<String, Object> RECIPE = Map.of("kind", "busybox", "source", BUSYBOX.toString());

    private static final List<String> DIRECTORIES = List.of("bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "dev",
            "proc", "sys", "run", "tmp", "root", "var/log", "mnt", "home");

    private BusyboxImage() {
    }

    static void build(Path rootfs) throws IOException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IOException(BUSYBOX + " is missing: install busybox-static (./scripts/setup.sh does)");
        }
        for (String dir : DIRECTORIES) {
            Files.createDirectories(rootfs.resolve(dir));
        }
        Files.setAttribute(rootfs.resolve("tmp"), "unix:mode", 01777);
        Files.setPosixFilePermissions(rootfs.resolve("root"), PosixFilePermissions.fromString("rwx------"));
        Files.copy(BUSYBOX, rootfs.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : applets()) {
            Path link = rootfs.resolve(applet);
            if (!applet.equals("bin/busybox") && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(link.getParent());
                Files.createSymbolicLink(link, Path.of("/bin/busybox"));
            }
        }
        write(rootfs, "etc/inittab", "::sysinit:/etc/init.d/rcS\n::ctrlaltdel:/sbin/reboot\n::shutdown:/bin/umount -a -r\n", "rw-r--r--");
        write(rootfs, "etc/init.d/rcS", "#!/bin/sh\n# Berth busybox image: nothing to start.\n", "rwxr-xr-x");
        write(rootfs, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", "rw-r--r--");
        write(rootfs, "etc/group", "root:x:0:\nnogroup:x:65534:\n", "rw-r--r--");
        write(rootfs, "etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", "rw-r--r--");
        write(rootfs, "etc/hostname", "", "rw-r--r--");
    }

    private static List<String> applets() throws IOException {
        Process process = new ProcessBuilder(BUSYBOX.toString(), "--list-full").redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException("busybox --list-full failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return out.lines().filter(l -> !l.isBlank() && !l.contains("..")).sorted().toList();
    }

    private static void write(Path rootfs, String path, String content, String mode) throws IOException {
        Path file = rootfs.resolve(path);
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    }
}
