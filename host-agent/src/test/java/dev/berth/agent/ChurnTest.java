package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Operations on one container never fail because another is being deleted at the same moment (the
 * state probe's shared handles, /etc/hosts refreshes that ask every lease's state).
 */
@RequiresLxc
class ChurnTest {

    @Test
    void parallelDeletesLaunchesAndListingsAllSucceed(LxcSandbox sandbox) throws Exception {
        try (TestAgent agent = TestAgent.withNetwork(sandbox)) {
            agent.profile("name: small\nimage: busybox\nsecurity: {privileged: true}\nnetwork: {ipv4: auto}\n");
            List<String> doomed = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                doomed.add(sandbox.name("gone" + i));
                agent.launch(doomed.get(i), "small");
            }
            List<Callable<String>> work = new ArrayList<>();
            for (String name : doomed) {
                work.add(() -> outcome("delete " + name, agent.operation("DELETE", "/1.0/containers/" + name + "?force=true", null)));
            }
            for (int i = 0; i < 3; i++) {
                String name = sandbox.name("born" + i);
                work.add(() -> outcome("launch " + name, agent.operation("POST", "/1.0/containers",
                        Map.of("name", name, "profiles", List.of("small")))));
            }
            for (int i = 0; i < 16; i++) {
                work.add(() -> {
                    TestAgent.Reply list = agent.request("GET", "/1.0/containers?recursion=1", null);
                    return list.status() == 200 ? "ok" : "list: " + list.status() + " " + list.text();
                });
            }
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<String> failures = new ArrayList<>();
            try {
                for (Future<String> f : pool.invokeAll(work)) {
                    if (!f.get().equals("ok")) {
                        failures.add(f.get());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(failures).isEmpty();
            for (String name : doomed) {
                assertThat(sandbox.lxcpath().resolve(name)).doesNotExist();
            }
            for (int i = 0; i < 3; i++) {
                assertThat(agent.container(sandbox.name("born" + i)).path("status").asText()).isEqualTo("RUNNING");
            }
        }
    }

    private static String outcome(String what, JsonNode op) {
        return "success".equals(op.path("status").asText()) ? "ok" : what + ": " + op;
    }
}
