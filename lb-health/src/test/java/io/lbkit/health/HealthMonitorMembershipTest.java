package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Ticker;
import io.lbkit.core.Upstream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Endpoints joining a monitored upstream: an endpoint added while the monitor starts endpoints in
 * {@code CHECKING} is never pickable before an active check passes, and the per-endpoint counters
 * reach the monitor through lb-core's attachment.
 */
class HealthMonitorMembershipTest {

    private final TestTicker ticker = new TestTicker();
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

    private static CheckResult healthy(String id) {
        return new CheckResult(id, true, 200, "200", 1000, true, true, 2, 0);
    }

    /**
     * The upstream's clock runs {@code hook} on every read while armed: lb-core and the monitor read
     * it at every step of {@code add} (publishing snapshots, reading the endpoint's status), so the
     * hook gets to pick in between those steps.
     */
    private static final class HookTicker implements Ticker {
        final AtomicLong now = new AtomicLong(1_000_000_000_000L);
        volatile Runnable hook;
        private final ThreadLocal<Boolean> inHook = ThreadLocal.withInitial(() -> false);

        @Override
        public long nanos() {
            Runnable h = hook;
            if (h != null && !inHook.get()) {
                inHook.set(true);
                try {
                    h.run();
                } finally {
                    inHook.set(false);
                }
            }
            return now.get();
        }
    }

    @Test
    void noPickReachesAnEndpointAddedWhileChecking() {
        HookTicker clock = new HookTicker();
        Upstream.Builder b = Upstream.builder("pool").ticker(clock);
        for (int i = 0; i < 4; i++) {
            b.endpoint(Endpoint.parseBuilder(id(i)).maxFails(0).build());
        }
        upstream = b.build();
        monitor = HealthMonitor.builder(upstream).ticker(ticker).initialState(EndpointHealthState.CHECKING).build();
        for (int i = 0; i < 4; i++) {
            monitor.onResult(healthy(id(i)));
        }
        String x = "x:80";
        PickRequest sticky = PickRequest.create();
        List<String> reached = new ArrayList<>();
        int[] probes = new int[1];
        clock.hook = () -> {
            probes[0]++;
            Selection s = upstream.pick(sticky.reset().preferred(x)); // the strongest ask: a sticky client
            if (s.found()) {
                reached.add(s.endpoint().id());
                s.complete(200, 1);
            }
        };
        monitor.add(Endpoint.parseBuilder(x).maxFails(0).build());
        clock.hook = null;

        assertTrue(probes[0] >= 2, "the hook picked between the steps of add: " + probes[0]);
        assertEquals(probes[0], reached.size(), "four healthy endpoints always serve");
        assertFalse(reached.contains(x), "a CHECKING endpoint was picked: " + reached);
        assertEquals(EndpointHealthState.CHECKING, monitor.state(x).orElseThrow());
        assertFalse(upstream.status(x).orElseThrow().healthy());
        assertFalse(upstream.inPanic());

        monitor.onResult(healthy(x)); // the first passing check admits it
        assertEquals(EndpointHealthState.UP, monitor.state(x).orElseThrow());
        assertEquals(x, upstream.pick(sticky.reset().preferred(x)).endpoint().id());
    }

