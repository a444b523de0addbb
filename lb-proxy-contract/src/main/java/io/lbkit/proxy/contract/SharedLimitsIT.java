package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.Decision;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.core.limit.SharedRateLimiter;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RateLimit;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rate limits whose bucket a store shares ({@link RateLimit#shared}) on every engine: the decision
 * comes back on another thread, as a Redis answer does, and the engine goes on from there
 * (lb-netty on the exchange's loop, lb-servlet from the async context). The store here is the
 * local arithmetic answered from a thread of its own, on a frozen clock, so every decision is
 * known; the Redis store itself is proven in lb-server's {@code SharedRateLimitIT}.
 */
class SharedLimitsIT {

    static TestBackend backend;
    static ExecutorService storeThread;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend("sl1");
        storeThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "test-limit-store");
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
        storeThread.shutdownNow();
    }

    /** A shared limit whose answers come from another thread, optionally held until {@code gate} opens. */
    static final class ThreadedStore implements SharedRateLimiter {
        final RateLimiter local;
        final AtomicInteger asked = new AtomicInteger();
        volatile CountDownLatch gate;
        volatile boolean failing;

        ThreadedStore(RateLimiter local) {
            this.local = local;
        }

        @Override
        public CompletionStage<Decision> tryAcquire(String key) {
            asked.incrementAndGet();
            CountDownLatch g = gate;
            return CompletableFuture.supplyAsync(() -> {
                try {
                    if (g != null && !g.await(10, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("the gate stayed shut");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (failing) {
                    throw new IllegalStateException("store down");
                }
                return local.tryAcquire(key);
            }, storeThread);
        }

        @Override
        public RateLimiter local() {
            return local;
        }
    }

    private static Upstream upstream() {
        return Upstream.builder("sl").endpoint(ProxyFixture.endpoint(backend)).build();
    }

    private static RateLimiter.Builder frozen(String rate) {
        return RateLimiter.builder().rate(rate).ticker(() -> 0L);
    }

    private static List<Integer> statuses(ProxyFixture p, String... keys) throws Exception {
        List<Integer> out = new ArrayList<>();
        for (String k : keys) {
            out.add(p.send(p.request("/id").header("X-Api-Key", k).build()).statusCode());
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aSharedLimitDecidesEachRequestWithItsStatus(ProxyEngine kind) throws Exception {
        ThreadedStore store = new ThreadedStore(frozen("1r/m").burst(1).noDelay().rejectStatus(429).build());
        Route route = Route.builder("api", upstream())
                .rateLimit(RateLimit.shared(store, RequestValue.header("X-Api-Key"))).build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            assertEquals(List.of(200, 200, 429, 429, 200), statuses(p, "k1", "k1", "k1", "k1", "k2"));
            assertEquals(5, store.asked.get(), "one question to the store per request");
            HttpResponse<String> ok = p.send(p.request("/id").header("X-Api-Key", "k3").build());
            assertEquals("sl1", ok.body(), "an admitted request reaches the backend");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aSharedLimitsDelayHoldsTheRequestThenItGoesThrough(ProxyEngine kind) throws Exception {
        // 100r/s burst 2 on a frozen clock: the 2nd and 3rd are delayed 10 and 20 ms, the 4th refused
        ThreadedStore store = new ThreadedStore(frozen("100r/s").burst(2).build());
        Route route = Route.builder("api", upstream())
                .rateLimit(RateLimit.shared(store, RequestValue.header("X-Api-Key"))).build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            assertEquals(List.of(200, 200, 200, 503), statuses(p, "k", "k", "k", "k"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void localLimitsDecideFirstAndAccessRulesAfterTheSharedOne(ProxyEngine kind) throws Exception {
        ThreadedStore store = new ThreadedStore(frozen("1r/m").rejectStatus(429).build());
        RateLimiter local = frozen("1r/m").burst(2).noDelay().rejectStatus(418).build();
        Route route = Route.builder("api", upstream())
                .rateLimit(RateLimit.shared(store, RequestValue.header("X-Api-Key")))
                .rateLimit(RateLimit.of(local, RequestValue.header("X-Api-Key")))
                .access(CidrRules.parse("deny all;"))
                .build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            // 1st: both limits admit, the rules deny: 403; 2nd: the shared one refuses: its 429 beats
            // the 403 (limits come first, as nginx's phases); 3rd: within the local burst, shared 429;
            // 4th: the local limit refuses, and the store is not asked at all
            assertEquals(List.of(403, 429, 429, 418), statuses(p, "k", "k", "k", "k"));
            assertEquals(3, store.asked.get());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aPendingDecisionHoldsTheConcurrencySlotUntilItEnds(ProxyEngine kind) throws Exception {
        ThreadedStore store = new ThreadedStore(frozen("1r/m").burst(100).noDelay().build());
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(1).rejectStatus(429).build();
        Route route = Route.builder("api", upstream()).concurrencyLimiter(cl)
                .rateLimit(RateLimit.shared(store, RequestValue.header("X-Api-Key"))).build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            CountDownLatch gate = new CountDownLatch(1);
            store.gate = gate;
            CompletableFuture<HttpResponse<String>> first = p.http.sendAsync(
                    p.request("/id").header("X-Api-Key", "a").build(), HttpResponse.BodyHandlers.ofString());
            LimitsIT.await(() -> store.asked.get() == 1, "the first request to reach the store");
            assertEquals(429, p.send(p.request("/id").header("X-Api-Key", "b").build()).statusCode(),
                    "the pending request holds the one slot");
            gate.countDown();
            store.gate = null;
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            LimitsIT.await(() -> cl.trackedKeys() == 0, "the slot to come back");
            assertEquals(200, p.send(p.request("/id").header("X-Api-Key", "c").build()).statusCode());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aStoreThatFailsGives503AndTheSlotBack(ProxyEngine kind) throws Exception {
        ThreadedStore store = new ThreadedStore(frozen("1r/m").build());
        store.failing = true;
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(1).build();
        Route route = Route.builder("api", upstream()).concurrencyLimiter(cl)
                .rateLimit(RateLimit.shared(store, RequestValue.header("X-Api-Key"))).build();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route).build())) {
            assertEquals(List.of(503, 503), statuses(p, "k", "k"));
            assertEquals(2, store.asked.get(), "the slot came back: the second request reached the store");
        }
    }
}
