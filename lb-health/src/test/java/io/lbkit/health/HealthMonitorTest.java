package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The state machine, outlier detection, panic and draining, on an injected clock. */
class HealthMonitorTest {

    private final TestTicker ticker = new TestTicker();
    private final List<HealthEvent> events = new CopyOnWriteArrayList<>();
    private final PickRequest req = PickRequest.create();
    private Upstream upstream;
    private HealthMonitor monitor;

    @AfterEach
    void close() {
        if (monitor != null) {
            monitor.close();
        }
    }

    private static String id(int i) {
        return "e" + i + ":80";
    }

    /** n endpoints without nginx max_fails (so only lb-health takes them out). */
    private HealthMonitor monitor(int n, OutlierDetection od) {
        return monitor(n, od, EndpointHealthState.UP);
    }

    private HealthMonitor monitor(int n, OutlierDetection od, EndpointHealthState initial) {
        Upstream.Builder b = Upstream.builder("pool").ticker(ticker);
        for (int i = 0; i < n; i++) {
            b.endpoint(Endpoint.parseBuilder(id(i)).maxFails(0).build());
        }
        upstream = b.build();
        monitor = HealthMonitor.builder(upstream).ticker(ticker).outlierDetection(od).initialState(initial)
                .listener(events::add).build();
        return monitor;
    }

    /** One attempt to endpoint {@code id} through the real upstream (a preferred pick), completed with the outcome. */
    private void hit(String id, Outcome outcome, int status) {
        Selection s = upstream.pick(req.reset().preferred(id));
        assertEquals(id, s.endpoint().id(), "preferred pick");
        s.complete(outcome, status, 1_000_000);
    }

    private void hits(String id, int status, int times) {
        for (int i = 0; i < times; i++) {
            hit(id, Outcome.RESPONSE, status);
        }
    }

    private EndpointHealthState state(String id) {
        return monitor.state(id).orElseThrow();
    }

