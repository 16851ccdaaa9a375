package dev.berth.agent.runtime;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The mount system calls the agent makes itself (util-linux's {@code mount -o X-mount.idmap} is
 * silently ignored on Debian 12): a detached clone of a tree ({@code open_tree}), an id-mapped,
 * read-only attribute on it ({@code mount_setattr} with a user namespace), attaching it
 * ({@code move_mount}), an overlay {@code mount}, a private propagation and a lazy unmount. Each
 * failure is an IOException naming the call, the path and the errno.
 */
final class Mounts {

    private static final long SYS_OPEN_TREE = 428;
    private static final long SYS_MOVE_MOUNT = 429;
    private static final long SYS_MOUNT_SETATTR = 442;

    private static final int AT_FDCWD = -100;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int AT_RECURSIVE = 0x8000;
    private static final int OPEN_TREE_CLONE = 1;
    private static final int OPEN_TREE_CLOEXEC = 02000000;
    private static final int MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    private static final long MOUNT_ATTR_RDONLY = 0x1;
    private static final long MOUNT_ATTR_NODEV = 0x4;
    private static final long MOUNT_ATTR_IDMAP = 0x100000;
    private static final long MS_NODEV = 4;
    private static final long MS_PRIVATE = 1 << 18;
    private static final long MS_BIND = 4096;
    private static final long MS_REC = 16384;
    private static final int MNT_DETACH = 2;
    static final int EINVAL = 22;
    static final int ENOENT = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    /** syscall(nr, int, const char *, int) and syscall(nr, int, const char *, int, const char *, int) share one shape. */
    private static final MethodHandle SYSCALL_PATH = libc("syscall", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(1), CAPTURE);
    private static final MethodHandle SYSCALL_SETATTR = libc("syscall", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG), Linker.Option.firstVariadicArg(1), CAPTURE);
    private static final MethodHandle SYSCALL_MOVE = libc("syscall", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(1), CAPTURE);
    private static final MethodHandle MOUNT = libc("mount", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), CAPTURE);
    private static final MethodHandle UMOUNT2 = libc("umount2", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT), CAPTURE);
    private static final MethodHandle OPEN = libc("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT), CAPTURE);
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Mounts() {
    }

    private static MethodHandle libc(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), descriptor, options);
    }

    /** A failed mount call, with its errno for the callers that tell one failure from another. */
    static final class MountException extends IOException {
        final int errno;

        MountException(String message, int errno) {
            super(message);
            this.errno = errno;
        }
    }

    private static MountException failure(String call, String path, int errno) {
        return new MountException(call + " " + path + ": " + ErrnoNames.describe(errno), errno);
    }

    /** A detached copy of the mount tree at {@code path} (recursive), as an fd to set attributes on and attach. */
    static int openTreeClone(String path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long fd = (long) SYSCALL_PATH.invokeExact(state, SYS_OPEN_TREE, AT_FDCWD, arena.allocateFrom(path),
                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
            if (fd < 0) {
                throw failure("open_tree", path, (int) ERRNO.get(state, 0L));
            }
            return (int) fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Makes the detached tree {@code treeFd} read-only, nodev and id-mapped by the user namespace {@code usernsFd}. */
    static void idmapReadOnly(int treeFd, int usernsFd, String what) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(32, 8); // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
            attr.set(ValueLayout.JAVA_LONG, 0, MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV);
            attr.set(ValueLayout.JAVA_LONG, 16, MS_PRIVATE);
            attr.set(ValueLayout.JAVA_LONG, 24, usernsFd);
            MemorySegment state = arena.allocate(CALL_STATE);
            long rc = (long) SYSCALL_SETATTR.invokeExact(state, SYS_MOUNT_SETATTR, treeFd, arena.allocateFrom(""),
                    AT_EMPTY_PATH | AT_RECURSIVE, attr, 32L);
            if (rc < 0) {
                throw failure("mount_setattr (idmap)", what, (int) ERRNO.get(state, 0L));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Tries what a start does to {@code path} (a detached clone made id-mapped by {@code usernsFd}) and drops
     * the clone: null when the kernel and the filesystem can, else why not.
     */
    static MountException probeIdmap(String path, int usernsFd) {
        int tree;
        try {
            tree = openTreeClone(path);
        } catch (MountException e) {
            return e;
        } catch (IOException e) {
            return new MountException(e.getMessage(), 0);
        }
        try {
            idmapReadOnly(tree, usernsFd, path);
            return null;
        } catch (MountException e) {
            return e;
        } catch (IOException e) {
            return new MountException(e.getMessage(), 0);
        } finally {
            close(tree);
        }
    }

    /** Attaches the detached tree {@code treeFd} at {@code target}. */
    static void moveMount(int treeFd, String target) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long rc = (long) SYSCALL_MOVE.invokeExact(state, SYS_MOVE_MOUNT, treeFd, arena.allocateFrom(""), AT_FDCWD,
                    arena.allocateFrom(target), MOVE_MOUNT_F_EMPTY_PATH);
            if (rc < 0) {
                throw failure("move_mount", target, (int) ERRNO.get(state, 0L));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Mounts an overlay of {@code lower} and {@code upper} (with {@code work}) at {@code target}: nodev, private. */
    static void overlay(String target, String lower, String upper, String work) throws IOException {
        for (String dir : new String[] {lower, upper, work}) {
            if (dir.contains(",") || dir.contains(":") || dir.contains("\\")) {
                throw new IOException("overlay: " + dir + " holds a character the overlay's options cannot carry");
            }
        }
        mount("overlay", target, "overlay", MS_NODEV, "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work);
        mount(null, target, null, MS_PRIVATE, null);
    }

    /** Bind-mounts directory {@code source} (with what is mounted below it) at {@code target}, private. */
    static void bind(String source, String target) throws IOException {
        mount(source, target, null, MS_BIND | MS_REC, null);
        mount(null, target, null, MS_PRIVATE, null);
    }

    private static void mount(String source, String target, String type, long flags, String data) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment src = source == null ? MemorySegment.NULL : arena.allocateFrom(source);
            MemorySegment fs = type == null ? MemorySegment.NULL : arena.allocateFrom(type);
            MemorySegment options = data == null ? MemorySegment.NULL : arena.allocateFrom(data);
            int rc = (int) MOUNT.invokeExact(state, src, arena.allocateFrom(target), fs, flags, options);
            if (rc < 0) {
                throw failure(type != null ? "mount " + type : source != null ? "bind mount of " + source + " at" : "mount (propagation)",
                        target, (int) ERRNO.get(state, 0L));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Detaches whatever is mounted at {@code target} (lazily: users keep their copy, as a running
     * container's mount namespace does). Returns false when nothing was mounted there.
     */
    static boolean detach(String target) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) UMOUNT2.invokeExact(state, arena.allocateFrom(target), MNT_DETACH);
            if (rc < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == EINVAL || errno == ENOENT) {
                    return false; // not a mount point (any more), or gone
                }
                throw failure("umount", target, errno);
            }
            return true;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** open(path, O_RDONLY | O_CLOEXEC). */
    static int openReadOnly(String path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), 02000000);
            if (fd < 0) {
                throw failure("open", path, (int) ERRNO.get(state, 0L));
            }
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void close(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** errno numbers as their names, for messages an operator can search for. */
    static final class ErrnoNames {
        private ErrnoNames() {
        }

        static String describe(int errno) {
            String name = switch (errno) {
                case 1 -> "EPERM (operation not permitted)";
                case 2 -> "ENOENT (no such file or directory)";
                case 13 -> "EACCES (permission denied)";
                case 16 -> "EBUSY (busy)";
                case 20 -> "ENOTDIR (not a directory)";
                case 22 -> "EINVAL (invalid argument)";
                case 38 -> "ENOSYS (the kernel has no such call)";
                case 75 -> "EOVERFLOW (value too large)";
                case 95 -> "EOPNOTSUPP (not supported by this filesystem)";
                default -> "errno " + errno;
            };
            return name;
        }
    }
}
