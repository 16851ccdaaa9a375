package dev.berth.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.profile.Values.Size;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ComposerTest {

    private static ProfileDocument doc(String name, String yaml) {
        return ProfileDocument.parse(name + ".yaml", "name: " + name + "\n" + yaml);
    }

    private static Composer composer(ProfileDocument... documents) {
        return Composer.of(List.of(documents));
    }

    private static final ProfileDocument BASE = doc("base", """
            image: debian/bookworm
            limits: {cpu: "1", memory: 512MiB, pids: 100}
            environment: {A: "1", B: "2"}
            labels: {tier: base, team: ops}
            mounts:
              - {volume: one, path: /one}
            """);

    @Test
    void childKeysWinAndMappingsMergeKeyByKey() {
        ComposedProfile p = composer(BASE, doc("child", """
                extends: [base]
                limits: {memory: 1GiB}
                environment: {B: "3", C: "4"}
                """)).profile("child");
        assertThat(p.applied()).containsExactly("base", "child");
        assertThat(p.spec().name()).isEqualTo("child");
        assertThat(p.spec().limits().memory()).isEqualTo(new Size(1L << 30, null));
        assertThat(p.spec().limits().pids()).isEqualTo(100);
        assertThat(p.spec().environment()).containsExactly(Map.entry("A", "1"), Map.entry("B", "3"), Map.entry("C", "4"));
    }

    @Test
    void listsReplaceWhole() {
        ComposedProfile p = composer(BASE, doc("child", """
                extends: [base]
                mounts:
                  - {volume: two, path: /two}
                """)).profile("child");
        assertThat(p.spec().mounts()).extracting(ProfileSpec.Mount::volume).containsExactly("two");
    }

    @Test
    void nullRemovesAnInheritedKeyOrSection() {
        ComposedProfile p = composer(BASE, doc("child", """
                extends: [base]
                labels: {team: null}
                mounts: null
                limits: {pids: ~}
                """)).profile("child");
        assertThat(p.spec().labels()).containsExactly(Map.entry("tier", "base"));
        assertThat(p.spec().mounts()).isNull();
        assertThat(p.spec().limits().pids()).isNull();
        assertThat(p.spec().limits().cpu()).isNotNull();
    }

    @Test
    void parentsApplyInOrderThenProfilesThenOverrides() {
        Composer c = composer(BASE,
                doc("left", "labels: {side: left, l: x}\n"),
                doc("right", "labels: {side: right, r: x}\n"),
                doc("both", "extends: [base, left, right]\nlabels: {own: x}\n"),
                doc("extra", "labels: {side: extra}\n"));
        ComposedProfile both = c.profile("both");
        assertThat(both.applied()).containsExactly("base", "left", "right", "both");
        assertThat(both.spec().labels()).containsEntry("side", "right").containsKeys("l", "r", "own", "tier");

        Node.MapNode overrides = (Node.MapNode) YamlReader.read("--set", "labels: {side: override}\n");
        ComposedProfile container = c.compose(List.of("both", "extra"), overrides);
        assertThat(container.applied()).containsExactly("base", "left", "right", "both", "extra");
        assertThat(container.spec().labels()).containsEntry("side", "override");
    }

    @Test
    void aDiamondAppliesTheSharedParentOnce() {
        ComposedProfile p = composer(BASE, doc("a", "extends: [base]\n"), doc("b", "extends: [base]\n"),
                doc("d", "extends: [a, b]\n")).profile("d");
        assertThat(p.applied()).containsExactly("base", "a", "b", "d");
    }

    @Test
    void detectsCyclesAndReportsTheChain() {
        Composer c = composer(doc("a", "image: x\nextends: [b]\n"), doc("b", "extends: [c]\n"), doc("c", "extends: [a]\n"));
        assertThatThrownBy(() -> c.profile("a"))
                .hasMessage("c.yaml:2:10: extends: extends cycle: a -> b -> c -> a (remove one of these extends)");
    }

    @Test
    void reportsAMissingParentWithTheChainAndANearName() {
        Composer c = composer(BASE, doc("mid", "extends: [bsae]\n"), doc("top", "extends: [mid]\n"));
        assertThatThrownBy(() -> c.profile("top"))
                .hasMessage("mid.yaml:2:11: extends[0]: profile 'mid' extends 'bsae', which does not exist (chain: top -> mid)"
                        + " (did you mean 'base'?)");
    }

    @Test
    void reportsAnUnknownProfile() {
        assertThatThrownBy(() -> composer(BASE).compose(List.of("nope"), null))
                .hasMessageContaining("no profile named 'nope'")
                .hasMessageContaining("known profiles: base");
    }

    @Test
    void checksRequiredFieldsAndRulesOnTheComposedResult() {
        Composer c = composer(doc("bare", "labels: {a: b}\n"), doc("app", """
                image: x
                app:
                  command: [run]
                  health: {type: http}
                mounts:
                  - {path: /data}
                """));
        assertThatThrownBy(() -> c.profile("bare"))
                .hasMessage("bare.yaml:1:1: image: no profile in the chain sets the base image (add image: debian/bookworm (or another alias))");
        ProfileException e = (ProfileException) org.assertj.core.api.Assertions.catchThrowable(() -> c.profile("app"));
        assertThat(e.problems()).extracting(Problem::path)
                .containsExactlyInAnyOrder("mounts[0].volume", "app.health.port", "app.image");
        assertThat(e.getMessage()).contains("app.yaml:7:5: mounts[0].volume: a mount names exactly one of volume and host-path");
    }

    @Test
    void aChildCanRemoveAParentsAppHealthCheck() {
        ComposedProfile p = composer(doc("p", "image: x\napp: {image: web:1, health: {type: tcp, port: 80}}\n"),
                doc("c", "extends: [p]\napp: {health: null}\n")).profile("c");
        assertThat(p.spec().app().health()).isNull();
        assertThat(p.spec().app().image()).isEqualTo("web:1");
    }
}
