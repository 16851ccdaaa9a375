package dev.berth.lxc;

import java.nio.file.Path;

/**
 * A snapshot of a container, as liblxc lists it.
 *
 * @param name      liblxc's name for it ({@code snap0}, {@code snap1}, ...)
 * @param timestamp when it was taken, as liblxc records it ({@code 2026:11:22 04:39:02})
 * @param lxcpath   the lxcpath under which liblxc keeps it
 */
public record LxcSnapshot(String name, String timestamp, Path lxcpath) {
}
