package dev.berth.lxc;

import dev.berth.lxc.ffm.Layouts;
import dev.berth.lxc.ffm.Liblxc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;

/**
 * Entry point to liblxc: its version, the containers of an lxcpath, and {@link LxcContainer} handles.
 * Every method is safe to call from any thread.
 */
public final class Lxc {

    /**
     * The longest name Berth accepts: a container's name is its default hostname, and the kernel holds
     * at most 64 bytes of hostname.
     */
    public static final int MAX_NAME_LENGTH = 64;

    private Lxc() {
    }

    /** The version of the liblxc in use, such as {@code 5.0.2}. */
    public static String version() {
        try {
            return Liblxc.string((MemorySegment) Liblxc.LXC_GET_VERSION.invokeExact());
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    /** liblxc's default lxcpath ({@code lxc.lxcpath}), usually {@code /var/lib/lxc}. */
    public static Path defaultLxcpath() {
        try (Arena arena = Arena.ofConfined()) {
            return Path.of(Liblxc.string((MemorySegment) Liblxc.LXC_GET_GLOBAL_CONFIG_ITEM.invokeExact(
                    arena.allocateFrom("lxc.lxcpath"))));
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    /** Whether the installed liblxc knows the config key {@code key}. */
    public static boolean isConfigItemSupported(String key) {
        try (Arena arena = Arena.ofConfined()) {
            return (boolean) Liblxc.LXC_CONFIG_ITEM_IS_SUPPORTED.invokeExact(arena.allocateFrom(key));
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    /** The names of the containers defined under {@code lxcpath}, sorted. */
    public static List<String> definedContainers(Path lxcpath) {
        return list(Liblxc.LIST_DEFINED_CONTAINERS, lxcpath);
    }

    /** The names of the containers under {@code lxcpath} that are running (or frozen), sorted. */
    public static List<String> activeContainers(Path lxcpath) {
        return list(Liblxc.LIST_ACTIVE_CONTAINERS, lxcpath);
    }

    /**
     * A handle on container {@code name} under {@code lxcpath}, defined or not. The caller owns it and
     * must {@link LxcContainer#close() close} it.
     *
     * @throws LxcException.InvalidName if liblxc could not hold that name
     */
    public static LxcContainer open(String name, Path lxcpath) {
        validateName(name);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) Liblxc.LXC_CONTAINER_NEW.invokeExact(
                    arena.allocateFrom(name), arena.allocateFrom(lxcpath.toAbsolutePath().toString()));
            if (handle.equals(MemorySegment.NULL)) {
                throw new LxcException.OperationFailed(name, "open (lxc_container_new in " + lxcpath + ")", List.of());
            }
            return new LxcContainer(name, lxcpath.toAbsolutePath(), handle);
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }

    /**
     * Checks {@code name} against the rules liblxc and the kernel impose: 1 to 64 characters, none of
     * them {@code /}, whitespace or control characters, not {@code .} or {@code ..}, not starting with
     * {@code -}.
     */
    public static void validateName(String name) {
        if (name == null || name.isEmpty()) {
            throw new LxcException.InvalidName(String.valueOf(name), "a name cannot be empty");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw new LxcException.InvalidName(name, "a name has at most " + MAX_NAME_LENGTH
                    + " characters (it becomes the container's hostname); this one has " + name.length());
        }
        if (name.equals(".") || name.equals("..")) {
            throw new LxcException.InvalidName(name, "\".\" and \"..\" are not names");
        }
        if (name.startsWith("-")) {
            throw new LxcException.InvalidName(name, "a name cannot start with '-'");
        }
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (ch == '/') {
                throw new LxcException.InvalidName(name, "a name cannot contain '/'");
            }
            if (Character.isWhitespace(ch) || Character.isISOControl(ch)) {
                throw new LxcException.InvalidName(name, "a name cannot contain whitespace or control characters");
            }
        }
    }

    private static List<String> list(MethodHandle function, Path lxcpath) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment names = arena.allocate(Layouts.C_POINTER);
            int count = (int) function.invokeExact(arena.allocateFrom(lxcpath.toAbsolutePath().toString()), names,
                    MemorySegment.NULL);
            if (count < 0) {
                throw new LxcException.OperationFailed("*", "list containers in " + lxcpath, List.of());
            }
            return Liblxc.takeStringArray(names.get(Layouts.C_POINTER, 0), count).stream().sorted().toList();
        } catch (Throwable t) {
            throw Liblxc.rethrow(t);
        }
    }
}
