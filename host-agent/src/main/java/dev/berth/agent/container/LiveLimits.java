package dev.berth.agent.container;

import dev.berth.profile.LxcConfigItem;
import java.util.List;
import java.util.Map;

/**
 * The limits that take effect on a running container at once, through its cgroup, in one table:
 * what a re-composition writes live, what an envelope drift check compares, and what a limit goes
 * back to when a profile no longer sets it. Pure functions over config values.
 */
final class LiveLimits {

    private LiveLimits() {
    }

    /** Config keys that take effect on a running container at once, through its cgroup. */
    static final List<String> LIVE_LIMITS = List.of("cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.max", "cpuset.cpus",
            "memory.limit_in_bytes", "memory.max", "pids.max");

    /** What a live limit goes back to when a profile no longer sets it. */
    static final Map<String, String> UNLIMITED = Map.of("cpu.cfs_quota_us", "-1", "cpu.max", "max",
            "memory.limit_in_bytes", "-1", "memory.max", "max", "pids.max", "max");

    /** The value the rendered profile gives {@code key}, or null when it sets none. */
    static String wanted(List<LxcConfigItem> items, String key) {
        return items.stream().filter(i -> i.key().equals(key)).map(LxcConfigItem::value).findFirst().orElse(null);
    }

    /** Whether two values of a limit mean the same (a cpuset written as 0,1 or 0-1; -1 and max for no limit). */
    static boolean sameLimit(String limit, String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        if (limit.equals("cpuset.cpus")) {
            return cpus(a).equals(cpus(b));
        }
        return false;
    }

    static java.util.SortedSet<Integer> cpus(String list) {
        java.util.SortedSet<Integer> set = new java.util.TreeSet<>();
        for (String part : list.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            try {
                int dash = p.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1));
                for (int c = from; c <= to; c++) {
                    set.add(c);
                }
            } catch (NumberFormatException e) {
                set.add(-1);
            }
        }
        return set;
    }
}
