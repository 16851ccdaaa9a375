package dev.berth.agent.image;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A base system image in the store.
 *
 * @param fingerprint sha256 of the canonical rootfs ({@link Fingerprint})
 * @param aliases     names it is known by, such as {@code busybox}; an alias names one image at a time
 * @param size        bytes of its files
 * @param created     when it was built or imported
 * @param recipe      how it was made (kind and parameters), enough to make it again
 * @param lxcConfig   LXC config items containers of this image need (their init's halt signal, ...)
 * @param packages    for a built image, what it holds (name=version): the same recipe, the same set
 * @param rootfs      its root filesystem, shared read-only by the containers made from it
 */
public record Image(String fingerprint, List<String> aliases, long size, Instant created, Map<String, Object> recipe,
                    Map<String, String> lxcConfig, List<String> packages, Path rootfs) {

    public Image {
        aliases = List.copyOf(aliases);
        packages = packages == null ? List.of() : List.copyOf(packages);
    }

    Image withAliases(List<String> newAliases) {
        return new Image(fingerprint, newAliases, size, created, recipe, lxcConfig, packages, rootfs);
    }
}
