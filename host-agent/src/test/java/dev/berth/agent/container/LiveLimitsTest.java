package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.profile.LxcConfigItem;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The live-limit rules, without a container (runs without root). */
@org.junit.jupiter.api.Tag("no-root")
class LiveLimitsTest {

    @Test
    void aCpusetWrittenAsARangeOrAListIsTheSameLimit() {
        assertThat(LiveLimits.sameLimit("cpuset.cpus", "0-1", "0,1")).isTrue();
        assertThat(LiveLimits.sameLimit("cpuset.cpus", "0-2", "0,1")).isFalse();
        assertThat(LiveLimits.sameLimit("memory.limit_in_bytes", "1024", "1024")).isTrue();
        assertThat(LiveLimits.sameLimit("memory.limit_in_bytes", "1024", "2048")).isFalse();
    }

    @Test
    void aCpuListIsReadAsItsSetAndNonsenseIsNoCpu() {
        assertThat(LiveLimits.cpus("0-2,5")).containsExactly(0, 1, 2, 5);
        assertThat(LiveLimits.cpus(" 1 , 3-4 ")).containsExactly(1, 3, 4);
        assertThat(LiveLimits.cpus("x")).containsExactly(-1);
        assertThat(LiveLimits.cpus("")).isEmpty();
    }

    @Test
    void theWantedValueIsTheRenderedItemsAndEveryLiveLimitHasAnUnsetValueOrNeedsNone() {
        List<LxcConfigItem> items = List.of(new LxcConfigItem("lxc.cgroup.pids.max", "100"));
        assertThat(LiveLimits.wanted(items, "lxc.cgroup.pids.max")).isEqualTo("100");
        assertThat(LiveLimits.wanted(items, "lxc.cgroup.memory.limit_in_bytes")).isNull();
        assertThat(LiveLimits.LIVE_LIMITS).contains("memory.limit_in_bytes", "memory.max", "pids.max", "cpuset.cpus");
        assertThat(LiveLimits.UNLIMITED).containsEntry("pids.max", "max").containsEntry("memory.limit_in_bytes", "-1");
    }
}
