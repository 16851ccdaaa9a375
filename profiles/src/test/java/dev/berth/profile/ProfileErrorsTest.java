package dev.berth.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of loading error, with the exact message an operator sees. */
class ProfileErrorsTest {

    static Stream<Arguments> badProfiles() {
        return Stream.of(
                Arguments.of("typo suggests the nearest key",
                        "name: web\nlimts:\n  memory: 1G\n",
                        "web.yaml:2:1: limts: unknown key 'limts'; allowed here: name, description, extends, image, limits,"
                                + " autostart, security, network, mounts, snapshots, environment, labels, app, puppet (did you mean 'limits'?)"),
                Arguments.of("nested unknown key",
                        "name: web\nlimits:\n  memroy: 1G\n",
                        "web.yaml:3:3: limits.memroy: unknown key 'memroy'; allowed here: cpu, memory, pids, disk (did you mean 'memory'?)"),
                Arguments.of("duplicate key",
                        "name: web\nimage: a\nimage: b\n",
                        "web.yaml:3:1: image: duplicate key 'image' (first at line 2) (keep one of them)"),
                Arguments.of("bad size",
                        "name: web\nlimits:\n  memory: lots\n",
                        "web.yaml:3:11: limits.memory: 'lots' is not a size: write bytes with an optional unit (512MiB, 1GiB, 2G, 1048576) or a percentage (50%)"),
                Arguments.of("enum with suggestion",
                        "name: web\napp:\n  image: x\n  restart: on-falure\n",
                        "web.yaml:4:12: app.restart: 'on-falure' is not one of no, on-failure, always (did you mean 'on-failure'?)"),
                Arguments.of("out of range",
                        "name: web\nnetwork:\n  forwards:\n    - port: 70000\n",
                        "web.yaml:4:13: network.forwards[0].port: 70000 is out of range: allowed 1 to 65535"),
                Arguments.of("wrong shape",
                        "name: web\nmounts:\n  volume: data\n",
                        "web.yaml:3:3: mounts: expected a list, found a mapping"),
                Arguments.of("not a boolean",
                        "name: web\nautostart: yes\n",
                        "web.yaml:2:12: autostart: 'yes' is not true or false (write true or false)"),
                Arguments.of("anchors are refused",
                        "name: web\nlabels: &l\n  a: b\nenvironment: *l\n",
                        "web.yaml:2:9: labels: YAML anchors and aliases (&name, *name) are not supported (share settings with 'extends' instead)"),
                Arguments.of("missing name",
                        "image: debian/bookworm\n",
                        "web.yaml:1:1: name: 'name' is required in every profile file (add name: followed by the profile's name)"),
                Arguments.of("bad profile name",
                        "name: Web_1\n",
                        "web.yaml:1:7: name: 'Web_1' is not a profile name: use lower-case letters, digits and '-', 1-63 characters"),
                Arguments.of("not a mapping",
                        "- name: web\n",
                        "web.yaml:1:1: a profile is a mapping of keys to values (start with 'name: my-profile')"),
                Arguments.of("empty document",
                        "",
                        "web.yaml:1:1: the document is empty (a profile is a mapping such as 'name: web')"),
                Arguments.of("invalid YAML",
                        "name: web\nlimits: [\n",
                        "web.yaml:2:10: invalid YAML: while parsing a flow node"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badProfiles")
    void explainsWhatIsWrongWhereAndWhatToDo(String title, String yaml, String expected) {
        assertThatThrownBy(() -> ProfileDocument.parse("web.yaml", yaml))
                .isInstanceOf(ProfileException.class)
                .hasMessageStartingWith(expected);
    }

    @Test
    void reportsEveryProblemOfADocumentAtOnce() {
        ProfileException e = (ProfileException) org.assertj.core.api.Assertions.catchThrowable(() -> ProfileDocument.parse(
                "web.yaml", "name: web\nlimits:\n  cpu: many\n  pids: 0\nnetwork:\n  ipv4: 300.1.1.1\n"));
        assertThat(e.problems()).extracting(Problem::path).containsExactly("limits.cpu", "limits.pids", "network.ipv4");
        assertThat(e.problems()).extracting(p -> p.location().line()).containsExactly(3, 4, 6);
    }

    @Test
    void refusesOversizedDocumentsBeforeParsingThem(@TempDir Path dir) throws Exception {
        Path big = dir.resolve("big.yaml");
        Files.writeString(big, "name: big\ndescription: \"" + "x".repeat(YamlReader.MAX_BYTES) + "\"\n");
        assertThatThrownBy(() -> ProfileDocument.load(big))
                .hasMessageContaining("big.yaml:1:1: the file is")
                .hasMessageContaining("a profile may have at most 1048576");
    }

    @Test
    void refusesPathologicalNesting() {
        String deep = "name: x\nlabels:\n" + "  a: [".repeat(1) + "[".repeat(40) + "]".repeat(41) + "\n";
        assertThatThrownBy(() -> ProfileDocument.parse("deep.yaml", deep))
                .hasMessageContaining("nested deeper than 32 levels");
    }

    @Test
    void refusesAYamlBombWithBoundedMemory() {
        // The classic billion laughs: with aliases refused it fails at the first anchor, in bounded memory.
        StringBuilder bomb = new StringBuilder("name: bomb\nlabels:\n  a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (int i = 1; i < 10; i++) {
            bomb.append("  a").append(i).append(": &a").append(i).append(" [");
            bomb.append(String.join(",", java.util.Collections.nCopies(9, "*a" + (i - 1)))).append("]\n");
        }
        assertThatThrownBy(() -> ProfileDocument.parse("bomb.yaml", bomb.toString()))
                .hasMessageContaining("YAML anchors and aliases");
        // Many plain values are bounded too.
        String wide = "name: wide\nlabels:\n" + "  k: v\n".repeat(1).replace("k", "k0")
                + String.join("", java.util.stream.IntStream.range(1, YamlReader.MAX_NODES + 1).mapToObj(i -> "  k" + i + ": v\n").toList());
        assertThatThrownBy(() -> ProfileDocument.parse("wide.yaml", wide))
                .hasMessageContaining("more than 20000 values in one document");
    }

    @Test
    void suggestsOnlyNearWords() {
        assertThat(Suggest.nearest("limts", List.of("limits", "labels"))).isEqualTo("limits");
        assertThat(Suggest.nearest("netwrok", List.of("network"))).isEqualTo("network");
        assertThat(Suggest.nearest("zzz", List.of("limits", "labels"))).isNull();
    }
}
