package dev.berth.lxc.ffm;

import static dev.berth.lxc.ffm.Layouts.C_BOOL;
import static dev.berth.lxc.ffm.Layouts.C_INT;
import static dev.berth.lxc.ffm.Layouts.C_LONG;
import static dev.berth.lxc.ffm.Layouts.C_POINTER;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.HashMap;
import java.util.Map;

/**
 * Every native symbol Berth binds, in one place: liblxc's exported functions, the libc functions the
 * bindings need (pipes, and the socket calls that talk to {@code berth-forkd}, where liblxc's
 * forking calls run), and the function table of {@code struct lxc_container}. This is the only class that
 * reads that table. A jextract run would replace this file and {@link Layouts} mechanically.
 *
 * <p>One downcall handle exists per C signature ({@link Sig}); the function-pointer members of
 * {@code struct lxc_container} are read by field offset and passed to that handle as its target.
 * All handles are thread-safe; the memory they touch is owned by the caller.
 */
public final class Liblxc {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LXC = loadLiblxc();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Map<String, VarHandle> FUNCTION_FIELDS = functionFields();

    /** The C signatures called through function pointers; each holds one cached downcall handle. */
    public enum Sig {
        /** {@code bool f(struct lxc_container *)} */
        BOOL_C(FunctionDescriptor.of(C_BOOL, C_POINTER)),
        /** {@code T *f(struct lxc_container *)} */
        PTR_C(FunctionDescriptor.of(C_POINTER, C_POINTER)),
        /** {@code int f(struct lxc_container *)} */
        INT_C(FunctionDescriptor.of(C_INT, C_POINTER)),
        /** {@code bool f(struct lxc_container *, int)} */
        BOOL_C_INT(FunctionDescriptor.of(C_BOOL, C_POINTER, C_INT)),
        /** {@code bool f(struct lxc_container *, const char *)} */
        BOOL_C_PTR(FunctionDescriptor.of(C_BOOL, C_POINTER, C_POINTER)),
        /** {@code bool f(struct lxc_container *, const char *, int)} */
        BOOL_C_PTR_INT(FunctionDescriptor.of(C_BOOL, C_POINTER, C_POINTER, C_INT)),
        /** {@code bool f(struct lxc_container *, const char *, const char *)} */
        BOOL_C_PTR_PTR(FunctionDescriptor.of(C_BOOL, C_POINTER, C_POINTER, C_POINTER)),
        /** {@code int f(struct lxc_container *, const char *)} */
        INT_C_PTR(FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER)),
        /** {@code int f(struct lxc_container *, const char *, char *, int)} */
        INT_C_PTR_PTR_INT(FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_INT)),
        /** {@code char **f(struct lxc_container *, const char *, const char *, int)} */
        PTR_C_PTR_PTR_INT(FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT)),
        /** {@code bool create(c, const char *t, const char *bdevtype, struct bdev_specs *, int flags, char *const argv[])} */
        CREATE(FunctionDescriptor.of(C_BOOL, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_POINTER)),
        /** {@code void f(T *)}: {@code lxc_snapshot.free}. */
        VOID_PTR(FunctionDescriptor.ofVoid(C_POINTER));

        private final MethodHandle handle;

        Sig(FunctionDescriptor descriptor) {
            this.handle = LINKER.downcallHandle(descriptor);
        }

        /** The downcall handle; its first parameter is the function's address. */
        public MethodHandle handle() {
            return handle;
        }
    }

    // liblxc's exported functions.
    public static final MethodHandle LXC_CONTAINER_NEW = lxc("lxc_container_new",
            FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER));
    public static final MethodHandle LXC_CONTAINER_PUT = lxc("lxc_container_put",
            FunctionDescriptor.of(C_INT, C_POINTER));
    public static final MethodHandle LXC_GET_VERSION = lxc("lxc_get_version",
            FunctionDescriptor.of(C_POINTER));
    public static final MethodHandle LXC_GET_GLOBAL_CONFIG_ITEM = lxc("lxc_get_global_config_item",
            FunctionDescriptor.of(C_POINTER, C_POINTER));
    public static final MethodHandle LIST_DEFINED_CONTAINERS = lxc("list_defined_containers",
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER));
    public static final MethodHandle LIST_ACTIVE_CONTAINERS = lxc("list_active_containers",
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER));
    public static final MethodHandle LXC_CONFIG_ITEM_IS_SUPPORTED = lxc("lxc_config_item_is_supported",
            FunctionDescriptor.of(C_BOOL, C_POINTER));

    // libc.
    public static final MethodHandle FREE = libc("free", FunctionDescriptor.ofVoid(C_POINTER));
    public static final MethodHandle PIPE2 = libc("pipe2", FunctionDescriptor.of(C_INT, C_POINTER, C_INT));
    public static final MethodHandle READ = libc("read", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG));
    public static final MethodHandle WRITE = libc("write", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG));
    public static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(C_INT, C_INT));
    public static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT));
    public static final MethodHandle CONNECT = libc("connect", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT));
    public static final MethodHandle SENDMSG = libc("sendmsg", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_INT));
    public static final MethodHandle RECV = libc("recv", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_INT));
    // Pseudo-terminals for interactive commands, and signals to commands.
    public static final MethodHandle POSIX_OPENPT = libc("posix_openpt", FunctionDescriptor.of(C_INT, C_INT));
    public static final MethodHandle GRANTPT = libc("grantpt", FunctionDescriptor.of(C_INT, C_INT));
    public static final MethodHandle UNLOCKPT = libc("unlockpt", FunctionDescriptor.of(C_INT, C_INT));
    public static final MethodHandle PTSNAME_R = libc("ptsname_r", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_LONG));
    public static final MethodHandle OPEN = LINKER.downcallHandle(LIBC.findOrThrow("open"),
            FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT), Linker.Option.firstVariadicArg(2));
    /** {@code ioctl(fd, request, void *arg)}. */
    public static final MethodHandle IOCTL_PTR = LINKER.downcallHandle(LIBC.findOrThrow("ioctl"),
            FunctionDescriptor.of(C_INT, C_INT, C_LONG, C_POINTER), Linker.Option.firstVariadicArg(2));
    public static final MethodHandle KILL = libc("kill", FunctionDescriptor.of(C_INT, C_INT, C_INT));

    public static final int O_RDWR = 2;
    public static final int O_NOCTTY = 0400;
    public static final long TIOCSWINSZ = 0x5414;
    /** {@code TIOCGPTPEER}: opens a pseudo-terminal's slave from its master (Linux 4.13), whatever devpts it is in. */
    public static final long TIOCGPTPEER = 0x5441;

    public static final int O_CLOEXEC = 0x80000;
    public static final int AF_UNIX = 1;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SCM_RIGHTS = 1;
    public static final int MSG_NOSIGNAL = 0x4000;
    /** {@code -EBADF}: "no fd" in {@code lxc_attach_options_t.log_fd}. */
    public static final int NO_FD = -9;

    private Liblxc() {
    }

    /**
     * The address of function-pointer member {@code name} of the {@code struct lxc_container} at
     * {@code container}.
     */
    public static MemorySegment function(MemorySegment container, String name) {
        VarHandle field = FUNCTION_FIELDS.get(name);
        if (field == null) {
            throw new IllegalArgumentException("struct lxc_container has no function " + name);
        }
        MemorySegment address = (MemorySegment) field.get(container, 0L);
        if (address.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("liblxc left lxc_container." + name + " unset");
        }
        return address;
    }

    /** Reinterprets a pointer returned by liblxc as a {@code struct lxc_container}. */
    public static MemorySegment containerAt(MemorySegment pointer) {
        return pointer.reinterpret(Layouts.LXC_CONTAINER.byteSize());
    }

    /** A field of {@code struct lxc_container} that is not a function, such as {@code error_string}. */
    public static Object containerField(MemorySegment container, String name) {
        return Layouts.LXC_CONTAINER.varHandle(MemoryLayout.PathElement.groupElement(name)).get(container, 0L);
    }

    /** Reads a NUL-terminated C string, or null for NULL. */
    public static String string(MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) {
            return null;
        }
        return pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** A C string for {@code value} allocated in {@code arena}, or NULL for null. */
    public static MemorySegment cString(Arena arena, String value) {
        return value == null ? MemorySegment.NULL : arena.allocateFrom(value);
    }

    /** A NULL-terminated {@code char *[]} allocated in {@code arena}. */
    public static MemorySegment cStringArray(Arena arena, java.util.List<String> values) {
        MemorySegment array = arena.allocate(C_POINTER, values.size() + 1L);
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(C_POINTER, i, arena.allocateFrom(values.get(i)));
        }
        array.setAtIndex(C_POINTER, values.size(), MemorySegment.NULL);
        return array;
    }

    /** Reads and frees a NULL-terminated {@code char **} that liblxc allocated for the caller. */
    public static java.util.List<String> takeStringArray(MemorySegment pointer) {
        java.util.List<String> values = new java.util.ArrayList<>();
        if (pointer.equals(MemorySegment.NULL)) {
            return values;
        }
        MemorySegment array = pointer.reinterpret(Long.MAX_VALUE);
        for (long i = 0; ; i++) {
            MemorySegment element = array.getAtIndex(C_POINTER, i);
            if (element.equals(MemorySegment.NULL)) {
                break;
            }
            values.add(string(element));
            free(element);
        }
        free(pointer);
        return values;
    }

    /** Reads {@code count} elements of a {@code char **} and frees them and the array. */
    public static java.util.List<String> takeStringArray(MemorySegment pointer, int count) {
        java.util.List<String> values = new java.util.ArrayList<>(Math.max(count, 0));
        if (pointer.equals(MemorySegment.NULL)) {
            return values;
        }
        MemorySegment array = pointer.reinterpret(C_POINTER.byteSize() * Math.max(count, 0));
        for (int i = 0; i < count; i++) {
            MemorySegment element = array.getAtIndex(C_POINTER, i);
            values.add(string(element));
            free(element);
        }
        free(pointer);
        return values;
    }

    public static void free(MemorySegment pointer) {
        try {
            FREE.invokeExact(pointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Downcalls throw only what the callee throws; this keeps their checked signature out of callers. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (t instanceof Error error) {
            throw error;
        }
        throw new IllegalStateException("native call failed", t);
    }

    private static SymbolLookup loadLiblxc() {
        // Arena.global(): liblxc stays mapped for the life of the JVM, as a linked library would.
        try {
            return SymbolLookup.libraryLookup("liblxc.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            throw new UnsatisfiedLinkError("liblxc.so.1 was not found: install liblxc 5.x (Debian: apt-get install lxc)");
        }
    }

    private static MethodHandle lxc(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LXC.findOrThrow(name), descriptor);
    }

    private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor);
    }

    private static Map<String, VarHandle> functionFields() {
        Map<String, VarHandle> fields = new HashMap<>();
        for (String function : Layouts.CONTAINER_FUNCTIONS) {
            fields.put(function, Layouts.LXC_CONTAINER.varHandle(MemoryLayout.PathElement.groupElement(function)));
        }
        return Map.copyOf(fields);
    }
}
