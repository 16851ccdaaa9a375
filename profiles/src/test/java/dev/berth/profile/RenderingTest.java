package dev.berth.profile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Rendering as a table: profile fragment, host cgroup layout, expected LXC items. */
class RenderingTest {

    static final List<Path> ALLOWED = List.of(Path.of("/srv"));
    static final HostFacts V1 = new HostFacts(HostFacts.Cgroups.V1, 8L << 30, Path.of("/var/lib/berth/volumes"), "berthbr0", 100000, 65536, ALLOWED);
    static final HostFacts V2 = new HostFacts(HostFacts.Cgroups.V2, 8L << 30, Path.of("/var/lib/berth/volumes"), "berthbr0", 100000, 65536, ALLOWED);

    /** The defaults: unprivileged, and no nesting (LXC's own proc:mixed sys:ro then). */
    private static final List<LxcConfigItem> UNPRIVILEGED = List.of(
            new LxcConfigItem("lxc.idmap", "u 0 100000 65536"),
            new LxcConfigItem("lxc.idmap", "g 0 100000 65536"));
    private static final LxcConfigItem NO_NET = new LxcConfigItem("lxc.net.0.type", "empty");

    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of("defaults", "", V1, with(List.of(), NO_NET)),
                Arguments.of("cpu count v1", "limits: {cpu: \"1.5\"}", V1, with(List.of(
                        item("lxc.cgroup.cpu.cfs_period_us", "100000"), item("lxc.cgroup.cpu.cfs_quota_us", "150000")), NO_NET)),
                Arguments.of("cpu count v2", "limits: {cpu: \"2\"}", V2, with(List.of(item("lxc.cgroup2.cpu.max", "200000 100000")), NO_NET)),
                Arguments.of("cpu set v1", "limits: {cpu: \"0-1,3\"}", V1, with(List.of(item("lxc.cgroup.cpuset.cpus", "0-1,3")), NO_NET)),
                Arguments.of("cpu set v2", "limits: {cpu: \"0,2\"}", V2, with(List.of(item("lxc.cgroup2.cpuset.cpus", "0,2")), NO_NET)),
                Arguments.of("memory v1", "limits: {memory: 512MiB}", V1, with(List.of(item("lxc.cgroup.memory.limit_in_bytes", "536870912")), NO_NET)),
                Arguments.of("memory decimal unit", "limits: {memory: 2G}", V2, with(List.of(item("lxc.cgroup2.memory.max", "2000000000")), NO_NET)),
                Arguments.of("memory percent", "limits: {memory: 25%}", V2, with(List.of(item("lxc.cgroup2.memory.max", "2147483648")), NO_NET)),
                Arguments.of("pids", "limits: {pids: 500}", V1, with(List.of(item("lxc.cgroup.pids.max", "500")), NO_NET)),
                Arguments.of("autostart", "autostart: true", V1, with(List.of(item("lxc.start.auto", "1")), NO_NET)),
                Arguments.of("privileged, no nesting", "security: {privileged: true, nesting: false}", V1, List.of(NO_NET)),
                Arguments.of("nesting asked for", "security: {nesting: true}", V1, with(List.of(),
                        item("lxc.mount.auto", "proc:rw sys:rw cgroup:rw:force"),
                        item("lxc.mount.entry", "proc dev/.lxc/proc proc create=dir,optional 0 0"),
                        item("lxc.mount.entry", "sys dev/.lxc/sys sysfs create=dir,optional 0 0"), NO_NET)),
                Arguments.of("static address", "network: {bridge: br1, ipv4: 10.9.0.5/16}", V1, with(List.of(),
                        item("lxc.net.0.type", "veth"), item("lxc.net.0.link", "br1"), item("lxc.net.0.flags", "up"),
                        item("lxc.net.0.name", "eth0"), item("lxc.net.0.ipv4.address", "10.9.0.5/16"))),
                Arguments.of("auto address on the default bridge", "network: {ipv4: auto}", V1, with(List.of(),
                        item("lxc.net.0.type", "veth"), item("lxc.net.0.link", "berthbr0"), item("lxc.net.0.flags", "up"),
                        item("lxc.net.0.name", "eth0"), item("lxc.net.0.ipv4.address", "10.0.3.7/24"))),
                Arguments.of("mounts", "mounts: [{volume: data, path: /var/lib/data}, {host-path: /srv/x, path: /x, read-only: true}]", V1,
                        with(List.of(), NO_NET,
                                item("lxc.mount.entry", "/var/lib/berth/volumes/data var/lib/data none bind,create=dir 0 0"),
                                item("lxc.mount.entry", "/srv/x x none bind,create=dir,ro 0 0"))),
                Arguments.of("environment", "environment: {A: \"1\", B: two}", V1,
                        with(List.of(), NO_NET, item("lxc.environment", "A=1"), item("lxc.environment", "B=two"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void rendersLxcConfig(String title, String yaml, HostFacts host, List<LxcConfigItem> expected) {
        // The agent assigns an address only where the profile leaves it to the agent.
        String assigned = yaml.contains("ipv4: auto") ? "10.0.3.7/24" : null;
        assertThat(LxcConfig.render(composed(yaml), host, assigned)).containsExactlyElementsOf(expected);
    }

    @Test
    void refusesHostPathsOutsideTheAllowList() {
        ComposedProfile p = composed("mounts:\n  - {host-path: /etc, path: /host-etc}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LxcConfig.render(p, V1, null))
                .hasMessage("t.yaml:4:17: mounts[0].host-path: host path /etc is not under the agent's allow-list ([/srv])"
                        + " (use a named volume, or ask the host's operator to allow the directory)");
    }

    @Test
    void rendersTheAppSpecWithDefaults() {
        AppSpec app = AppSpec.from(compose("app: {image: web:1, health: {type: http, port: 80}}"));
        assertThat(app.image()).isEqualTo("web:1");
        assertThat(app.restart()).isEqualTo(ProfileSpec.Restart.ON_FAILURE);
        assertThat(app.stopSignal()).isEqualTo("SIGTERM");
        assertThat(app.stopGrace()).isEqualTo(Duration.ofSeconds(10));
        assertThat(app.health()).isEqualTo(new AppSpec.HealthCheck(ProfileSpec.HealthType.HTTP, null, 80, "/",
                Duration.ofSeconds(10), Duration.ofSeconds(3), 3));
        assertThat(AppSpec.from(compose(""))).isNull();
    }

    @Test
    void rendersThePuppetSpecWithDefaults() {
        ComposedProfile p = Composer.of(List.of(ProfileDocument.parse("p.yaml",
                "name: p\nimage: x\npuppet: {manifest: \"notify { 'hi': }\", facts: {role: web, n: [1, 2]}}\n"))).profile("p");
        PuppetSpec puppet = PuppetSpec.from(p);
        assertThat(puppet.manifest()).isEqualTo("notify { 'hi': }");
        assertThat(puppet.policy()).isEqualTo(ProfileSpec.DriftPolicy.REPORT);
        assertThat(puppet.interval()).isEqualTo(Duration.ofMinutes(30));
        assertThat(puppet.facts()).containsEntry("role", "web").containsEntry("n", List.of("1", "2"));
    }

    static ComposedProfile composed(String yaml) {
        return Composer.of(List.of(ProfileDocument.parse("t.yaml", "name: t\nimage: x\n" + yaml + "\n"))).profile("t");
    }

    static ProfileSpec compose(String yaml) {
        return composed(yaml).spec();
    }

    private static LxcConfigItem item(String key, String value) {
        return new LxcConfigItem(key, value);
    }

    /** {@code limits} first, then the default security items, then the rest: the renderer's order. */
    private static List<LxcConfigItem> with(List<LxcConfigItem> limits, LxcConfigItem... rest) {
        List<LxcConfigItem> all = new java.util.ArrayList<>(limits);
        all.addAll(UNPRIVILEGED);
        all.addAll(List.of(rest));
        return all;
    }
}