    private Map<String, Integer> picks(int n) {
        Map<String, Integer> out = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Selection s = upstream.pick();
            out.merge(s.endpoint().id(), 1, Integer::sum);
            s.complete(200, 1);
        }
        return out;
    }

    private List<String> transitions(String id) {
        List<String> out = new ArrayList<>();
        for (HealthEvent e : events) {
            if (e.endpointId().equals(id)) {
                out.add(e.from() + "->" + e.to());
            }
        }
        return out;
    }

    private static CheckResult check(String id, boolean passed, boolean healthy, boolean changed) {
        return new CheckResult(id, passed, passed ? 200 : 503, passed ? "200" : "503", 1000, healthy, changed,
                passed ? 1 : 0, passed ? 0 : 1);
    }

    // ---- consecutive 5xx -------------------------------------------------------------------

    @Test
    void fiveConsecutive5xxEjectAtOnceAndTheEjectionEndsAfterBaseTime() {
        monitor(20, OutlierDetection.envoyDefaults());
        String a = id(3);
        hits(a, 500, 4);
        assertEquals(EndpointHealthState.UP, state(a));
        hit(a, Outcome.RESPONSE, 503);
        assertEquals(EndpointHealthState.EJECTED, state(a));
        HealthEvent last = events.get(events.size() - 1);
        assertEquals(EndpointHealthState.UP, last.from());
        assertEquals(EndpointHealthState.EJECTED, last.to());
        assertTrue(last.reason().startsWith("consecutive 5xx: 5"), last.reason());
        assertFalse(upstream.status(a).orElseThrow().healthy());
        assertFalse(picks(200).containsKey(a), "an ejected endpoint takes no new requests");

        ticker.advance(Duration.ofSeconds(29));
        monitor.sweep();
        assertEquals(EndpointHealthState.EJECTED, state(a));
        ticker.advance(Duration.ofSeconds(1));
        monitor.sweep();
        assertEquals(EndpointHealthState.UP, state(a));
        assertTrue(upstream.status(a).orElseThrow().healthy());
        assertEquals(List.of("null->UP", "UP->EJECTED", "EJECTED->UP"), transitions(a));
    }

    @Test
    void aSuccessBreaksTheStreak() {
        monitor(20, OutlierDetection.envoyDefaults());
        String a = id(0);
        for (int round = 0; round < 10; round++) {
            hits(a, 500, 4);
            hits(a, 200, 1);
        }
        assertEquals(EndpointHealthState.UP, state(a));
        // 4xx is not a failure either
        hits(a, 500, 4);
        hits(a, 404, 1);
        hits(a, 500, 4);
        assertEquals(EndpointHealthState.UP, state(a));
        hits(a, 500, 1);
        assertEquals(EndpointHealthState.EJECTED, state(a));
    }

    @Test
    void ejectionTimeGrowsWithEachEjectionAndIsCappedAt300s() {
        monitor(20, OutlierDetection.envoyDefaults());
        String a = id(1);
        for (int n = 1; n <= 13; n++) {
            hits(a, 500, 5);
            assertEquals(EndpointHealthState.EJECTED, state(a), "ejection " + n);
            int multiplier = Math.min(n, 11);
            assertEquals(multiplier, monitor.health(a).orElseThrow().ejectionMultiplier());
            assertEquals(n, monitor.health(a).orElseThrow().ejections());
            long expected = Math.min(30L * n, 300L);
            ticker.advance(Duration.ofSeconds(expected - 1));
            monitor.sweep();
            assertEquals(EndpointHealthState.EJECTED, state(a), "still ejected at " + (expected - 1) + " s");
            ticker.advance(Duration.ofSeconds(1));
            monitor.sweep(); // un-ejects; no decay yet (less than one interval since)
            assertEquals(EndpointHealthState.UP, state(a), "back after " + expected + " s");
        }
    }

    @Test
    void theMultiplierDecaysOneStepPerIntervalSpentHealthy() {
        monitor(20, OutlierDetection.envoyDefaults());
        String a = id(2);
        for (int n = 1; n <= 3; n++) {
            hits(a, 500, 5);
            ticker.advance(Duration.ofSeconds(30L * n));
            monitor.sweep();
        }
        assertEquals(3, monitor.health(a).orElseThrow().ejectionMultiplier());
        for (int expected = 2; expected >= 0; expected--) {
            ticker.advance(Duration.ofSeconds(10));
            monitor.sweep();
            assertEquals(expected, monitor.health(a).orElseThrow().ejectionMultiplier());
        }
        ticker.advance(Duration.ofSeconds(10));
        monitor.sweep();
        assertEquals(0, monitor.health(a).orElseThrow().ejectionMultiplier());
        hits(a, 500, 5);
        assertEquals(1, monitor.health(a).orElseThrow().ejectionMultiplier(), "back to base time");
    }

    // ---- consecutive gateway failures -------------------------------------------------------

    @Test
    void gatewayFailuresCountConnectFailuresTimeoutsAndResetsButAreNotEnforcedByDefault() {
        monitor(20, OutlierDetection.builder().consecutive5xx(1000).build());
        String a = id(0);
        hit(a, Outcome.CONNECT_FAILURE, 0);
        hit(a, Outcome.TIMEOUT, 0);
        hit(a, Outcome.RESET, 0);
        hits(a, 502, 1);
        hits(a, 504, 1);
        assertEquals(EndpointHealthState.UP, state(a), "Envoy: enforcing_consecutive_gateway_failure is 0");
        assertEquals(0, monitor.health(a).orElseThrow().ejections());
    }

    @Test
    void enforcedGatewayFailuresEjectAndA500BreaksTheStreak() {
        monitor(20, OutlierDetection.builder().consecutive5xx(1000).enforcingConsecutiveGatewayFailure(100).build());
        String a = id(0);
        hits(a, 502, 4);
        hits(a, 500, 1); // a 5xx that is not a gateway error resets the gateway streak
        hits(a, 503, 4);
        assertEquals(EndpointHealthState.UP, state(a));
        hit(a, Outcome.CONNECT_FAILURE, 0);
        assertEquals(EndpointHealthState.EJECTED, state(a));
        assertTrue(events.get(events.size() - 1).reason().startsWith("consecutive gateway failures: 5"));
        // cancelled attempts are ignored
        String b = id(1);
        hits(b, 504, 4);
        hit(b, Outcome.CANCELLED, 0);
        assertEquals(EndpointHealthState.UP, state(b));
        hit(b, Outcome.INVALID_RESPONSE, 0);
        assertEquals(EndpointHealthState.EJECTED, state(b));
    }

    // ---- success rate and failure percentage -----------------------------------------------

    /** requests to each endpoint, alternating success and failure so no streak forms. */
    private void traffic(int[] volumes, int[] failures) {
        for (int i = 0; i < volumes.length; i++) {
            int fails = failures[i];
            int oks = volumes[i] - fails;
            while (fails > 0 || oks > 0) {
                if (oks > 0) {
                    hits(id(i), 200, 1);
                    oks--;
                }
                if (fails > 0) {
                    hits(id(i), 500, 1);
                    fails--;
                }
            }
        }
    }

    @Test
    void successRateEjectsTheOutlier() {
        monitor(10, OutlierDetection.builder().consecutive5xx(1000).build());
        int[] volume = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100};
        int[] failures = {0, 1, 0, 2, 0, 1, 0, 0, 1, 50};
        traffic(volume, failures);
        monitor.sweep();
        assertEquals(EndpointHealthState.EJECTED, state(id(9)));
        for (int i = 0; i < 9; i++) {
            assertEquals(EndpointHealthState.UP, state(id(i)), id(i));
        }
        assertTrue(events.get(events.size() - 1).reason().startsWith("success rate 50.0% below threshold"));
    }

    @Test
    void successRateNeedsVolumeAndMinimumHosts() {
        monitor(10, OutlierDetection.builder().consecutive5xx(1000).build());
        // the bad endpoint has 99 requests: below the request volume, it is not judged
        traffic(new int[] {100, 100, 100, 100, 100, 100, 100, 100, 100, 99},
                new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 60});
        monitor.sweep();
        assertEquals(EndpointHealthState.UP, state(id(9)));
        // only 4 endpoints with enough volume (fewer than 5 minimum hosts)
        traffic(new int[] {100, 100, 100, 0, 0, 0, 0, 0, 0, 100},
                new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 60});
        monitor.sweep();
        assertEquals(EndpointHealthState.UP, state(id(9)));
        // the counts are per interval: the earlier interval's volume does not add up
        traffic(new int[] {100, 100, 100, 100, 100, 0, 0, 0, 0, 100},
                new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 60});
        monitor.sweep();
        assertEquals(EndpointHealthState.EJECTED, state(id(9)));
    }

    @Test
    void failurePercentageWhenEnforced() {
        OutlierDetection od = OutlierDetection.builder().consecutive5xx(1000).enforcingSuccessRate(0)
                .enforcingFailurePercentage(100).maxEjectionPercent(50).build();
        monitor(6, od);
        traffic(new int[] {50, 50, 50, 50, 50, 50}, new int[] {0, 0, 0, 0, 40, 45});
        monitor.sweep();
        assertEquals(EndpointHealthState.UP, state(id(4)), "80% < 85%");
        assertEquals(EndpointHealthState.EJECTED, state(id(5)), "90% >= 85%");
        assertTrue(events.get(events.size() - 1).reason().startsWith("failure percentage 90.0% >= 85%"));
        // not enforced by default (Envoy)
        monitor.close();
        events.clear();
        monitor(6, OutlierDetection.builder().consecutive5xx(1000).enforcingSuccessRate(0).build());
        traffic(new int[] {50, 50, 50, 50, 50, 50}, new int[] {0, 0, 0, 0, 0, 50});
        monitor.sweep();
        assertEquals(EndpointHealthState.UP, state(id(5)));
    }

    // ---- max ejection percent and panic ----------------------------------------------------

    @Test
    void maxEjectionPercentFollowsEnvoysRule() {
        monitor(10, OutlierDetection.envoyDefaults());
        hits(id(0), 500, 5);
        assertEquals(EndpointHealthState.EJECTED, state(id(0)), "1 of 10 = 10% <= 10%");
        hits(id(1), 500, 5);
        assertEquals(EndpointHealthState.UP, state(id(1)), "2 of 10 = 20% > 10%");
        hits(id(1), 500, 5);
        assertEquals(EndpointHealthState.UP, state(id(1)), "detected again, still over the limit");
        monitor.close();

        // 3 endpoints: one ejection would be 33% > 10%, so none happens (Envoy without always_eject_one_host)
        monitor(3, OutlierDetection.envoyDefaults());
        hits(id(0), 500, 5);
        assertEquals(EndpointHealthState.UP, state(id(0)));
        monitor.close();

        monitor(3, OutlierDetection.builder().alwaysEjectOneHost(true).build());
        hits(id(0), 500, 5);
        assertEquals(EndpointHealthState.EJECTED, state(id(0)), "always_eject_one_host");
        hits(id(1), 500, 5);
        assertEquals(EndpointHealthState.UP, state(id(1)));
    }

    @Test
    void ejectingEverythingPanicsInsteadOfEmptyingThePool() {
        monitor(4, OutlierDetection.builder().maxEjectionPercent(100).build());
        assertEquals(50, upstream.panicThresholdPercent(), "lb-health's default panic threshold");
        hits(id(0), 500, 5);
        hits(id(1), 500, 5);
        assertFalse(upstream.inPanic(), "2 of 4 healthy = 50%, not below");
        assertEquals(Map.of(id(2), 50, id(3), 50), picks(100));
        hits(id(2), 500, 5);
        assertTrue(upstream.inPanic(), "1 of 4 healthy");
        assertEquals(4, picks(100).size(), "panic: balance over all");
        hits(id(3), 500, 5);
        assertEquals(4, picks(100).size());
    }

    @Test
    void panicFromActiveChecksAndThresholdZeroTurnsItOff() {
        monitor(4, OutlierDetection.disabled());
        for (int i = 0; i < 3; i++) {
            monitor.onResult(check(id(i), false, false, true));
        }
        assertEquals(EndpointHealthState.UNHEALTHY, state(id(0)));
        assertTrue(upstream.inPanic());
        assertEquals(4, picks(100).size());
        monitor.close();
        Upstream.Builder b = Upstream.builder("p0").ticker(ticker);
        for (int i = 0; i < 4; i++) {
            b.endpoint(Endpoint.parse(id(i)));
        }
        upstream = b.build();
        monitor = HealthMonitor.builder(upstream).panicThresholdPercent(0).build();
        for (int i = 0; i < 3; i++) {
            monitor.onResult(check(id(i), false, false, true));
        }
        assertFalse(upstream.inPanic());
        assertEquals(Map.of(id(3), 100), picks(100));
    }

    // ---- the joined state machine ----------------------------------------------------------

    @Test
    void everyTransitionInOrder() {
        monitor(20, OutlierDetection.envoyDefaults(), EndpointHealthState.CHECKING);
        String a = id(0);
        assertEquals(EndpointHealthState.CHECKING, state(a));
        assertFalse(upstream.status(a).orElseThrow().healthy());
        monitor.onResult(check(a, true, false, false));   // passing, rise not reached
        assertEquals(EndpointHealthState.CHECKING, state(a));
        monitor.onResult(check(a, true, true, true));     // risen
        monitor.onResult(check(a, false, true, false));   // one failure, fall not reached
        assertEquals(EndpointHealthState.UP, state(a));
        monitor.onResult(check(a, false, false, true));   // fell
        monitor.onResult(check(a, true, true, true));     // rose again
        hits(a, 500, 5);                                  // ejected
        monitor.drain(a);
        monitor.maintenance(a);
        monitor.enable(a);                                // still ejected
        ticker.advance(Duration.ofSeconds(30));
        monitor.sweep();
        hits(a, 500, 5);
        monitor.onResult(check(a, true, true, false));    // a passing check ends the ejection (Envoy default)
        monitor.remove(a);
        assertEquals(List.of("null->CHECKING", "CHECKING->UP", "UP->UNHEALTHY", "UNHEALTHY->UP", "UP->EJECTED",
                "EJECTED->DRAINING", "DRAINING->DOWN", "DOWN->EJECTED", "EJECTED->UP", "UP->EJECTED", "EJECTED->UP",
                "UP->null"), transitions(a));
        long seq = 0;
        for (HealthEvent e : events) {
            assertEquals(++seq, e.sequence(), "sequence numbers in publication order");
            assertEquals("pool", e.upstream());
        }
        assertTrue(monitor.state(a).isEmpty());
    }

    @Test
    void failingFromCheckingIsUnhealthyAndRecoveryRestartsSlowStart() {
        monitor(4, OutlierDetection.disabled(), EndpointHealthState.CHECKING);
        monitor.onResult(check(id(0), false, false, false));
        assertEquals(EndpointHealthState.UNHEALTHY, state(id(0)));
        assertEquals(EndpointHealthState.CHECKING, state(id(1)));
        assertEquals(List.of("null->CHECKING", "CHECKING->UNHEALTHY"), transitions(id(0)));
    }

    // ---- draining --------------------------------------------------------------------------

    @Test
    void drainKeepsOrRefusesStickyClients() {
        monitor(3, OutlierDetection.disabled());
        String a = id(0);
        monitor.drain(a); // nginx drain: bound clients still reach it
        assertEquals(EndpointHealthState.DRAINING, state(a));
        assertEquals(EndpointState.DRAINING, upstream.status(a).orElseThrow().state());
        assertFalse(picks(100).containsKey(a));
        assertEquals(a, upstream.pick(req.reset().preferred(a)).endpoint().id());
        monitor.drain(a, false);
        assertEquals(EndpointState.DOWN, upstream.status(a).orElseThrow().state());
        Selection s = upstream.pick(req.reset().preferred(a));
        assertNotEquals(a, s.endpoint().id(), "a full drain refuses sticky clients too");
        s.complete(200, 1);
        monitor.enable(a);
        assertEquals(EndpointHealthState.UP, state(a));
        assertTrue(picks(99).containsKey(a));
        assertEquals(List.of("null->UP", "UP->DRAINING", "DRAINING->UP"), transitions(a));
    }

    @Test
    void awaitIdleCompletesWhenTheLastRequestEnds() throws Exception {
        monitor(3, OutlierDetection.disabled());
        String a = id(1);
        Selection held = upstream.pick(req.reset().preferred(a));
        Selection held2 = upstream.pick(req.reset().preferred(a));
        monitor.drain(a, false);
        CompletableFuture<Boolean> idle = monitor.awaitIdle(a, Duration.ofSeconds(60));
        assertFalse(idle.isDone(), "two requests in flight");
        held.complete(200, 1);
        assertFalse(idle.getNow(false), "one request still in flight");
        held2.complete(200, 1);
        assertTrue(idle.get(30, TimeUnit.SECONDS));
        assertTrue(monitor.awaitIdle(a, Duration.ofSeconds(1)).get(30, TimeUnit.SECONDS), "already idle");
    }

    @Test
    void awaitIdleTimesOutOnTheInjectedClock() throws Exception {
        monitor(3, OutlierDetection.disabled());
        String a = id(2);
        Selection held = upstream.pick(req.reset().preferred(a));
        CompletableFuture<Boolean> idle = monitor.awaitIdle(a, Duration.ofSeconds(5));
        assertFalse(idle.isDone());
        ticker.advance(Duration.ofSeconds(5));
        assertFalse(idle.get(30, TimeUnit.SECONDS));
        held.complete(200, 1);
    }

    // ---- membership ------------------------------------------------------------------------

    @Test
    void endpointsJoinAndLeaveAtRuntime() {
        monitor(10, OutlierDetection.envoyDefaults());
        Endpoint x = Endpoint.parseBuilder("x:80").maxFails(0).build();
        monitor.add(x);
        assertEquals(EndpointHealthState.UP, state("x:80"));
        hits("x:80", 500, 5);
        assertEquals(EndpointHealthState.EJECTED, state("x:80"), "1 of 11 ejected");
        upstream.remove("x:80"); // removed behind the monitor's back
        monitor.syncMembership();
        assertTrue(monitor.state("x:80").isEmpty());
        assertEquals(List.of("null->UP", "UP->EJECTED", "EJECTED->null"), transitions("x:80"));
        assertNull(events.get(events.size() - 1).to());
        hits(id(0), 500, 5);
        assertEquals(EndpointHealthState.EJECTED, state(id(0)), "the removed ejection no longer counts");
        assertEquals(10, monitor.states().size());
    }

    @Test
    void adminStateOfTheUpstreamIsAdoptedAtStart() {
        Upstream u = Upstream.builder("adopt").endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).build();
        u.setState("a:1", EndpointState.DOWN);
        try (HealthMonitor m = HealthMonitor.builder(u).build()) {
            assertEquals(EndpointHealthState.DOWN, m.state("a:1").orElseThrow());
            assertEquals(EndpointHealthState.UP, m.state("b:1").orElseThrow());
            m.enable("a:1");
            assertEquals(EndpointState.UP, u.status("a:1").orElseThrow().state());
        }
    }

    @Test
    void startedMonitorAppliesChangesOnItsThread() throws Exception {
        monitor(20, OutlierDetection.envoyDefaults());
        monitor.start();
        CompletableFuture<String> thread = new CompletableFuture<>();
        monitor.addListener(e -> thread.complete(Thread.currentThread().getName()));
        hits(id(0), 500, 5);
        assertEquals("lbkit-health-pool", thread.get(30, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (state(id(0)) != EndpointHealthState.EJECTED && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(EndpointHealthState.EJECTED, state(id(0)));
        monitor.close();
        assertEquals(EndpointHealthState.EJECTED, state(id(0)), "close keeps states");
    }
}
