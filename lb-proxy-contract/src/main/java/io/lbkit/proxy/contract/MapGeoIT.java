package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.GeoTable;
import io.lbkit.proxy.GeoBlock;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.ValueMap;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * nginx {@code map} as a route match (seed 004's API-key tiers) and {@code geo} blocking (seed
 * 004's {@code if ($allowed_country = no) { return 403; }}) on every engine. The client is 127.0.0.1.
 */
class MapGeoIT {

    static TestBackend premium;
    static TestBackend free;

    @BeforeAll
    static void start() throws Exception {
        premium = new TestBackend("premium1");
        free = new TestBackend("free1");
    }

    @AfterAll
    static void stop() throws Exception {
        premium.close();
        free.close();
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aMapResultChoosesTheRoute(ProxyEngine kind) throws Exception {
        ValueMap tier = ValueMap.builder(RequestValue.header("X-Api-Key"))
                .entry("premium-key-123", "premium").entry("~^biz-", "business").defaultValue("free").build();
        ProxyConfig config = ProxyConfig.builder()
                .route(Route.builder("paid", Upstream.builder("p").endpoint(ProxyFixture.endpoint(premium)).build())
                        .match(tier, "premium", "business").build())
                .route(Route.builder("rest", Upstream.builder("f").endpoint(ProxyFixture.endpoint(free)).build()).build())
                .build();
        try (ProxyFixture p = new ProxyFixture(kind, config)) {
            assertEquals("premium1", body(p, "PREMIUM-KEY-123"), "exact entries ignore case, as nginx");
            assertEquals("premium1", body(p, "biz-7"));
            assertEquals("free1", body(p, "BIZ-7"), "~ is case-sensitive");
            assertEquals("free1", body(p, null));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aGeoBlockRefusesTheRealClientsCountry(ProxyEngine kind) throws Exception {
        GeoTable countries = GeoTable.builder().defaultValue("no")
                .add("127.0.0.0/8", "yes").add("203.0.113.0/24", "yes").add("203.0.113.128/25", "no").build();
        Upstream up = Upstream.builder("f").endpoint(ProxyFixture.endpoint(free)).build();
        ProxyConfig config = ProxyConfig.builder().trustedProxies(CidrRules.parse("allow 127.0.0.1; deny all;"))
                .geoBlock(GeoBlock.of(countries, "no"))
                .route(Route.builder("all", up).build()).build();
        try (ProxyFixture p = new ProxyFixture(kind, config)) {
            assertEquals(200, p.get("/id").statusCode(), "127.0.0.1 maps to yes");
            assertEquals(200, status(p, "203.0.113.5"));
            HttpResponse<String> blocked = p.send(p.request("/id").header("X-Forwarded-For", "203.0.113.200").build());
            assertEquals(403, blocked.statusCode(), "the longer prefix says no");
            assertEquals("403 Forbidden\n", blocked.body());
            assertEquals(403, status(p, "198.51.100.1"), "the default");
        }
    }

    private static int status(ProxyFixture p, String xff) throws Exception {
        return p.send(p.request("/id").header("X-Forwarded-For", xff).build()).statusCode();
    }

    private static String body(ProxyFixture p, String key) throws Exception {
        var r = key == null ? p.request("/id") : p.request("/id").header("X-Api-Key", key);
        HttpResponse<String> resp = p.send(r.build());
        assertEquals(200, resp.statusCode(), resp.body());
        return resp.body();
    }
}
