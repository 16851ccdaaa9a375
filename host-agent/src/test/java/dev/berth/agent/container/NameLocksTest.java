package dev.berth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.agent.error.AgentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One operation at a time per container: the others are told it is busy, and nothing waits forever. */
@Tag("no-root")
class NameLocksTest {

    @TempDir
    Path lxcpath;

    @Test
    void whileOneOperationHoldsANameAnotherIsBusyAndTheNameIsFreeAfterwards() throws Exception {
        Files.createDirectories(lxcpath.resolve("web"));
        Files.writeString(lxcpath.resolve("web/config"), "");
        NameLocks locks = new NameLocks(lxcpath);
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> first = pool.submit(() -> locks.exclusive("web", () -> {
                holding.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "done";
            }));
            assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(locks.isHeld("web")).isTrue();
            assertThatThrownBy(() -> locks.exclusive("web", () -> "second")).isInstanceOf(AgentException.Busy.class)
                    .hasMessageContaining("web").hasMessageContaining("another operation");
            release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("done");
        }
        assertThat(locks.isHeld("web")).isFalse();
        assertThat(locks.exclusive("web", () -> "again")).isEqualTo("again");
    }

    @Test
    void anExclusiveOperationOnAContainerThatDoesNotExistIsNotFoundAndHoldsNothing() {
        NameLocks locks = new NameLocks(lxcpath);
        assertThatThrownBy(() -> locks.exclusive("ghost", () -> "x")).isInstanceOf(AgentException.NotFound.class);
        assertThat(locks.isHeld("ghost")).isFalse();
    }

    @Test
    void aFailingOperationReleasesItsName() throws Exception {
        Files.createDirectories(lxcpath.resolve("web"));
        Files.writeString(lxcpath.resolve("web/config"), "");
        NameLocks locks = new NameLocks(lxcpath);
        assertThatThrownBy(() -> locks.exclusive("web", () -> {
            throw new IllegalStateException("boom");
        })).hasMessage("boom");
        assertThat(locks.isHeld("web")).isFalse();
    }
}
