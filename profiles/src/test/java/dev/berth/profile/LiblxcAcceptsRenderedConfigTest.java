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

    /**
     * No rendered item turns into more than one: every example, rendered, given to liblxc, saved to
     * the container's config file and read back line by line, gives exactly the items rendered, in
     * order, and nothing else.
     */
    @Test
    void everyRenderedItemIsOneLineOfTheSavedConfig(LxcSandbox sandbox) throws Exception {
        Composer composer = ExamplesTest.examples();
        Path lower = sandbox.scratch("lower");
        int n = 0;
        for (Path file : ExamplesTest.exampleFiles()) {
            ComposedProfile profile = composer.profile(ProfileDocument.load(file).name());
            List<LxcConfigItem> items = LxcConfig.render(profile, RenderingTest.V1, "10.0.3.9/24");
            String name = sandbox.name("line" + n++);
            try (LxcContainer container = Lxc.open(name, sandbox.lxcpath())) {
                container.setConfigItems(items.stream().map(i -> java.util.Map.entry(i.key(), i.value())).toList());
                container.createOnOverlay(lower);
                List<String> saved = java.nio.file.Files.readAllLines(sandbox.lxcpath().resolve(name).resolve("config")).stream()
                        .filter(l -> !l.isBlank() && !l.startsWith("#") && !l.startsWith("lxc.rootfs.path") && !l.startsWith("lxc.log.file"))
                        .toList();
                assertThat(saved).as(file.getFileName().toString())
                        .containsExactlyElementsOf(items.stream().map(i -> i.key() + " = " + i.value()).toList());
                container.destroy();
            }
        }
    }

    /** Whatever a caller of the bindings checked, a value with a line break never reaches liblxc. */
    @Test
    void theBindingsRefuseALineBreakInAValue(LxcSandbox sandbox) throws Exception {
        String name = sandbox.name("smuggle");
        try (LxcContainer container = Lxc.open(name, sandbox.lxcpath())) {
            assertThatCode(() -> container.setConfigItem("lxc.environment", "FOO=x\nlxc.hook.pre-start = /bin/true"))
                    .isInstanceOf(dev.berth.lxc.LxcException.ConfigRejected.class)
                    .hasMessageContaining("line break");
            container.createOnOverlay(sandbox.scratch("lower2"));
            assertThat(java.nio.file.Files.readString(sandbox.lxcpath().resolve(name).resolve("config"))).doesNotContain("lxc.hook");
            container.destroy();
        }
    }
}
