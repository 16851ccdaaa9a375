package dev.berth.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.berth.lxc.Lxc;
import dev.berth.lxc.LxcContainer;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every LXC config item Berth renders for every example profile, for both cgroup layouts, is
 * accepted by the installed liblxc's {@code set_config_item}: Berth never emits a key or value that
 * liblxc rejects.
 */
@RequiresLxc
class LiblxcAcceptsRenderedConfigTest {

    @Test
    void liblxcAcceptsEveryRenderedItem(LxcSandbox sandbox) throws Exception {
        Composer composer = ExamplesTest.examples();
        int checked = 0;
        for (Path file : ExamplesTest.exampleFiles()) {
            ComposedProfile profile = composer.profile(ProfileDocument.load(file).name());
            for (HostFacts host : List.of(RenderingTest.V1, RenderingTest.V2)) {
                List<LxcConfigItem> items = LxcConfig.render(profile, host, "10.0.3.9/24");
                try (LxcContainer container = Lxc.open(sandbox.name("cfg" + checked), sandbox.lxcpath())) {
                    for (LxcConfigItem item : items) {
                        assertThatCode(() -> container.setConfigItem(item.key(), item.value()))
                                .as("%s (%s) %s = %s", file.getFileName(), host.cgroups(), item.key(), item.value())
                                .doesNotThrowAnyException();
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(40);
    }
}
