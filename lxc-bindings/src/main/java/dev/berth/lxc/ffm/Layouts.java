package dev.berth.lxc.ffm;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * C struct layouts of liblxc 5.x, as jextract would emit them from {@code <lxc/lxccontainer.h>} and
 * {@code <lxc/attach_options.h>} on x86_64/aarch64 (LP64). {@code LayoutProbeTest} checks every offset
 * and size against the installed headers with gcc.
 */
public final class Layouts {

    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    public static final ValueLayout.OfBoolean C_BOOL = ValueLayout.JAVA_BOOLEAN;
    public static final AddressLayout C_POINTER = ValueLayout.ADDRESS;

    /**
     * The function-pointer members of {@code struct lxc_container}, in declaration order. The order is
     * the ABI: a member added by a newer liblxc goes at the end, where LXC itself adds them.
     */
    public static final List<String> CONTAINER_FUNCTIONS = List.of(
            "is_defined", "state", "is_running", "freeze", "unfreeze", "init_pid", "load_config",
            "start", "startl", "stop", "want_daemonize", "want_close_all_fds", "config_file_name",
            "wait", "set_config_item", "destroy", "save_config", "create", "createl", "rename",
            "reboot", "shutdown", "clear_config", "clear_config_item", "get_config_item",
            "get_running_config_item", "get_keys", "get_interfaces", "get_ips", "get_cgroup_item",
            "set_cgroup_item", "get_config_path", "set_config_path", "clone", "console_getfd",
            "console", "attach", "attach_run_wait", "attach_run_waitl", "snapshot", "snapshot_list",
            "snapshot_restore", "snapshot_destroy", "may_control", "add_device_node",
            "remove_device_node", "attach_interface", "detach_interface", "checkpoint", "restore",
            "destroy_with_snapshots", "snapshot_destroy_all", "migrate", "console_log", "reboot2",
            "mount", "umount", "seccomp_notify_fd", "seccomp_notify_fd_active", "init_pidfd",
            "devpts_fd");

    /** {@code struct lxc_container}. */
    public static final StructLayout LXC_CONTAINER = containerLayout();

    /**
     * {@code lxc_attach_options_t}. Attach itself runs in {@code berth-forkd}, compiled against the
     * same header; this layout keeps the Java view of liblxc's ABI complete and probe-checked.
     */
    public static final StructLayout LXC_ATTACH_OPTIONS = struct("lxc_attach_options_t",
            C_INT.withName("attach_flags"),
            C_INT.withName("namespaces"),
            C_LONG.withName("personality"),
            C_POINTER.withName("initial_cwd"),
            C_INT.withName("uid"),
            C_INT.withName("gid"),
            C_INT.withName("env_policy"),
            C_POINTER.withName("extra_env_vars"),
            C_POINTER.withName("extra_keep_env"),
            C_INT.withName("stdin_fd"),
            C_INT.withName("stdout_fd"),
            C_INT.withName("stderr_fd"),
            C_INT.withName("log_fd"),
            C_POINTER.withName("lsm_label"),
            struct("lxc_groups_t", C_LONG.withName("size"), C_POINTER.withName("list")).withName("groups"));

    /** {@code struct lxc_snapshot}. */
    public static final StructLayout LXC_SNAPSHOT = struct("lxc_snapshot",
            C_POINTER.withName("name"),
            C_POINTER.withName("comment_pathname"),
            C_POINTER.withName("timestamp"),
            C_POINTER.withName("lxcpath"),
            C_POINTER.withName("free"));

    /** {@code struct iovec} ({@code <sys/uio.h>}). */
    public static final StructLayout IOVEC = struct("iovec",
            C_POINTER.withName("iov_base"),
            C_LONG.withName("iov_len"));

    /** {@code struct msghdr} ({@code <sys/socket.h>}), for passing fds to the fork server. */
    public static final StructLayout MSGHDR = struct("msghdr",
            C_POINTER.withName("msg_name"),
            C_INT.withName("msg_namelen"),
            C_POINTER.withName("msg_iov"),
            C_LONG.withName("msg_iovlen"),
            C_POINTER.withName("msg_control"),
            C_LONG.withName("msg_controllen"),
            C_INT.withName("msg_flags"));

    /** {@code struct cmsghdr}; the data (three fds) follows at its size, which is already 8-aligned. */
    public static final StructLayout CMSGHDR = struct("cmsghdr",
            C_LONG.withName("cmsg_len"),
            C_INT.withName("cmsg_level"),
            C_INT.withName("cmsg_type"));

    /** {@code struct sockaddr_un}. */
    public static final StructLayout SOCKADDR_UN = struct("sockaddr_un",
            ValueLayout.JAVA_SHORT.withName("sun_family"),
            MemoryLayout.sequenceLayout(108, ValueLayout.JAVA_BYTE).withName("sun_path"));

    private Layouts() {
    }

    private static StructLayout containerLayout() {
        List<MemoryLayout> members = new ArrayList<>(List.of(
                C_POINTER.withName("name"),
                C_POINTER.withName("configfile"),
                C_POINTER.withName("pidfile"),
                C_POINTER.withName("slock"),
                C_POINTER.withName("privlock"),
                C_INT.withName("numthreads"),
                C_POINTER.withName("lxc_conf"),
                C_POINTER.withName("error_string"),
                C_INT.withName("error_num"),
                C_BOOL.withName("daemonize"),
                C_POINTER.withName("config_path")));
        for (String function : CONTAINER_FUNCTIONS) {
            members.add(C_POINTER.withName(function));
        }
        return struct("lxc_container", members.toArray(MemoryLayout[]::new));
    }

    /**
     * A struct laid out by the C rules: each member at the next multiple of its alignment, the whole
     * padded to a multiple of the largest alignment. jextract writes these paddings out by hand.
     */
    static StructLayout struct(String name, MemoryLayout... members) {
        List<MemoryLayout> laid = new ArrayList<>();
        long offset = 0;
        long maxAlign = 1;
        for (MemoryLayout member : members) {
            long align = member.byteAlignment();
            maxAlign = Math.max(maxAlign, align);
            long padding = (align - offset % align) % align;
            if (padding > 0) {
                laid.add(MemoryLayout.paddingLayout(padding));
                offset += padding;
            }
            laid.add(member);
            offset += member.byteSize();
        }
        long tail = (maxAlign - offset % maxAlign) % maxAlign;
        if (tail > 0) {
            laid.add(MemoryLayout.paddingLayout(tail));
        }
        return MemoryLayout.structLayout(laid.toArray(MemoryLayout[]::new)).withName(name);
    }
}
