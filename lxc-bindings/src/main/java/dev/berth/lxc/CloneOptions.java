package dev.berth.lxc;

import java.nio.file.Path;

/**
 * How to clone a container.
 *
 * @param lxcpath      the new container's lxcpath, or null for the source's
 * @param backingStore the new rootfs's storage type ({@code "dir"}, {@code "overlayfs"}), or null to keep the source's
 * @param snapshot     copy-on-write: an overlayfs snapshot of the source rootfs instead of a full copy
 * @param keepName     do not rewrite the hostname inside the rootfs
 * @param keepMac      keep the network interfaces' MAC addresses
 */
public record CloneOptions(Path lxcpath, String backingStore, boolean snapshot, boolean keepName, boolean keepMac) {

    /** A full copy in the same lxcpath. */
    public static CloneOptions copy() {
        return new CloneOptions(null, null, false, false, false);
    }

    /** An overlayfs copy-on-write snapshot in the same lxcpath: fast, and the source must stay. */
    public static CloneOptions overlaySnapshot() {
        return new CloneOptions(null, "overlayfs", true, false, false);
    }

    public CloneOptions inLxcpath(Path path) {
        return new CloneOptions(path, backingStore, snapshot, keepName, keepMac);
    }
}