    @Test
    void noPickReachesCheckingEndpointsWhileThreadsPickDuringAddAndRemove() throws Exception {
        Upstream.Builder b = Upstream.builder("pool").ticker(ticker);
        for (int i = 0; i < 4; i++) {
            b.endpoint(Endpoint.parseBuilder(id(i)).maxFails(0).build());
        }
        upstream = b.build();
        monitor = HealthMonitor.builder(upstream).ticker(ticker).initialState(EndpointHealthState.CHECKING).build();
        for (int i = 0; i < 4; i++) {
            monitor.onResult(healthy(id(i)));
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong picks = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        Thread picker = new Thread(() -> {
            PickRequest req = PickRequest.create();
            for (int i = 0; i < 50_000_000 && !stop.get(); i++) {
                Selection s = upstream.pick(req.reset().preferred("new-" + (i & 7) + ":80"));
                if (s.found()) {
                    if (s.endpoint().id().startsWith("new-")) {
                        wrong.incrementAndGet();
                    }
                    s.complete(200, 1);
                    picks.incrementAndGet();
                }
            }
        }, "picker");
        picker.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (picks.get() == 0 && System.nanoTime() - deadline < 0) { // the picker runs before the changes start
            Thread.sleep(1);
        }
        assertTrue(picks.get() > 0, "the picker did not start picking within 30 s");
        for (int round = 0; round < 300; round++) {
            String id = "new-" + (round & 7) + ":80";
            monitor.add(Endpoint.parseBuilder(id).maxFails(0).build());
            assertEquals(EndpointHealthState.CHECKING, monitor.state(id).orElseThrow());
            assertTrue(monitor.remove(id));
        }
        stop.set(true);
        picker.join(TimeUnit.SECONDS.toMillis(60));
        assertFalse(picker.isAlive());
        assertEquals(0, wrong.get(), "picks that reached a CHECKING endpoint");
    }

    @Test
    void theMonitorAttachesItsCountersAndOutcomesArriveThroughThem() {
        Upstream.Builder b = Upstream.builder("pool").ticker(ticker);
        for (int i = 0; i < 20; i++) {
            b.endpoint(Endpoint.parseBuilder(id(i)).maxFails(0).build());
        }
        upstream = b.build();
        monitor = HealthMonitor.builder(upstream).ticker(ticker).build();
        Object a0 = upstream.attachment(id(0)).orElseThrow();
        assertTrue(a0 instanceof EndpointTracker);
        assertEquals(id(0), ((EndpointTracker) a0).id);

        // removed and added again behind the monitor's back: a new lb-core member, re-attached on sync
        upstream.remove(id(1));
        upstream.add(Endpoint.parseBuilder(id(1)).maxFails(0).build());
        assertTrue(upstream.attachment(id(1)).isEmpty());
        for (int i = 0; i < 5; i++) { // before the sync the outcomes are found by id
            upstream.pick(PickRequest.create().preferred(id(1))).complete(500, 1);
        }
        assertEquals(EndpointHealthState.EJECTED, monitor.state(id(1)).orElseThrow());
        monitor.syncMembership();
        assertTrue(upstream.attachment(id(1)).isPresent());

        // the five-argument call (no attachment) looks the endpoint up and counts the same way
        Endpoint e2 = upstream.endpoint(id(2)).orElseThrow();
        for (int i = 0; i < 4; i++) {
            monitor.onOutcome(e2, Outcome.RESPONSE, 503, 1, false);
        }
        assertEquals(EndpointHealthState.UP, monitor.state(id(2)).orElseThrow());
        monitor.onOutcome(e2, Outcome.RESPONSE, 503, 1, false);
        assertEquals(EndpointHealthState.EJECTED, monitor.state(id(2)).orElseThrow(),
                "2 of 20 ejected = 10%: allowed");

        // an attachment of another monitor is not taken for ours
        HealthMonitor other = HealthMonitor.builder(Upstream.builder("other").endpoint(Endpoint.parse(id(3))).build())
                .build();
        Object foreign = other.upstream().attachment(id(3)).orElseThrow();
        Endpoint e3 = upstream.endpoint(id(3)).orElseThrow();
        for (int i = 0; i < 4; i++) {
            monitor.onOutcome(e3, foreign, Outcome.RESPONSE, 500, 1, false);
        }
        assertEquals(0, ((EndpointTracker) foreign).streaks, "the foreign counters are untouched");
        assertEquals(4, EndpointTracker.fiveXx(((EndpointTracker) upstream.attachment(id(3)).orElseThrow()).streaks),
                "ours counted them, found by id");
        other.close();

        monitor.close();
        assertTrue(upstream.attachment(id(0)).isEmpty(), "close removes the attachments");
        monitor = null;
    }

    @Test
    void disabledOutlierDetectionAttachesNothing() {
        upstream = Upstream.builder("pool").endpoint(Endpoint.parse(id(0))).build();
        monitor = HealthMonitor.builder(upstream).outlierDetection(OutlierDetection.disabled()).build();
        assertTrue(upstream.attachment(id(0)).isEmpty());
        assertSame(null, upstream.attachment(id(0)).orElse(null));
    }
}
