package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.ProxyMeters;
import io.lbkit.proxy.Route;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The proxy's meters ({@link ProxyMeters}) on every engine, for a known mix of requests: 200s
 * (one of them retried after a refused connection), a request no route takes (404: on the servlet
 * engines the application behind the filter answers it), a 502 from an upstream whose only endpoint
 * is dead, and a 429 from a route's rate limit. Every series and count is asserted exactly.
 */
class MetersIT {

    /** Each series' count as {@code name{tag=value,...}} → count, sorted. */
    static Map<String, Double> series(SimpleMeterRegistry registry, String name) {
        Map<String, Double> out = new TreeMap<>();
        for (Meter m : registry.find(name).meters()) {
            String key = m.getId().getTags().stream().map(t -> t.getKey() + "=" + t.getValue())
                    .collect(Collectors.joining(",", "{", "}"));
            double v = m instanceof Timer t ? t.count() : m instanceof Counter c ? c.count() : Double.NaN;
            out.put(key, v);
        }
        return out;
    }

    /**
     * Waits (bounded) until the requests timers have counted {@code n} requests: an engine records an
     * exchange when it ends, which may be a moment after its client has the response, and the
     * request last, after the exchange's other meters.
     */
    static void awaitRequests(SimpleMeterRegistry registry, long n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (total(registry) < n && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    static long total(SimpleMeterRegistry registry) {
        return registry.find(ProxyMeters.REQUESTS).timers().stream().mapToLong(Timer::count).sum();
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aKnownMixGivesExactCounts(ProxyEngine kind) throws Exception {
        int dead = AccessLogIT.deadPort();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (RecordingBackend backend = RecordingBackend.ok()) {
            Upstream u = Upstream.builder("u").endpoint(ProxyFixture.endpoint("dead", dead))
                    .endpoint(ProxyFixture.endpoint("live", backend.port())).build();
            Upstream l = Upstream.builder("l").endpoint(ProxyFixture.endpoint("live", backend.port())).build();
            Upstream d = Upstream.builder("d").endpoint(ProxyFixture.endpoint("gone", dead)).build();
            // one request a second, no burst, and time stands still: the first passes, the second is refused
            RateLimiter rl = RateLimiter.builder().rate("1r/s").burst(0).rejectStatus(429).ticker(() -> 0L).build();
            ProxyConfig config = ProxyConfig.builder()
                    .route(Route.builder("api", u).pathPrefix("/api/").build())
                    .route(Route.builder("lim", l).pathPrefix("/lim/").rateLimiter(rl).build())
                    .route(Route.builder("down", d).pathPrefix("/down/").build())
                    .meters(ProxyMeters.of(registry)).build();
            try (ProxyFixture p = new ProxyFixture(kind, config)) {
                // the first pick is the dead endpoint (round robin, in order): refused, retried on live
                assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "GET /api/a HTTP/1.1", "Host: h",
                        "Connection: close")));
                assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "POST /api/b HTTP/1.1", "Host: h",
                        "Content-Length: 5", "Connection: close", "", "hello")));
                assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "GET /api/c HTTP/1.1", "Host: h",
                        "Connection: close")));
                assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "GET /lim/1 HTTP/1.1", "Host: h",
                        "Connection: close")));
                String refused = RawHttp.exchange(p.port(), "GET /lim/2 HTTP/1.1", "Host: h", "Connection: close");
                assertEquals(429, RawHttp.status(refused));
                assertEquals(404, RawHttp.status(RawHttp.exchange(p.port(), "GET /elsewhere HTTP/1.1", "Host: h",
                        "Connection: close")));
                assertEquals(502, RawHttp.status(RawHttp.exchange(p.port(), "GET /down/x HTTP/1.1", "Host: h",
                        "Connection: close")));
                awaitRequests(registry, 7);

                assertEquals(Map.of(
                        "{code_class=2xx,endpoint=live,route=api,upstream=u}", 3.0,
                        "{code_class=2xx,endpoint=live,route=lim,upstream=l}", 1.0,
                        "{code_class=4xx,endpoint=-,route=lim,upstream=l}", 1.0,
                        "{code_class=4xx,endpoint=-,route=-,upstream=-}", 1.0,
                        "{code_class=5xx,endpoint=gone,route=down,upstream=d}", 1.0),
                        series(registry, ProxyMeters.REQUESTS), kind.name());
                assertEquals(Map.of("{endpoint=dead,reason=connect_error,route=api,upstream=u}", 1.0),
                        series(registry, ProxyMeters.RETRIES));
                assertEquals(Map.of("{reason=rate_limit,route=lim,status=429}", 1.0),
                        series(registry, ProxyMeters.REJECTIONS));
                // every attempt has a response time; only those that connected a connect time and a head a header time
                assertEquals(Map.of("{endpoint=dead,upstream=u}", 1.0, "{endpoint=live,upstream=u}", 3.0,
                        "{endpoint=live,upstream=l}", 1.0, "{endpoint=gone,upstream=d}", 1.0),
                        series(registry, ProxyMeters.UPSTREAM_RESPONSE));
                assertEquals(Map.of("{endpoint=dead,upstream=u}", 0.0, "{endpoint=live,upstream=u}", 3.0,
                        "{endpoint=live,upstream=l}", 1.0, "{endpoint=gone,upstream=d}", 0.0),
                        series(registry, ProxyMeters.UPSTREAM_HEADER));
                assertEquals(3.0, registry.get(ProxyMeters.UPSTREAM_CONNECT).tags("upstream", "u", "endpoint", "live")
                        .timer().count());
                assertEquals(0.0, registry.get(ProxyMeters.UPSTREAM_CONNECT).tags("upstream", "u", "endpoint", "dead")
                        .timer().count());
                assertEquals(5.0, registry.get(ProxyMeters.RECEIVED).tags("route", "api").counter().count(), "POST body");
                assertEquals(6.0, registry.get(ProxyMeters.SENT).tags("route", "api").counter().count(), "3 x \"ok\"");
                assertEquals(2.0 + RawHttp.body(refused).length(), registry.get(ProxyMeters.SENT).tags("route", "lim")
                        .counter().count(), "\"ok\" and the 429 page");
            }
        }
    }

    /**
     * The reasons of retries other than a refused connection: a retried status (503 with
     * {@code http_503} in the policy), a connection reset after the request ({@code error}), and
     * no answer within the read timeout ({@code timeout}); each request ends 200 on the live endpoint.
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void retryReasonsAreTheFailedAttemptsOutcomes(ProxyEngine kind) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (RecordingBackend live = RecordingBackend.ok();
             RecordingBackend busy = new RecordingBackend("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
             RawBackend reset = new RawBackend(RawBackend.Mode.CLOSE_AFTER_REQUEST);
             java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            // silent never accepts: the connection completes in its backlog and no byte ever comes back
            Upstream s = Upstream.builder("s").endpoint(ProxyFixture.endpoint("busy", busy.port()))
                    .endpoint(ProxyFixture.endpoint("live", live.port())).build();
            Upstream e = Upstream.builder("e").endpoint(ProxyFixture.endpoint("reset", reset.port()))
                    .endpoint(ProxyFixture.endpoint("live", live.port())).build();
            Upstream t = Upstream.builder("t").endpoint(ProxyFixture.endpoint("silent", silent.getLocalPort()))
                    .endpoint(ProxyFixture.endpoint("live", live.port())).build();
            ProxyConfig config = ProxyConfig.builder()
                    .route(Route.builder("status", s).pathPrefix("/s/")
                            .retryPolicy(io.lbkit.core.retry.RetryPolicy.parse("error timeout http_503")).build())
                    .route(Route.builder("error", e).pathPrefix("/e/").build())
                    .route(Route.builder("timeout", t).pathPrefix("/t/").build())
                    .readTimeout(java.time.Duration.ofSeconds(1))
                    .meters(ProxyMeters.of(registry)).build();
            try (ProxyFixture p = new ProxyFixture(kind, config)) {
                for (String path : new String[] {"/s/1", "/e/1", "/t/1"}) {
                    assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "GET " + path + " HTTP/1.1", "Host: h",
                            "Connection: close")), path);
                }
                awaitRequests(registry, 3);
                assertEquals(Map.of(
                        "{endpoint=busy,reason=http_503,route=status,upstream=s}", 1.0,
                        "{endpoint=reset,reason=error,route=error,upstream=e}", 1.0,
                        "{endpoint=silent,reason=timeout,route=timeout,upstream=t}", 1.0),
                        series(registry, ProxyMeters.RETRIES), kind.name());
                assertEquals(Map.of(
                        "{code_class=2xx,endpoint=live,route=status,upstream=s}", 1.0,
                        "{code_class=2xx,endpoint=live,route=error,upstream=e}", 1.0,
                        "{code_class=2xx,endpoint=live,route=timeout,upstream=t}", 1.0),
                        series(registry, ProxyMeters.REQUESTS));
                // the 503 had a head; the reset and the silent one connected but had none
                assertEquals(1.0, registry.get(ProxyMeters.UPSTREAM_HEADER).tags("upstream", "s", "endpoint", "busy")
                        .timer().count());
                assertEquals(1.0, registry.get(ProxyMeters.UPSTREAM_CONNECT).tags("upstream", "t", "endpoint", "silent")
                        .timer().count());
                assertEquals(0.0, registry.get(ProxyMeters.UPSTREAM_HEADER).tags("upstream", "t", "endpoint", "silent")
                        .timer().count());
            }
        }
    }
}
