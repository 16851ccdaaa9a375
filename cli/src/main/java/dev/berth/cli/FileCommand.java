package dev.berth.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth file}: copy files and directory trees into and out of a running container. */
@Command(name = "file",
        description = "Copy files and directories into (push) and out of (pull) a running container.",
        footer = {"%nPaths inside are NAME/PATH, as in web1/etc/motd. Directories go as tar streams (-r). A path "
                + "that would leave the container's root (through '..' or a symlink pointing outside) is refused. "
                + "Examples:",
                "  berth file push index.html web1/srv/www/index.html --mode 0644",
                "  berth file push -r ./site web1/srv/www",
                "  berth file pull web1/etc/hosts -",
                "  berth file pull -r web1/var/log ./logs"})
final class FileCommand {

    @ParentCommand
    Berth berth;

    @Command(name = "push", description = "Copy a local file (or '-' for standard input), or a directory with -r, into a container.")
    int push(@Parameters(index = "0", paramLabel = "LOCAL") String local,
             @Parameters(index = "1", paramLabel = "NAME/PATH") String target,
             @Option(names = {"-r", "--recursive"}, description = "Copy a directory tree.") boolean recursive,
             @Option(names = "--mode", paramLabel = "OCTAL", description = "The file's mode inside (default: the local file's).") String mode,
             @Option(names = "--uid", paramLabel = "UID", description = "Owner inside (default 0).") Integer uid,
             @Option(names = "--gid", paramLabel = "GID", description = "Group inside (default 0).") Integer gid) throws Exception {
        String[] at = split(target);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Berth-Uid", Integer.toString(uid == null ? 0 : uid));
        headers.put("X-Berth-Gid", Integer.toString(gid == null ? 0 : gid));
        String path = "/1.0/containers/" + Berth.encode(at[0]) + "/files?path=" + Berth.encode(at[1]);
        if (local.equals("-")) {
            headers.put("X-Berth-Mode", mode == null ? "0644" : checkMode(mode));
            Berth.checked(berth.client().upload(path, headers, System.in));
        } else if (Files.isDirectory(Path.of(local))) {
            if (!recursive) {
                throw new Berth.UsageError(local + " is a directory: add -r to copy it");
            }
            headers.put("X-Berth-Type", "directory");
            Process tar = new ProcessBuilder("tar", "-C", local, "-cf", "-", ".").redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (InputStream stream = tar.getInputStream()) {
                Berth.checked(berth.client().upload(path, headers, stream));
            }
            if (tar.waitFor() != 0) {
                throw new Berth.OperationFailed("tar could not read all of " + local);
            }
        } else {
            Path file = Path.of(local);
            if (!Files.isRegularFile(file)) {
                throw new Berth.UsageError("no such file: " + local);
            }
            headers.put("X-Berth-Mode", mode != null ? checkMode(mode) : String.format("%04o",
                    modeBits(Files.readAttributes(file, PosixFileAttributes.class))));
            Berth.checked(berth.client().upload(path, headers, file));
        }
        berth.summary("Pushed " + local + " to " + target);
        return 0;
    }

    @Command(name = "pull", description = "Copy a file (to a local path, or '-' for standard output), or a directory with -r, out of a container.")
    int pull(@Parameters(index = "0", paramLabel = "NAME/PATH") String source,
             @Parameters(index = "1", paramLabel = "LOCAL") String local,
             @Option(names = {"-r", "--recursive"}, description = "Copy a directory tree (into LOCAL, made if missing).") boolean recursive) throws Exception {
        String[] at = split(source);
        String path = "/1.0/containers/" + Berth.encode(at[0]) + "/files?path=" + Berth.encode(at[1]);
        if (recursive) {
            Path dir = Files.createDirectories(Path.of(local));
            Process tar = new ProcessBuilder("tar", "-C", dir.toString(), "-xf", "-").redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Map<String, String> headers;
            try (OutputStream in = tar.getOutputStream()) {
                headers = berth.client().download(path, in);
            }
            if (tar.waitFor() != 0) {
                throw new Berth.OperationFailed("tar could not unpack " + source + " into " + local);
            }
            if (!"directory".equals(headers.get("x-berth-type"))) {
                throw new Berth.UsageError(source + " is a file: pull it without -r");
            }
        } else if (local.equals("-")) {
            OutputStream stdout = berth.stdoutBytes();
            berth.client().download(path, stdout);
            stdout.flush();
            return 0;
        } else {
            Path file = Path.of(local);
            if (Files.isDirectory(file)) {
                file = file.resolve(Path.of(at[1]).getFileName().toString());
            }
            Path partial = file.resolveSibling(file.getFileName() + ".berth-partial");
            Map<String, String> headers;
            try (OutputStream out = Files.newOutputStream(partial)) {
                headers = berth.client().download(path, out);
            } catch (RuntimeException e) {
                Files.deleteIfExists(partial);
                throw e;
            }
            if ("directory".equals(headers.get("x-berth-type"))) {
                Files.deleteIfExists(partial);
                throw new Berth.UsageError(source + " is a directory: add -r to copy it");
            }
            Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            if (headers.containsKey("x-berth-mode")) {
                Files.setPosixFilePermissions(file, permissions(Integer.parseInt(headers.get("x-berth-mode"), 8)));
            }
        }
        berth.summary("Pulled " + source + " to " + local);
        return 0;
    }

    private static String[] split(String target) {
        int slash = target.indexOf('/');
        if (slash <= 0) {
            throw new Berth.UsageError("name the path inside as NAME/PATH, for example web1/etc/hosts; got '" + target + "'");
        }
        return new String[] {target.substring(0, slash), target.substring(slash)};
    }

    private static String checkMode(String mode) {
        if (!mode.matches("0?[0-7]{3,4}")) {
            throw new Berth.UsageError("--mode takes an octal mode such as 0644; got '" + mode + "'");
        }
        return mode;
    }

    private static int modeBits(PosixFileAttributes attributes) {
        int mode = 0;
        for (var p : attributes.permissions()) {
            mode |= 1 << (8 - p.ordinal());
        }
        return mode;
    }

    private static java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions(int mode) {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> set = java.util.EnumSet.noneOf(java.nio.file.attribute.PosixFilePermission.class);
        for (var p : java.nio.file.attribute.PosixFilePermission.values()) {
            if ((mode & (1 << (8 - p.ordinal()))) != 0) {
                set.add(p);
            }
        }
        return set;
    }
}
