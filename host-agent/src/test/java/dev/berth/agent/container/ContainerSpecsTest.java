package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.agent.image.ImageStore;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.agent.runtime.FakeRuntime;
import dev.berth.profile.ComposedProfile;
import dev.berth.profile.HostFacts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one cache of compositions: kept while nothing changes, and a changed profile or record seen at once. */
@Tag("no-root")
class ContainerSpecsTest {

    @TempDir
    Path dir;

    private ProfileRegistry profiles;
    private ContainerRecords records;
    private ContainerSpecs specs;

    private void setUp() throws Exception {
        Path profileDir = Files.createDirectories(dir.resolve("profiles"));
        Files.writeString(profileDir.resolve("small.yaml"), "name: small\nimage: busybox\nlimits: {memory: 64MiB}\n");
        Files.writeString(profileDir.resolve("other.yaml"), "name: other\nimage: busybox\n");
        profiles = new ProfileRegistry(profileDir);
        FakeRuntime runtime = new FakeRuntime(Files.createDirectories(dir.resolve("containers")));
        records = new ContainerRecords(runtime.lxcpath(), new AgentLog(new Events(), AgentLog.Level.ERROR));
        HostFacts host = new HostFacts(HostFacts.Cgroups.V1, 8L << 30, dir.resolve("volumes"), "berthbr0", 100000, 65536, List.of());
        specs = new ContainerSpecs(records, profiles, runtime, new ImageStore(dir.resolve("images")), host, null);
        for (String name : List.of("web", "db")) {
            Files.createDirectories(runtime.lxcpath().resolve(name));
            Files.writeString(runtime.lxcpath().resolve(name).resolve("config"), "lxc.uts.name = " + name + "\n");
            records.write(new ContainerRecord(name, "f".repeat(64), List.of(name.equals("web") ? "small" : "other"), Map.of(),
                    Instant.now(), ContainerRecord.Status.READY, null, List.of(), false));
        }
    }

    @Test
    void aCompositionIsKeptUntilItsProfileOrItsRecordChanges() throws Exception {
        setUp();
        try (ContainerRecords closing = records) {
            ComposedProfile first = specs.composed("web");
            assertThat(specs.composed("web")).isSameAs(first);

            profiles.put("small", "name: small\nimage: busybox\nlimits: {memory: 128MiB}\n");
            ComposedProfile afterProfile = specs.composed("web");
            assertThat(afterProfile).isNotSameAs(first);
            assertThat(afterProfile.spec().limits().memory()).isNotEqualTo(first.spec().limits().memory());

            records.write(specs.record("web").with(ContainerRecord.Status.READY));
            assertThat(specs.composed("web")).isNotSameAs(afterProfile);
        }
    }

    @Test
    void usersOfAProfileAndOfAnImageAreTheRecordsThatNameThem() throws Exception {
        setUp();
        try (ContainerRecords closing = records) {
            assertThat(specs.usedBy("small")).containsExactly("web");
            assertThat(specs.usedByAny(Set.of("small", "other"))).containsExactly("db", "web");
            assertThat(specs.usingImage("f".repeat(64))).containsExactly("db", "web");
            assertThat(specs.usingImage("0".repeat(64))).isEmpty();
            assertThat(specs.appSpecOf("web")).isNull();
            assertThat(specs.appImageOf("web")).isEmpty();
        }
    }
}
