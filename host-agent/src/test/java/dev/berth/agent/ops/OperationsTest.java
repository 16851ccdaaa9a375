package dev.berth.agent.ops;

import dev.berth.agent.error.AgentException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Operation bookkeeping: serialisation per container, cancel rules, progress, log context. */
@org.junit.jupiter.api.Tag("no-root")
class OperationsTest {

    private final Events events = new Events();
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final AgentLog log = new AgentLog(events, AgentLog.Level.INFO, new PrintStream(logged, true, StandardCharsets.UTF_8));
    private final Operations operations = new Operations(events, log);

    @AfterEach
    void close() {
        operations.close();
    }

    @Test
    void anOperationWaitingForItsContainerIsCancelledAndNeverRuns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Operations.Op first = operations.submit("first", "c1", null, () -> release.await(10, TimeUnit.SECONDS));
        // the first holds the container before the second is submitted: two threads race for the lock otherwise
        awaitStatus(first, Operations.Status.RUNNING);
        boolean[] ran = {false};
        Operations.Op second = operations.submit("second", "c1", null, () -> ran[0] = true);
        assertThat(second.status()).isEqualTo(Operations.Status.PENDING);
        assertThat(second.view().mayCancel()).isTrue();

        operations.cancel(second);
        assertThat(Operations.await(second, Duration.ofSeconds(5))).isTrue();
        assertThat(second.view().status()).isEqualTo("cancelled");
        release.countDown();
        assertThat(Operations.await(first, Duration.ofSeconds(5))).isTrue();
        assertThat(first.view().status()).isEqualTo("success");
        assertThat(ran[0]).isFalse();
    }

    @Test
    void aRunningOperationIsCancelledOnlyIfItsWorkStopsCleanly() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Operations.Op launch = operations.submit("Creating container c2", "c2", null, () -> release.await(10, TimeUnit.SECONDS));
        awaitStatus(launch, Operations.Status.RUNNING);
        assertThat(launch.view().mayCancel()).isFalse();
        assertThatThrownBy(() -> operations.cancel(launch)).isInstanceOf(AgentException.Conflict.class)
                .hasMessageContaining("cannot be cancelled once started");
        release.countDown();
        Operations.await(launch, Duration.ofSeconds(5));

        Operations.Op build = operations.submit(new Operations.Work("Building image", null, null, true, () -> {
            Thread.sleep(Duration.ofSeconds(30));
            return null;
        }));
        awaitStatus(build, Operations.Status.RUNNING);
        operations.cancel(build);
        assertThat(Operations.await(build, Duration.ofSeconds(5))).isTrue();
        assertThat(build.view().status()).isEqualTo("cancelled");
        assertThatThrownBy(() -> operations.cancel(build)).hasMessageContaining("already finished (cancelled)");
    }

    @Test
    void progressAndLogLinesCarryTheOperation() throws Exception {
        List<Events.Event> seen = new CopyOnWriteArrayList<>();
        events.subscribe(seen::add);
        Operations.Op op = operations.submit("Working on c3", "c3", "container-worked", () -> {
            Operations.current().orElseThrow().progress(Map.of("stage", "half"));
            log.info("inside");
            return Map.of("answer", 42);
        });
        Operations.await(op, Duration.ofSeconds(5));
        assertThat(op.view().metadata()).containsEntry("stage", "half").containsEntry("answer", 42);
        assertThat(seen).anySatisfy(e -> {
            assertThat(e.type()).isEqualTo("logging");
            assertThat(e.metadata().get("message")).isEqualTo("inside");
            assertThat(e.metadata().get("context")).isEqualTo(Map.of("container", "c3", "operation", op.id()));
        });
        assertThat(seen).anySatisfy(e -> assertThat(e.metadata()).containsEntry("action", "container-worked"));
        assertThat(logged.toString(StandardCharsets.UTF_8)).contains("INFO  [c3 op=" + op.id().substring(0, 8) + "] inside")
                .containsPattern("Working on c3: done in \\d+ ms");
        assertThat(Operations.current()).isEmpty();
    }

    @Test
    void debugLinesAreDroppedAtInfo() {
        List<Events.Event> seen = new CopyOnWriteArrayList<>();
        events.subscribe(seen::add);
        log.debug("noise");
        log.warn("signal");
        assertThat(seen).extracting(e -> e.metadata().get("message")).containsExactly("signal");
    }

    private static void awaitStatus(Operations.Op op, Operations.Status status) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (op.status() != status && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(op.status()).isEqualTo(status);
    }
}
