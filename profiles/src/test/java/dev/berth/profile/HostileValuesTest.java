package dev.berth.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Values that would reach the LXC config (a line-based file liblxc reads back) with a line break are
 * refused where they enter, naming the file, line and field; and the one renderer refuses them too.
 */
class HostileValuesTest {

    private static final String HOOK = "lxc.hook.pre-start = /bin/sh -c 'id > /tmp/x'";

    static Stream<Arguments> smuggledItems() {
        return Stream.of(
                Arguments.of("environment value", "environment:\n  FOO: \"bar\\n" + HOOK + "\"\n", "environment.FOO", 4),
                Arguments.of("environment value, carriage return", "environment:\n  FOO: \"bar\\r" + HOOK + "\"\n", "environment.FOO", 4),
                Arguments.of("environment value, line separator", "environment:\n  FOO: \"bar\\u2028" + HOOK + "\"\n", "environment.FOO", 4),
                Arguments.of("environment value, NUL", "environment:\n  FOO: \"bar\\0x\"\n", "environment.FOO", 4),
                Arguments.of("environment key", "environment:\n  \"FOO\\nlxc.hook.pre-start\": x\n", "environment", 4),
                Arguments.of("mount path", "mounts:\n  - volume: data\n    path: \"/mnt/v\\n" + HOOK + "\"\n", "mounts[0].path", 5),
                Arguments.of("host path", "mounts:\n  - host-path: \"/srv/a\\n" + HOOK + "\"\n    path: /mnt\n", "mounts[0].host-path", 4),
                Arguments.of("bridge", "network:\n  bridge: \"br0\\n" + HOOK + "\"\n", "network.bridge", 4),
                Arguments.of("label", "labels:\n  tier: \"web\\n" + HOOK + "\"\n", "labels.tier", 4),
                Arguments.of("app env", "app:\n  image: web:1\n  env: {A: \"1\\n" + HOOK + "\"}\n", "app.env.A", 5),
                Arguments.of("right-to-left override in a label", "labels:\n  tier: \"b\\u202Eew\"\n", "labels.tier", 4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smuggledItems")
    void aLineBreakInAnyValueIsRefusedWithFileLineAndField(String title, String fragment, String field, int line) {
        String yaml = "name: web\nimage: busybox\n" + fragment;
        assertThatThrownBy(() -> ProfileDocument.parse("web.yaml", yaml).name())
                .isInstanceOf(ProfileException.class)
                .satisfies(e -> assertThat(((ProfileException) e).problems())
                        .anySatisfy(p -> {
                            assertThat(p.path()).isEqualTo(field);
                            assertThat(p.location().line()).isEqualTo(line);
                            assertThat(p.location().toString()).startsWith("web.yaml:");
                            assertThat(p.message()).containsAnyOf("contains U+", "not an environment variable name");
                        }));
    }

    @Test
    void anEnvironmentKeyMustBeAVariableName() {
        Composer composer = new Composer(Map.of("web", ProfileDocument.parse("web.yaml",
                "name: web\nimage: busybox\nenvironment:\n  \"A=B C\": x\n")));
        assertThatThrownBy(() -> composer.profile("web"))
                .hasMessageContaining("web.yaml:4:")
                .hasMessageContaining("environment: 'A=B C' is not an environment variable name");
    }

    @Test
    void apiOverridesGoThroughTheSameChecks() {
        Composer composer = new Composer(Map.of("web", ProfileDocument.parse("web.yaml", "name: web\nimage: busybox\n")));
        Node.MapNode overrides = (Node.MapNode) YamlReader.read("config of c1",
                "{\"environment\": {\"FOO\": \"x\\n" + HOOK.replace("'", "") + "\"}}");
        assertThatThrownBy(() -> composer.compose(List.of("web"), overrides))
                .isInstanceOf(ProfileException.class)
                .hasMessageContaining("config of c1:1:")
                .hasMessageContaining("environment.FOO: the value contains U+000A (line feed)");
    }

    @Test
    void multilineFieldsStillTakeLines() {
        assertThatCode(() -> ProfileDocument.parse("web.yaml",
                "name: web\nimage: busybox\ndescription: |\n  two\n  lines\npuppet:\n  manifest: |\n    file { '/x': }\n    notify { 'y': }\n"))
                .doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\nlxc.hook.pre-start = /bin/true", "a\rb", "a\u0000b", "a\u2028b", "a\u0085b"})
    void theRendererRefusesAValueThatWouldBeTwoLines(String value) {
        assertThatThrownBy(() -> new LxcConfigItem("lxc.environment", "FOO=" + value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("could start another config item");
    }

    @ParameterizedTest
    @ValueSource(strings = {"lxc.hook.pre-start = x\nlxc.environment", "lxc environment", "lxc.Env", "hook", "lxc.", "lxc.a=b"})
    void theRendererRefusesAKeyOutsideLxcsAlphabet(String key) {
        assertThatThrownBy(() -> new LxcConfigItem(key, "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aMountEntryFieldCannotHoldABlank() {
        assertThatThrownBy(() -> LxcConfigItem.mountEntry("/srv/a b", "mnt", "none", "bind"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(LxcConfigItem.mountEntry("/srv/a", "mnt/v", "none", "bind,create=dir").value())
                .isEqualTo("/srv/a mnt/v none bind,create=dir 0 0");
    }

    @Test
    void aMountPathWithABlankIsRefusedAtTheProfile() {
        assertThatThrownBy(() -> new Composer(Map.of("web", ProfileDocument.parse("web.yaml",
                "name: web\nimage: busybox\nmounts:\n  - volume: data\n    path: \"/mnt/a proc\"\n"))).profile("web"))
                .hasMessageContaining("web.yaml:5:")
                .hasMessageContaining("mounts[0].path: '/mnt/a proc' contains whitespace");
    }

    @Test
    void nestingIsOffUnlessTheProfileAsksForIt() {
        HostFacts host = RenderingTest.V1;
        Composer composer = new Composer(Map.of(
                "plain", ProfileDocument.parse("plain.yaml", "name: plain\nimage: busybox\n"),
                "nested", ProfileDocument.parse("nested.yaml", "name: nested\nimage: busybox\nsecurity: {nesting: true}\n")));
        assertThat(LxcConfig.render(composer.profile("plain"), host, null)).extracting(LxcConfigItem::key)
                .doesNotContain("lxc.mount.auto");
        assertThat(LxcConfig.render(composer.profile("nested"), host, null))
                .contains(new LxcConfigItem("lxc.mount.auto", "proc:rw sys:rw cgroup:rw:force"));
    }
}
