package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.profile.HostFacts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Host paths a container's config bind-mounts from the allow-list, checked at the moment before each
 * start: the profile's path was checked when it was read, but what lies at it can change later (a
 * symlink {@code /srv/allowed/etc -> /etc} put there after the launch, or before it). A mount is
 * refused unless its source is a directory under the allow-list reached without a symbolic link in
 * any component below the allowed directory. liblxc mounts in its own process a few milliseconds later; a swap
 * inside that window by someone who can write under the allowed directory is not closed here.
 */
final class HostMounts {

    private HostMounts() {
    }

    /**
     * Every start of a container goes through here: its host mounts are checked, then it starts.
     *
     * @throws AgentException.Invalid naming the mount whose source is a symbolic link or no longer allowed
     */
    static void start(RuntimeContainer container, HostFacts host) {
        verify(container, host);
        container.start();
    }

    /** @throws AgentException.Invalid naming the mount whose source is a symbolic link or no longer allowed */
    static void verify(RuntimeContainer container, HostFacts host) {
        if (host.hostPathAllowList().isEmpty()) {
            return; // no host path could have been rendered: nothing to check, and no liblxc call for it
        }
        List<String> sources = new java.util.ArrayList<>(container.configItem("lxc.mount.entry").lines()
                .map(entry -> entry.strip().split("\\s+", 2)[0]).toList());
        // an unprivileged container's binds are staged: what it mounts is the staged source
        container.stagedBindSources().values().forEach(p -> sources.add(p.toString()));
        for (String source : sources) {
            if (!source.startsWith("/") || source.startsWith(host.volumesDir().toString() + "/")
                    || host.hostPathAllowList().stream().noneMatch(Path.of(source).normalize()::startsWith)) {
                continue;
            }
            verify(container.name(), Path.of(source), host);
        }
    }

    static void verify(String container, Path source, HostFacts host) {
        Path normal = source.normalize();
        Path allowed = host.hostPathAllowList().stream().filter(normal::startsWith).findFirst()
                .orElseThrow(() -> new AgentException.Invalid("host path " + source + " of " + container
                        + " is not under the allow-list " + host.hostPathAllowList()));
        // Links above the allowed directory are the operator's own layout; below it, none is followed.
        Path walked = allowed;
        for (Path part : allowed.relativize(normal)) {
            walked = walked.resolve(part);
            if (Files.isSymbolicLink(walked)) {
                String target;
                try {
                    target = Files.readSymbolicLink(walked).toString();
                } catch (IOException e) {
                    target = "?";
                }
                throw new AgentException.Invalid("host path " + source + " of " + container + " goes through the symbolic link "
                        + walked + " -> " + target + ": refused, a link could lead out of the allow-list "
                        + host.hostPathAllowList() + " (mount the link's target by its own path, if it is allowed)");
            }
        }
        if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new AgentException.Invalid("host path " + source + " of " + container + " is not a directory (create it, or fix the profile)");
        }
    }
}
