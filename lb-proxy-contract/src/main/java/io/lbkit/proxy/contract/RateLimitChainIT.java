package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RateLimit;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.ValueMap;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Several keyed {@code limit_req} on one route on every engine (seed 004's API-key tiers): a limit
 * per API key and one shared by the free tier through a {@code map} whose result is empty for
 * premium keys (not limited by it); statuses per limit; {@code limit_req_dry_run}. On a frozen clock.
 */
class RateLimitChainIT {

    static TestBackend backend;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend("rl1");
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
    }

    private static Route route(boolean dryRun) {
        RateLimiter perKey = RateLimiter.builder().rate("1r/m").burst(1).noDelay().rejectStatus(429).ticker(() -> 0L)
                .build();
        RateLimiter freeTier = RateLimiter.builder().rate("1r/m").ticker(() -> 0L).build();
        ValueMap tier = ValueMap.builder(RequestValue.header("X-Api-Key")).entry("premium-key", "").defaultValue("free")
                .build();
        return Route.builder("api", Upstream.builder("rl").endpoint(ProxyFixture.endpoint(backend)).build())
                .rateLimit(RateLimit.of(perKey, RequestValue.header("X-Api-Key")))
                .rateLimit(RateLimit.of(freeTier, tier))
                .limitDryRun(dryRun)
                .build();
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
    void everyLimitAppliesWithItsOwnStatus(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route(false)).build())) {
            // k1: both new, passes; k1 again: within its own burst, but the free tier's bucket is full: 503;
            // k2: new key, same free bucket: 503; premium: not in the free tier; its own key allows 1 + burst 1
            assertEquals(List.of(200, 503, 503, 200, 200, 429),
                    statuses(p, "k1", "k1", "k2", "premium-key", "premium-key", "premium-key"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aDryRunDecidesButNeitherRefusesNorDelays(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(route(true)).build())) {
            assertEquals(List.of(200, 200, 200, 200, 200, 200),
                    statuses(p, "k1", "k1", "k2", "premium-key", "premium-key", "premium-key"));
        }
    }
}
