package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The deployment helper fed by active check results through the monitor's {@link CheckListener}
 * side (no readiness probe), its readmission order, and its aborts. Readiness deadlines run on the
 * monitor's {@link TestTicker}, moved only where a test wants one to pass.
 */
class RollingDeploymentTest {

    /**
     * Feeds a result per endpoint every millisecond, as an active checker would; endpoints in
     * {@code failing} fail. Runs {@code eachRound} after each round.
     */
    private static Thread feeder(HealthMonitor m, List<String> ids, Set<String> failing, AtomicBoolean stop,
                                 Runnable eachRound) {
        Thread t = new Thread(() -> {
            int[] passes = new int[ids.size()];
            while (!stop.get()) {
                for (int i = 0; i < ids.size(); i++) {
                    boolean ok = !failing.contains(ids.get(i));
                    passes[i] = ok ? passes[i] + 1 : 0;
                    m.onResult(new CheckResult(ids.get(i), ok, ok ? 200 : 503, ok ? "200" : "503", 1000, ok,
                            false, passes[i], ok ? 0 : 1));
                }
                eachRound.run();
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "feeder");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    @Timeout(120) // the clock stands still until b:1 waits: a wait that never ends fails here
    void activeCheckResultsGateReadmission() throws Exception {
        Upstream u = Upstream.builder("ac").endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).build();
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        TestTicker clock = new TestTicker();
        AtomicBoolean bWaits = new AtomicBoolean();
        try (HealthMonitor m = HealthMonitor.builder(u).ticker(clock)
                .listener(e -> seen.add(e.endpointId() + ":" + e.to())).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            Set<String> failing = ConcurrentHashMap.newKeySet();
            // time passes only while b:1 waits for passes that never come: a:1's three passes never
            // race its readyTimeout, however slowly the feeder runs
            Thread f = feeder(m, List.of("a:1", "b:1"), failing, stop, () -> {
                if (bWaits.get()) {
                    clock.advance(Duration.ofMillis(50));
                }
            });
            try {
                RollingDeployment.Report r = RollingDeployment.builder(m).requiredPasses(3)
                        .readyTimeout(Duration.ofSeconds(30)).build()
                        .run(current -> current.toBuilder().weight(current.weight() + 1).build());
                assertTrue(r.completed(), r.reason());
                assertEquals(10, r.steps().size());
                assertEquals(2, u.endpoint("a:1").orElseThrow().weight(), "the replacement endpoint is applied");
                assertEquals(EndpointHealthState.UP, m.state("a:1").orElseThrow());
                assertEquals(EndpointHealthState.UP, m.state("b:1").orElseThrow());
                assertEquals(List.of("a:1:UP", "b:1:UP", "a:1:DRAINING", "a:1:DOWN", "a:1:UP", "b:1:DRAINING",
                        "b:1:DOWN", "b:1:UP"), seen);

                // b never passes again: the deployment times out on b; a keeps serving
                failing.add("b:1");
                RollingDeployment.Report r2 = RollingDeployment.builder(m).requiredPasses(3)
                        .readyTimeout(Duration.ofMillis(300)).listener(step -> {
                            if (step.endpointId().equals("b:1") && step.phase() == RollingDeployment.Phase.UPDATE) {
                                bWaits.set(true);
                            }
                        }).build().run(current -> null);
                assertFalse(r2.completed());
                assertEquals("b:1", r2.abortedAt());
                assertEquals(EndpointHealthState.DOWN, m.state("b:1").orElseThrow());
                assertEquals(EndpointHealthState.UP, m.state("a:1").orElseThrow());
                assertEquals("a:1", u.pick().endpoint().id());
            } finally {
                stop.set(true);
                f.join(10_000);
            }
        }
    }

    @Test
    void aFailingUpdateOrAChangedIdAborts() {
        Upstream u = Upstream.builder("ab").endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).build();
        try (HealthMonitor m = HealthMonitor.builder(u).build()) {
            RollingDeployment d = RollingDeployment.builder(m).readinessProbe(e -> true)
                    .probeInterval(Duration.ofMillis(1)).build();
            RollingDeployment.Report r = d.run(current -> {
                throw new IllegalStateException("image pull failed");
            });
            assertFalse(r.completed());
            assertEquals("a:1", r.abortedAt());
            assertEquals("update step failed: java.lang.IllegalStateException: image pull failed", r.reason());
            RollingDeployment.Step last = r.steps().get(r.steps().size() - 1);
            assertEquals(RollingDeployment.Phase.UPDATE, last.phase());
            assertEquals(RollingDeployment.Result.FAILED, last.result());
            assertEquals(EndpointHealthState.DOWN, m.state("a:1").orElseThrow());
            assertEquals(EndpointHealthState.UP, m.state("b:1").orElseThrow());

            m.enable("a:1");
            RollingDeployment.Report r2 = d.run(current -> Endpoint.parse("a:2"));
            assertEquals("update step returned endpoint id 'a:2', must keep 'a:1' (use current.toBuilder() to change host or port)",
                    r2.reason());
        }
    }
    @Test
    void runOneUpdatesOnlyThatEndpoint() {
        Upstream u = Upstream.builder("one").endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).build();
        try (HealthMonitor m = HealthMonitor.builder(u).build()) {
            RollingDeployment d = RollingDeployment.builder(m).readinessProbe(e -> e.port() == 2)
                    .probeInterval(Duration.ofMillis(1)).requiredPasses(1).build();
            RollingDeployment.Report r = d.runOne("b:1", current -> current.toBuilder().port(2).build());
            assertTrue(r.completed(), r.reason());
            assertEquals(List.of("b:1"), r.steps().stream().map(RollingDeployment.Step::endpointId).distinct().toList());
            assertEquals(5, r.steps().size());
            assertEquals(2, u.endpoint("b:1").orElseThrow().port());
            assertEquals(1, u.endpoint("a:1").orElseThrow().port(), "the other endpoint is untouched");
            assertEquals(EndpointHealthState.UP, m.state("b:1").orElseThrow());
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> d.runOne("c:1", current -> null));
        }
    }
}
