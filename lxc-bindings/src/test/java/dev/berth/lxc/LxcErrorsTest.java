package dev.berth.lxc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import org.junit.jupiter.api.Test;

@RequiresLxc
class LxcErrorsTest {

    @Test
    void startingAnUndefinedContainerSaysItIsNotDefined(LxcSandbox sandbox) {
        try (LxcContainer c = Lxc.open(sandbox.name("ghost"), sandbox.lxcpath())) {
            assertThatThrownBy(c::start)
                    .isInstanceOf(LxcException.NotDefined.class)
                    .hasMessage("cannot start \"" + c.name() + "\": the container is not defined");
        }
    }

    @Test
    void destroyingARunningContainerIsRefusedAndLeavesItRunning(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "busy")) {
            assertThatThrownBy(c::destroy)
                    .isInstanceOf(LxcException.AlreadyRunning.class)
                    .hasMessageContaining("cannot destroy \"" + c.name() + "\": the container is running; stop it first");
            assertThat(c.state()).isEqualTo(LxcState.RUNNING);
            c.stop();
        }
    }

    @Test
    void startingTwiceSaysItIsAlreadyRunning(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.started(sandbox, "twice")) {
            assertThatThrownBy(c::start).isInstanceOf(LxcException.AlreadyRunning.class);
            c.stop();
        }
    }

    @Test
    void creatingOverAnExistingContainerIsRefused(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.create(sandbox, "dup");
             LxcContainer again = Lxc.open(c.name(), sandbox.lxcpath())) {
            assertThatThrownBy(() -> again.create("busybox", java.util.List.of()))
                    .isInstanceOf(LxcException.AlreadyDefined.class)
                    .hasMessage("container \"" + c.name() + "\" already exists");
        }
    }

    @Test
    void aStartThatFailsCarriesLiblxcsOwnErrorLines(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.create(sandbox, "broken")) {
            c.setConfigItem("lxc.init.cmd", "/no/such/init");
            c.saveConfig();
            assertThatThrownBy(c::start)
                    .isInstanceOfSatisfying(LxcException.StartFailed.class, e -> {
                        assertThat(e.logExcerpt()).isNotEmpty();
                        assertThat(String.join("\n", e.logExcerpt())).contains("/no/such/init");
                    })
                    .hasMessageContaining("failed to start")
                    .hasMessageContaining("liblxc said:");
            assertThat(c.state()).isEqualTo(LxcState.STOPPED);
        }
    }

    @Test
    void aFailedTemplateRunIsExplainedAndLeavesNothingBehind(LxcSandbox sandbox) {
        try (LxcContainer c = Lxc.open(sandbox.name("notpl"), sandbox.lxcpath())) {
            assertThatThrownBy(() -> c.create("no-such-template", java.util.List.of()))
                    .isInstanceOfSatisfying(LxcException.OperationFailed.class,
                            e -> assertThat(String.join("\n", e.logExcerpt())).contains("no-such-template"));
            assertThat(c.isDefined()).isFalse();
            assertThat(Lxc.definedContainers(sandbox.lxcpath())).isEmpty();
        }
    }

    @Test
    void operationsOnAStoppedContainerThatNeedItRunningSaySo(LxcSandbox sandbox) {
        try (LxcContainer c = Busybox.create(sandbox, "idle")) {
            assertThatThrownBy(() -> c.run(LxcCommand.of("true")))
                    .isInstanceOf(LxcException.NotRunning.class)
                    .hasMessage("cannot run a command in \"" + c.name() + "\": the container is not running");
            assertThatThrownBy(c::freeze).isInstanceOf(LxcException.NotRunning.class);
            assertThatThrownBy(c::stop).isInstanceOf(LxcException.NotRunning.class);
            assertThatThrownBy(c::memoryUsage).isInstanceOf(LxcException.NotRunning.class);
        }
    }

    @Test
    void namesThatAreTooLongOrHoldASlashAreRejectedBeforeLiblxcSeesThem(LxcSandbox sandbox) {
        String tooLong = "x".repeat(Lxc.MAX_NAME_LENGTH + 1);
        assertThatThrownBy(() -> Lxc.open(tooLong, sandbox.lxcpath()))
                .isInstanceOf(LxcException.InvalidName.class)
                .hasMessageContaining("at most 64 characters")
                .hasMessageContaining("this one has 65");
        assertThatThrownBy(() -> Lxc.open("a/b", sandbox.lxcpath()))
                .isInstanceOf(LxcException.InvalidName.class)
                .hasMessage("invalid container name \"a/b\": a name cannot contain '/'");
        assertThatThrownBy(() -> Lxc.open("..", sandbox.lxcpath())).isInstanceOf(LxcException.InvalidName.class);
        assertThatThrownBy(() -> Lxc.open("", sandbox.lxcpath())).isInstanceOf(LxcException.InvalidName.class);
        assertThatThrownBy(() -> Lxc.open("has space", sandbox.lxcpath())).isInstanceOf(LxcException.InvalidName.class);
        assertThatThrownBy(() -> Lxc.open("-flag", sandbox.lxcpath())).isInstanceOf(LxcException.InvalidName.class);
        // The longest allowed name works end to end: it is the container's hostname.
        String longest = sandbox.name("y".repeat(Lxc.MAX_NAME_LENGTH - sandbox.name("").length()));
        try (LxcContainer c = Busybox.started(sandbox, longest.substring(sandbox.name("").length()))) {
            assertThat(c.name()).hasSize(Lxc.MAX_NAME_LENGTH);
            assertThat(c.run(LxcCommand.of("hostname")).stdoutText().strip()).isEqualTo(longest);
            c.stop();
        }
    }

    @Test
    void aClosedHandleRefusesFurtherCallsAndClosesTwiceSafely(LxcSandbox sandbox) {
        LxcContainer c = Lxc.open(sandbox.name("closed"), sandbox.lxcpath());
        c.close();
        c.close();
        assertThatThrownBy(c::isDefined).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    }
}
