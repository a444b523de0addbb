package io.lbkit.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lbkit.core.Endpoint;
import io.lbkit.proxy.engine.AccessRecord;
import io.lbkit.proxy.engine.Limits;
import io.lbkit.proxy.engine.StubStatus;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProxyMetersTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ProxyMeters meters = ProxyMeters.of(registry);
    private final Endpoint a = Endpoint.builder("a").host("127.0.0.1").port(8001).build();
    private final Endpoint b = Endpoint.builder("b").host("127.0.0.1").port(8002).build();

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void aRetriedRequestCountsOnItsLastEndpointAndTheRetryOnTheFirst() {
        AccessRecord r = new AccessRecord().begin("10.0.0.1", "GET", "/x", "HTTP/1.1", null, 0);
        r.routed("api", "app");
        r.attemptStarted(a, 1 * MS);            // refused: never connects
        r.attemptEnded(502, 2 * MS);
        r.attemptStarted(b, 2 * MS);
        r.connected(3 * MS);
        r.responseHead(200, 5 * MS);
        r.status(200);
        r.bodyBytes(10);
        r.requestBytes(7);
        r.end(9 * MS);
        meters.record(r);

        Timer t = registry.get(ProxyMeters.REQUESTS).tags("route", "api", "upstream", "app", "endpoint", "b",
                "code_class", "2xx").timer();
        assertEquals(1, t.count());
        assertEquals(9, t.totalTime(TimeUnit.MILLISECONDS), 1e-9);
        assertEquals(1, registry.get(ProxyMeters.RETRIES).tags("route", "api", "upstream", "app", "endpoint", "a",
                "reason", "connect_error").counter().count());
        assertEquals(1, registry.find(ProxyMeters.RETRIES).counters().size());
        // a: no connect, no head; 1 ms to its end. b: connect 1 ms, head 3 ms, end 7 ms (at the exchange's end)
        assertEquals(0, registry.get(ProxyMeters.UPSTREAM_CONNECT).tags("endpoint", "a").timer().count());
        assertEquals(1, registry.get(ProxyMeters.UPSTREAM_RESPONSE).tags("endpoint", "a").timer().count());
        assertEquals(1, registry.get(ProxyMeters.UPSTREAM_CONNECT).tags("endpoint", "b").timer().totalTime(TimeUnit.MILLISECONDS), 1e-9);
        assertEquals(3, registry.get(ProxyMeters.UPSTREAM_HEADER).tags("endpoint", "b").timer().totalTime(TimeUnit.MILLISECONDS), 1e-9);
        assertEquals(7, registry.get(ProxyMeters.UPSTREAM_RESPONSE).tags("endpoint", "b").timer().totalTime(TimeUnit.MILLISECONDS), 1e-9);
        assertEquals(10, registry.get(ProxyMeters.SENT).tags("route", "api").counter().count());
        assertEquals(7, registry.get(ProxyMeters.RECEIVED).tags("route", "api").counter().count());
    }

    @Test
    void retryReasonsAreTheAttemptsOutcomes() {
        AccessRecord r = new AccessRecord().begin("10.0.0.1", "GET", "/x", "HTTP/1.1", null, 0);
        r.routed("api", "app");
        r.attemptStarted(a, 0);
        r.connected(MS);
        r.attemptEnded(504, 2 * MS);            // timed out after connecting
        r.attemptStarted(b, 2 * MS);
        r.connected(3 * MS);
        r.responseHead(503, 4 * MS);            // a retried status
        r.attemptEnded(0, 4 * MS);
        r.attemptStarted(a, 4 * MS);
        r.connected(5 * MS);
        r.attemptEnded(502, 6 * MS);            // reset after connecting
        r.attemptStarted(b, 6 * MS);
        r.responseHead(200, 7 * MS);
        r.status(200);
        r.end(8 * MS);
        meters.record(r);
        assertEquals(1, registry.get(ProxyMeters.RETRIES).tags("endpoint", "a", "reason", "timeout").counter().count());
        assertEquals(1, registry.get(ProxyMeters.RETRIES).tags("endpoint", "b", "reason", "http_503").counter().count());
        assertEquals(1, registry.get(ProxyMeters.RETRIES).tags("endpoint", "a", "reason", "error").counter().count());
        assertEquals(3, registry.find(ProxyMeters.RETRIES).counters().size());
    }

    @Test
    void refusalsAndRequestsNoRouteTakes() {
        AccessRecord r = new AccessRecord();
        for (int i = 0; i < 3; i++) {
            r.begin("10.0.0.1", "GET", "/x", "HTTP/1.1", null, 0);
            r.routed("api", "app");
            r.refused(Limits.RATE_EXCEEDED, 429);
            r.status(429);
            r.end(MS);
            meters.record(r);
        }
        r.begin("10.0.0.1", "GET", "/none", "HTTP/1.1", null, 0);
        r.status(404);
        r.end(MS);
        meters.record(r);
        assertNull(r.refusal(), "begin clears the refusal");
        assertEquals(3, registry.get(ProxyMeters.REJECTIONS).tags("route", "api", "reason", "rate_limit", "status", "429")
                .counter().count());
        assertEquals(3, registry.get(ProxyMeters.REQUESTS).tags("route", "api", "upstream", "app", "endpoint", "-",
                "code_class", "4xx").timer().count());
        assertEquals(1, registry.get(ProxyMeters.REQUESTS).tags("route", "-", "upstream", "-", "endpoint", "-",
                "code_class", "4xx").timer().count());
        assertEquals(0, registry.find(ProxyMeters.UPSTREAM_RESPONSE).timers().size());
    }

    @Test
    void connectionsAreTheWatchedEnginesOpenOnes() throws Exception {
        StubStatus s1 = new StubStatus();
        StubStatus s2 = new StubStatus();
        assertNull(registry.find(ProxyMeters.CONNECTIONS).gauge(), "no gauge before an engine is watched");
        ProxyMeters.Watch w1 = meters.watch(s1);
        meters.watch(s2);
        s1.opened();
        s2.opened();
        s2.opened();
        assertEquals(3, registry.get(ProxyMeters.CONNECTIONS).gauge().value());
        w1.close();
        assertEquals(2, registry.get(ProxyMeters.CONNECTIONS).gauge().value());
    }

    @Test
    void aForgottenEndpointLosesItsSeries() {
        AccessRecord r = new AccessRecord().begin("10.0.0.1", "GET", "/x", "HTTP/1.1", null, 0);
        r.routed("api", "app");
        r.attemptStarted(a, 0);
        r.attemptEnded(502, MS);
        r.attemptStarted(b, MS);
        r.responseHead(200, 2 * MS);
        r.status(200);
        r.end(3 * MS);
        meters.record(r);
        meters.forget("app", "a");
        assertEquals(0, registry.find(ProxyMeters.RETRIES).counters().size());
        assertEquals(0, registry.find(ProxyMeters.UPSTREAM_RESPONSE).tags("endpoint", "a").timers().size());
        assertEquals(1, registry.get(ProxyMeters.UPSTREAM_RESPONSE).tags("endpoint", "b").timer().count());
        assertEquals(1, registry.get(ProxyMeters.REQUESTS).tags("endpoint", "b").timer().count());
    }

    @Test
    void healthTransitionsAreCountedByEndpointAndState() {
        io.lbkit.core.Upstream up = io.lbkit.core.Upstream.builder("app").endpoint(a).endpoint(b).build();
        try (io.lbkit.health.HealthMonitor m = io.lbkit.health.HealthMonitor.builder(up).build().start()) {
            meters.watch(m);
            m.drain("a");
            m.maintenance("a");
            m.enable("a");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (registry.find(ProxyMeters.TRANSITIONS).tags("to", "up").counter() == null
                    && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            java.util.Map<String, Double> byState = new java.util.TreeMap<>();
            registry.find(ProxyMeters.TRANSITIONS).counters().forEach(c -> byState.put(
                    c.getId().getTag("endpoint") + ">" + c.getId().getTag("to"), c.count()));
            assertEquals(java.util.Map.of("a>draining", 1.0, "a>down", 1.0, "a>up", 1.0), byState);
            assertEquals(0, registry.find(ProxyMeters.EJECTIONS).counters().size());
        }
    }

    @Test
    void anOutlierEjectionIsCountedAsEjectionAndTransition() {
        io.lbkit.core.Upstream.Builder ub = io.lbkit.core.Upstream.builder("pool");
        for (int i = 0; i < 20; i++) {
            ub.endpoint(Endpoint.builder("e" + i).host("10.0.0." + i).port(80).maxFails(0).build());
        }
        io.lbkit.core.Upstream up = ub.build();
        try (io.lbkit.health.HealthMonitor m = io.lbkit.health.HealthMonitor.builder(up)
                .outlierDetection(io.lbkit.health.OutlierDetection.envoyDefaults()).build()) {
            meters.watch(m);
            io.lbkit.core.PickRequest req = io.lbkit.core.PickRequest.create();
            for (int i = 0; i < 5; i++) { // Envoy's consecutive 5xx: 5
                up.pick(req.reset().preferred("e3")).complete(io.lbkit.core.Outcome.RESPONSE, 503, 1_000_000);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (registry.find(ProxyMeters.EJECTIONS).counter() == null && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            assertEquals(1, registry.get(ProxyMeters.EJECTIONS).tags("upstream", "pool", "endpoint", "e3").counter().count());
            assertEquals(1, registry.get(ProxyMeters.TRANSITIONS).tags("endpoint", "e3", "to", "ejected").counter().count());
            assertEquals(1, registry.find(ProxyMeters.TRANSITIONS).counters().size());
        }
    }

    @Test
    void refusalReasonsAreNamedByTheirLimit() {
        AccessRecord r = new AccessRecord();
        String[][] cases = {{Limits.TOO_MANY_CONCURRENT, "503"}, {io.lbkit.proxy.engine.AccessRules.FORBIDDEN, "403"},
            {Limits.RATE_EXCEEDED, "503"}, {Limits.RATE_EXCEEDED, "429"}};
        for (String[] c : cases) {
            r.begin("10.0.0.1", "GET", "/x", "HTTP/1.1", null, 0);
            r.routed("api", "app");
            r.refused(c[0], Integer.parseInt(c[1]));
            r.status(Integer.parseInt(c[1]));
            r.end(MS);
            meters.record(r);
        }
        java.util.Map<String, Double> byReason = new java.util.TreeMap<>();
        registry.find(ProxyMeters.REJECTIONS).counters().forEach(c -> byReason.put(
                c.getId().getTag("reason") + "/" + c.getId().getTag("status"), c.count()));
        assertEquals(java.util.Map.of("connection_limit/503", 1.0, "access/403", 1.0, "rate_limit/503", 1.0,
                "rate_limit/429", 1.0), byReason);
    }

    @Test
    void bucketsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProxyMeters.builder(registry).upstreamBuckets(List.of(Duration.ZERO)).build());
        assertEquals("upstreamBuckets must each be > 0, got PT0S", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ProxyMeters.builder(registry).requestBuckets(null).build());
        assertEquals("requestBuckets must not be null (an empty list for none)", e.getMessage());
    }

    @Test
    void requestBucketsAreOptional() {
        SimpleMeterRegistry reg = new SimpleMeterRegistry();
        ProxyMeters m = ProxyMeters.builder(reg).upstreamBuckets(List.of())
                .requestBuckets(List.of(Duration.ofMillis(5), Duration.ofMillis(50))).build();
        for (long ms : new long[] {1, 10, 100}) {
            AccessRecord r = new AccessRecord().begin("10.0.0.1", "GET", "/x", "HTTP/1.1", null, 0);
            r.routed("api", "app");
            r.attemptStarted(a, 0);
            r.responseHead(200, MS);
            r.status(200);
            r.end(ms * MS);
            m.record(r);
        }
        io.micrometer.core.instrument.distribution.CountAtBucket[] buckets = reg.get(ProxyMeters.REQUESTS).timer()
                .takeSnapshot().histogramCounts();
        assertEquals(2, buckets.length);
        assertEquals(1, buckets[0].count(), "<= 5 ms");
        assertEquals(2, buckets[1].count(), "<= 50 ms");
        assertEquals(0, reg.get(ProxyMeters.UPSTREAM_RESPONSE).timer().takeSnapshot().histogramCounts().length);
    }
}
