package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.agent.exec.Command;
import dev.berth.agent.exec.ExecResult;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.ops.AgentLog;
import dev.berth.agent.ops.Events;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.agent.runtime.RuntimeContainer;
import dev.berth.profile.HostFacts;
import dev.berth.profile.ProfileDocument;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Unprivileged containers on real liblxc: each with its own range of host ids, on the shared image
 * id-mapped by the agent (no copy), nothing left mounted on the host, and what root inside must not
 * be able to do refused. Each assertion here fails if isolation breaks.
 */
@RequiresLxc
class UnprivilegedTest {

    private static Containers containers(LxcSandbox sandbox) {
        ProfileRegistry profiles = ProfileRegistry.of(List.of(ProfileDocument.parse("plain.yaml", """
                name: plain
                image: busybox
                limits: {memory: 64MiB, pids: 64}
                """), ProfileDocument.parse("boot.yaml", """
                name: boot
                extends: [plain]
                autostart: true
                """), ProfileDocument.parse("no-init.yaml", """
                name: no-init
                extends: [plain]
                image: no-init
                """), ProfileDocument.parse("with-host-path.yaml", """
                name: with-host-path
                extends: [plain]
                mounts:
                  - {path: /host, host-path: HOSTPATH}
                """.replace("HOSTPATH", sandbox.scratch("allowed").resolve("share").toString())), ProfileDocument.parse("together.yaml", """
                name: together
                image: busybox
                security: {idmap: shared}
                mounts:
                  - {path: /data, volume: common}
                """)));
        HostFacts host = new HostFacts(HostFacts.Cgroups.V1, 8L << 30, sandbox.scratch("volumes"), "berthbr0", 100000, 65536,
                List.of(sandbox.scratch("allowed")));
        return Containers.onLxc(sandbox.lxcpath(), new ImageStore(sandbox.scratch("images")), profiles, host,
                new AgentLog(new Events(), AgentLog.Level.INFO));
    }

    private static ExecResult run(Containers containers, String name, String script) {
        try (RuntimeContainer c = containers.runtime.open(name)) {
            return c.run(Command.of("sh", "-c", script));
        }
    }

    private static int initPid(Containers containers, String name) {
        return containers.runtime.probe(name).pid();
    }

