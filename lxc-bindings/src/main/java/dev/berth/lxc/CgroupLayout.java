package dev.berth.lxc;

import java.nio.file.Files;
import java.nio.file.Path;

/** Which cgroup interface the host offers for memory, and the file names that follow from it. */
enum CgroupLayout {
    V1("memory.usage_in_bytes", "memory.limit_in_bytes"),
    V2("memory.current", "memory.max");

    private static final CgroupLayout HOST = Files.isDirectory(Path.of("/sys/fs/cgroup/memory")) ? V1 : V2;
    /** cgroup v1 reports "unlimited" as the largest page-aligned long. */
    private static final long V1_UNLIMITED = 0x7FFFFFFFFFFFF000L;

    private final String memoryUsageKey;
    private final String memoryLimitKey;

    CgroupLayout(String memoryUsageKey, String memoryLimitKey) {
        this.memoryUsageKey = memoryUsageKey;
        this.memoryLimitKey = memoryLimitKey;
    }

    static CgroupLayout host() {
        return HOST;
    }

    String memoryUsageKey() {
        return memoryUsageKey;
    }

    String memoryLimitKey() {
        return memoryLimitKey;
    }

    static long parseLimit(String value) {
        if (value.equals("max")) {
            return Long.MAX_VALUE;
        }
        long bytes = Long.parseLong(value);
        return bytes >= V1_UNLIMITED ? Long.MAX_VALUE : bytes;
    }
}
