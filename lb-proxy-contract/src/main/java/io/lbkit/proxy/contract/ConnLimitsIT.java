package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.ConnLimit;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RateLimit;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.ValueMap;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code limit_conn} keyed by a request value or a map's result ({@link ConnLimit}) on every
 * engine: requests held open at a backend that answers when the test says so; the next request of
 * a key at its limit gets the limit's status, other keys and empty keys are not limited, several
 * limits all apply, and every slot comes back however the request ends.
 */
class ConnLimitsIT {

    static LimitsIT.HeldBackend backend;

    @BeforeAll
    static void start() throws Exception {
        backend = new LimitsIT.HeldBackend();
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
    }

    private static Upstream upstream() {
        return Upstream.builder("held").endpoint(ProxyFixture.endpoint("held", backend.port())).build();
    }

    /** A request with {@code X-Api-Key: key} (none when null) held at the backend until its gate opens. */
    private static Socket held(ProxyFixture p, String n, String key) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", p.port()), 10_000);
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(("GET /held?n=" + n + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + (key == null ? "" : "X-Api-Key: " + key + "\r\n") + "Connection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (!got.toString(StandardCharsets.ISO_8859_1).contains("n=" + n + "\n")) {
            int b = in.read();
            if (b < 0) {
                s.close();
                throw new AssertionError("refused or closed before the backend's first line: " + got);
            }
            got.write(b);
        }
        return s;
    }

    private static int status(ProxyFixture p, String key) throws Exception {
        java.net.http.HttpRequest.Builder r = p.request("/id-free");
        if (key != null) {
            r.header("X-Api-Key", key);
        }
        return p.send(r.build()).statusCode();
    }

    private static void finish(List<Socket> held) throws IOException {
        for (Socket s : held) {
            try (s) {
                s.getInputStream().transferTo(OutputStream.nullOutputStream());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void theNextRequestOfAKeyAtItsLimitGetsTheStatusOthersGoOn(ProxyEngine kind) throws Exception {
        ConcurrencyLimiter perKey = ConcurrencyLimiter.builder().maxConcurrent(2).rejectStatus(429).build();
        Route route = Route.builder("api", upstream())
                .connLimit(ConnLimit.of(perKey, RequestValue.header("X-Api-Key"))).build();
        CountDownLatch gate = backend.newGate();
        List<Socket> open = new ArrayList<>();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            open.add(held(p, "a1", "a"));
            open.add(held(p, "a2", "a"));
            assertEquals(2, perKey.inFlight("a"));
            assertEquals(429, status(p, "a"), "the third of key a");
            assertEquals(200, status(p, "b"), "another key");
            assertEquals(200, status(p, null), "no key: not limited, as nginx");
            assertEquals(200, status(p, ""), "an empty key: not limited");
            gate.countDown();
            finish(open);
            LimitsIT.await(() -> perKey.inFlight("a") == 0 && perKey.trackedKeys() == 0, "every slot back");
            assertEquals(200, status(p, "a"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void severalLimitsAllApplyAndARefusalHoldsNoSlot(ProxyEngine kind) throws Exception {
        // per key at most 2, per tier (a map of the key) at most 3: seed 004's API-key tiers
        ConcurrencyLimiter perKey = ConcurrencyLimiter.builder().maxConcurrent(2).rejectStatus(429).build();
        ConcurrencyLimiter perTier = ConcurrencyLimiter.builder().maxConcurrent(3).rejectStatus(503).build();
        ValueMap tier = ValueMap.builder(RequestValue.header("X-Api-Key")).entry("premium", "")
                .defaultValue("free").build();
        RateLimiter generous = RateLimiter.builder().rate("1000r/s").burst(1000).noDelay().build();
        Route route = Route.builder("api", upstream())
                .connLimit(ConnLimit.of(perKey, RequestValue.header("X-Api-Key")))
                .connLimit(ConnLimit.of(perTier, tier))
                .rateLimit(RateLimit.of(generous, RequestValue.clientIp()))
                .build();
        CountDownLatch gate = backend.newGate();
        List<Socket> open = new ArrayList<>();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            open.add(held(p, "x1", "x"));
            open.add(held(p, "x2", "x"));
            open.add(held(p, "y1", "y")); // the free tier is full now
            assertEquals(429, status(p, "x"), "key x's own limit first");
            assertEquals(503, status(p, "z"), "a new free key: the tier's limit");
            assertEquals(200, status(p, "premium"), "the premium tier's map result is empty: only its key counts");
            assertEquals(2, perKey.inFlight("x"));
            assertEquals(1, perKey.inFlight("y"));
            assertEquals(0, perKey.inFlight("z"), "the refused request gave its per-key slot back");
            assertEquals(3, perTier.inFlight("free"));
            gate.countDown();
            finish(open);
            LimitsIT.await(() -> perKey.trackedKeys() == 0 && perTier.trackedKeys() == 0, "every slot back");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aRequestTheRateLimitRefusesGivesItsSlotsBack(ProxyEngine kind) throws Exception {
        ConcurrencyLimiter perKey = ConcurrencyLimiter.builder().maxConcurrent(5).build();
        RateLimiter oncePerMinute = RateLimiter.builder().rate("1r/m").rejectStatus(429).ticker(() -> 0L).build();
        Route route = Route.builder("api", upstream())
                .connLimit(ConnLimit.of(perKey, RequestValue.header("X-Api-Key")))
                .rateLimit(RateLimit.of(oncePerMinute, RequestValue.header("X-Api-Key")))
                .build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            assertEquals(200, status(p, "k"));
            assertEquals(429, status(p, "k"));
            LimitsIT.await(() -> perKey.trackedKeys() == 0, "the slots back");
            assertTrue(perKey.inFlight("k") == 0);
        }
    }
}