    /** The four uids (real, effective, saved, fs) of a host process, from /proc/PID/status. */
    private static List<Long> hostUids(int pid) throws Exception {
        String line = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("Uid:"))
                .findFirst().orElseThrow();
        return java.util.Arrays.stream(line.substring(4).trim().split("\\s+")).map(Long::parseLong).toList();
    }

    private static List<String> mountsUnder(Path lxcpath) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" ")[4])
                .filter(p -> p.startsWith(lxcpath.toString())).toList();
    }

    @Test
    void eachContainersRootIsAHostUidOfItsOwnRangeOnTheSharedImageWithNothingMountedOnTheHost(LxcSandbox sandbox)
            throws Exception {
        Containers containers = containers(sandbox);
        String a = sandbox.name("ua");
        String b = sandbox.name("ub");
        try (containers) {
            // this host can (kernel 6.18, ext4): the probe before a launch says nothing
            containers.runtime.checkIdmappedMounts(sandbox.scratch("images"));
            ContainerRecord ra = containers.launch(a, List.of("plain"), null);
            ContainerRecord rb = containers.launch(b, List.of("plain"), null);
            assertThat(ra.idmapStart()).isGreaterThanOrEqualTo(Containers.POOL_START);
            assertThat(rb.idmapStart()).isNotEqualTo(ra.idmapStart());
            assertThat(Math.abs(rb.idmapStart() - ra.idmapStart())).isGreaterThanOrEqualTo(IdPool.SIZE);

            // root inside is the range's first id on the host, for both containers' inits
            assertThat(hostUids(initPid(containers, a))).containsOnly(ra.idmapStart());
            assertThat(hostUids(initPid(containers, b))).containsOnly(rb.idmapStart());
            assertThat(run(containers, a, "id -u").stdoutText().strip()).isEqualTo("0");
            // a command as another user inside (exec --user): that user, shifted on the host
            try (RuntimeContainer c = containers.runtime.open(a)) {
                assertThat(c.run(new Command(List.of("sh", "-c", "id -u; id -g; touch /tmp/byuser; stat -c %u /tmp/byuser"),
                        java.util.Map.of(), "/", 1000, 1000, null)).stdoutText()).isEqualTo("1000\n1000\n1000\n");
            }

            // the image is shared and appears root's inside; what root writes is the range's on the host
            assertThat(run(containers, a, "stat -c '%u:%g' /bin/busybox").stdoutText().strip()).isEqualTo("0:0");
            assertThat(run(containers, a, "echo hi > /made && chown 1000:1000 /made; echo $?").stdoutText().strip()).isEqualTo("0");
            Path made = sandbox.lxcpath().resolve(a).resolve("overlay/delta/made");
            assertThat((int) Files.getAttribute(made, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo((int) (ra.idmapStart() + 1000));
            assertThat(Files.list(sandbox.lxcpath().resolve(a).resolve("overlay/delta")).map(p -> p.getFileName().toString()))
                    .doesNotContain("bin"); // no copy of the image in the container's layer

            // no rootfs or image mount stays on the host while they run
            assertThat(mountsUnder(sandbox.lxcpath())).isEmpty();

            // one container cannot reach the other's files: not through its init's root, not through the host's paths
            int other = initPid(containers, b);
            ExecResult peek = run(containers, a, "cat /proc/" + other + "/root/etc/hostname; ls " + sandbox.lxcpath().resolve(b)
                    + "; echo rc=$?");
            assertThat(peek.stdoutText()).doesNotContain(b).endsWith("rc=1\n");

            containers.lifecycle.delete(a, true);
            containers.lifecycle.delete(b, true);
        }
    }

    @Test
    void rootInsideCannotReachTheHost(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String name = sandbox.name("uc");
        try (containers) {
            ContainerRecord record = containers.launch(name, List.of("plain"), null);
            // a kernel setting of the host's
            ExecResult sysctl = run(containers, name, "echo berth > /proc/sys/kernel/domainname");
            assertThat(sysctl.exitCode()).as("write /proc/sys/kernel/domainname: " + sysctl.stderrText()).isNotZero();
            // a block device node (the host's disk, 8:0 or 254:0)
            ExecResult mknod = run(containers, name, "mknod /disk b 254 0 || mknod /disk b 8 0");
            assertThat(mknod.exitCode()).as("mknod of a block device").isNotZero();
            assertThat(sandbox.lxcpath().resolve(name).resolve("overlay/delta/disk")).doesNotExist();
            // a mount of a filesystem it has no right to (needs CAP_SYS_ADMIN in the host's namespace)
            ExecResult mount = run(containers, name, "mkdir -p /mnt/x && mount -t ext4 /dev/vda /mnt/x");
            assertThat(mount.exitCode()).as("mount of a host block device").isNotZero();
            // loading a kernel module: refused for want of CAP_SYS_MODULE in the host's namespace (EPERM), before the
            // kernel looks at the module (host root gets "invalid module format" for the same file); a kernel built
            // without modules (this VM's) answers ENOSYS to everyone
            ExecResult module = run(containers, name, "head -c 64 /bin/busybox > /m.ko; insmod /m.ko 2>&1; echo rc=$?");
            assertThat(module.stdoutText()).doesNotContain("rc=0");
            if (Files.exists(Path.of("/proc/modules"))) {
                assertThat(module.stdoutText()).containsIgnoringCase("not permitted");
            }
            // a setuid-root file made inside is not setuid root on the host
            assertThat(run(containers, name, "cp /bin/busybox /suid && chmod 4755 /suid; echo $?").stdoutText().strip()).isEqualTo("0");
            Path suid = sandbox.lxcpath().resolve(name).resolve("overlay/delta/suid");
            assertThat((int) Files.getAttribute(suid, "unix:uid")).isEqualTo((int) (long) record.idmapStart());
            assertThat((int) Files.getAttribute(suid, "unix:mode") & 04000).isNotZero();
            // the container's directory lets only its own root through
            assertThat((int) Files.getAttribute(sandbox.lxcpath().resolve(name), "unix:uid")).isEqualTo((int) (long) record.idmapStart());
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(sandbox.lxcpath().resolve(name))))
                    .isEqualTo("--x------");
            containers.lifecycle.delete(name, true);
        }
    }

    @Test
    void aStopAndStartMountsItAgainAndADeleteGivesItsRangeBack(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String name = sandbox.name("ud");
        try (containers) {
            ContainerRecord first = containers.launch(name, List.of("plain"), null);
            run(containers, name, "echo kept > /kept");
            containers.lifecycle.changeState(name, Lifecycle.Action.STOP, true, Duration.ZERO);
            containers.lifecycle.changeState(name, Lifecycle.Action.START, false, Duration.ofSeconds(10));
            assertThat(run(containers, name, "cat /kept").stdoutText().strip()).isEqualTo("kept");
            assertThat(mountsUnder(sandbox.lxcpath())).isEmpty();
            containers.lifecycle.delete(name, true);
            ContainerRecord again = containers.launch(name, List.of("plain"), null);
            assertThat(again.idmapStart()).isEqualTo(first.idmapStart());
            containers.lifecycle.delete(name, true);
        }
    }

    @Test
    void aCopyGetsARangeOfItsOwnAndItsFilesMoveToIt(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String source = sandbox.name("ue");
        String copy = sandbox.name("uf");
        try (containers) {
            containers.launch(source, List.of("plain"), null);
            run(containers, source, "echo mine > /mine && chown 5:5 /mine && chmod 2755 /mine");
            ContainerRecord made = containers.launcher.copy(containers.launcher.reserve(copy), source, null, false);
            assertThat(made.idmapStart()).isNotEqualTo(containers.specs.record(source).idmapStart());
            assertThat(run(containers, copy, "stat -c '%u:%g %a' /mine; cat /mine").stdoutText()).contains("5:5 2755", "mine");
            Path file = sandbox.lxcpath().resolve(copy).resolve("overlay/delta/mine");
            assertThat((int) Files.getAttribute(file, "unix:uid")).isEqualTo((int) (made.idmapStart() + 5));
            containers.lifecycle.delete(copy, true);
            containers.lifecycle.delete(source, true);
        }
    }

    @Test
    void mountsLeftByAnAgentKilledMidStartAreDetachedAtTheNextStart(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String name = sandbox.name("ug");
        try (containers) {
            containers.launch(name, List.of("plain"), null);
            containers.lifecycle.changeState(name, Lifecycle.Action.STOP, true, Duration.ZERO);
            Path rootfs = sandbox.lxcpath().resolve(name).resolve("rootfs");
            // what a kill between the mount and the detach leaves: something mounted at the rootfs
            assertThat(new ProcessBuilder("mount", "-t", "tmpfs", "berth-test", rootfs.toString()).start().waitFor()).isZero();
            try {
                assertThat(mountsUnder(sandbox.lxcpath())).containsExactly(rootfs.toString());
                assertThat(containers.runtime.releaseStrayMounts()).hasSize(1);
                assertThat(mountsUnder(sandbox.lxcpath())).isEmpty();
            } finally {
                new ProcessBuilder("umount", "-l", rootfs.toString()).start().waitFor();
            }
            containers.lifecycle.changeState(name, Lifecycle.Action.START, false, Duration.ofSeconds(10));
            assertThat(containers.runtime.probe(name).pid()).isNotNull();
            containers.lifecycle.delete(name, true);
        }
    }

    @Test
    void sharedContainersRunAsOneRangeAndWriteToOneVolumeTogether(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String first = sandbox.name("uh");
        String second = sandbox.name("ui");
        String alone = sandbox.name("uj");
        try (containers) {
            ContainerRecord r1 = containers.launch(first, List.of("together"), null);
            ContainerRecord r2 = containers.launch(second, List.of("together"), null);
            ContainerRecord r3 = containers.launch(alone, List.of("plain"), null);
            assertThat(r1.idmapStart()).isEqualTo(r2.idmapStart()).isEqualTo(Containers.POOL_START);
            assertThat(r3.idmapStart()).as("an isolated container never gets the shared range").isNotEqualTo(r1.idmapStart());
            assertThat(hostUids(initPid(containers, first))).isEqualTo(hostUids(initPid(containers, second)));

            assertThat(run(containers, first, "echo one > /data/log; echo $?").stdoutText().strip()).isEqualTo("0");
            assertThat(run(containers, second, "echo two >> /data/log; cat /data/log; stat -c %u /data/log").stdoutText())
                    .isEqualTo("one\ntwo\n0\n");
            Path log = sandbox.scratch("volumes").resolve("common/log");
            assertThat((int) Files.getAttribute(log, "unix:uid")).isEqualTo((int) Containers.POOL_START);
            for (String name : List.of(first, second, alone)) {
                containers.lifecycle.delete(name, true);
            }
        }
    }

    @Test
    void ephemeralAndAutostartedContainersWorkUnprivilegedAndAFailedStartLeavesNothing(LxcSandbox sandbox) throws Exception {
        Containers containers = containers(sandbox);
        String temporary = sandbox.name("uk");
        String booted = sandbox.name("ul");
        String broken = sandbox.name("um");
        try (containers) {
            // ephemeral: deleted on its stop, and its range free again
            ContainerRecord t = containers.launcher.launch(temporary, new Launcher.LaunchRequest(List.of("plain"), null, null, true));
            containers.lifecycle.changeState(temporary, Lifecycle.Action.STOP, true, Duration.ZERO);
            assertThat(containers.runtime.probe(temporary)).isNull();
            assertThat(containers.idPool.allocate()).as("the ephemeral container's range is free").isEqualTo(t.idmapStart());
            containers.idPool.release(t.idmapStart());

            // autostart: what the agent starts at its own start mounts and runs like any start
            containers.launch(booted, List.of("boot"), null);
            containers.lifecycle.changeState(booted, Lifecycle.Action.STOP, true, Duration.ZERO);
            assertThat(containers.lifecycle.autostart()).containsExactly(booted);
            assertThat(run(containers, booted, "id -u").stdoutText().strip()).isEqualTo("0");
            assertThat(mountsUnder(sandbox.lxcpath())).isEmpty();
            containers.lifecycle.delete(booted, true);

            // a start that fails (an image without an init): undone, with no mount, cgroup or range left
            containers.images.add(java.util.Map.of("kind", "test", "what", "a rootfs without /sbin/init"), List.of("no-init"),
                    rootfs -> {
                        Files.createDirectories(rootfs.resolve("etc"));
                        return List.of();
                    });
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> containers.launch(broken, List.of("no-init"), null))
                    .isInstanceOf(dev.berth.lxc.LxcException.StartFailed.class);
            assertThat(sandbox.lxcpath().resolve(broken)).doesNotExist();
            assertThat(mountsUnder(sandbox.lxcpath())).isEmpty();
            try (var cgroups = Files.find(Path.of("/sys/fs/cgroup"), 3, (p, a) -> p.getFileName().toString().endsWith(broken))) {
                assertThat(cgroups.map(Path::toString)).as("cgroups of the failed start").isEmpty();
            }
        }
    }

    @Test
    void aHostPathKeepsItsHostOwnersAndRootInsideIsNotRootThere(LxcSandbox sandbox) throws Exception {
        Path share = Files.createDirectories(sandbox.scratch("allowed").resolve("share"));
        Files.writeString(share.resolve("hosts-file"), "from the host\n");
        Files.setPosixFilePermissions(share.resolve("hosts-file"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(share, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Containers containers = containers(sandbox);
        String name = sandbox.name("un");
        try (containers) {
            containers.launch(name, List.of("with-host-path"), null);
            // host root's files are nobody's inside (not mapped), readable as their mode says
            assertThat(run(containers, name, "stat -c %u /host/hosts-file; cat /host/hosts-file").stdoutText())
                    .isEqualTo("65534\nfrom the host\n");
            // and root inside cannot write them, nor make files in the host's directory
            ExecResult write = run(containers, name, "echo x >> /host/hosts-file; touch /host/new");
            assertThat(write.exitCode()).isNotZero();
            assertThat(Files.readString(share.resolve("hosts-file"))).isEqualTo("from the host\n");
            assertThat(share.resolve("new")).doesNotExist();
            containers.lifecycle.delete(name, true);
        }
    }
}
