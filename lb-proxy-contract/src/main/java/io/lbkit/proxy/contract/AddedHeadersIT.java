package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.AddedHeaders;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * nginx {@code add_header NAME VALUE [always]} on every engine: without {@code always} only on
 * 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308; with it on every answer, the proxy's own
 * (429, 502) included; a route with fields of its own does not inherit the proxy's; seed 004's
 * security set, without Strict-Transport-Security on a plain-HTTP listener.
 */
class AddedHeadersIT {

    static TestBackend backend;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend("a1");
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
    }

    private static Upstream upstream() {
        return Upstream.builder("a").endpoint(ProxyFixture.endpoint(backend)).build();
    }

    private static final AddedHeaders OUTER = AddedHeaders.builder()
            .add("X-Outer", "o", false)
            .add("X-Outer-Always", "oa", true)
            .build();

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void withoutAlwaysOnlyOnNginxsStatusesWithAlwaysOnEvery(ProxyEngine kind) throws Exception {
        ProxyConfig config = ProxyConfig.builder().addedHeaders(OUTER).route(Route.builder("all", upstream()).build())
                .build();
        try (ProxyFixture p = new ProxyFixture(kind, config)) {
            for (int code : new int[] {200, 201, 204, 206, 301, 302, 303, 304, 307, 308}) {
                HttpResponse<String> r = p.get("/status?code=" + code);
                assertEquals(code, r.statusCode());
                assertEquals(List.of("o"), r.headers().allValues("X-Outer"), "status " + code);
                assertEquals(List.of("oa"), r.headers().allValues("X-Outer-Always"), "status " + code);
            }
            for (int code : new int[] {202, 203, 400, 404, 418, 500, 503}) {
                HttpResponse<String> r = p.get("/status?code=" + code);
                assertEquals(code, r.statusCode());
                assertEquals(List.of(), r.headers().allValues("X-Outer"), "status " + code);
                assertEquals(List.of("oa"), r.headers().allValues("X-Outer-Always"), "status " + code);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void theProxysOwnAnswersGetTheAlwaysFields(ProxyEngine kind) throws Exception {
        int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        Upstream nowhere = Upstream.builder("nowhere").endpoint(ProxyFixture.endpoint("dead", dead)).build();
        RateLimiter rl = RateLimiter.builder().rate("1r/m").rejectStatus(429).ticker(() -> 0L).build();
        ProxyConfig config = ProxyConfig.builder().addedHeaders(OUTER)
                .route(Route.builder("limited", upstream()).pathPrefix("/limited").rateLimiter(rl).build())
                .route(Route.builder("dead", nowhere).build())
                .build();
        try (ProxyFixture p = new ProxyFixture(kind, config)) {
            HttpResponse<String> bad = p.get("/x");
            assertEquals(502, bad.statusCode(), bad.body());
            assertEquals(List.of("oa"), bad.headers().allValues("X-Outer-Always"));
            assertEquals(List.of(), bad.headers().allValues("X-Outer"));

            assertEquals(404, p.get("/limited/status?code=404").statusCode(), "the first goes through");
            HttpResponse<String> refused = p.get("/limited/x");
            assertEquals(429, refused.statusCode(), refused.body());
            assertEquals(List.of("oa"), refused.headers().allValues("X-Outer-Always"));
            assertEquals(List.of(), refused.headers().allValues("X-Outer"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aRouteWithFieldsOfItsOwnDoesNotInheritTheProxys(ProxyEngine kind) throws Exception {
        AddedHeaders own = AddedHeaders.builder().add("X-Route", "r", false).build();
        ProxyConfig config = ProxyConfig.builder().addedHeaders(OUTER)
                .route(Route.builder("own", upstream()).header("X-R", "own").addedHeaders(own).build())
                .route(Route.builder("none", upstream()).header("X-R", "none").addedHeaders(AddedHeaders.none()).build())
                .route(Route.builder("inherits", upstream()).build())
                .build();
        try (ProxyFixture p = new ProxyFixture(kind, config)) {
            HttpResponse<String> r = p.send(p.request("/id").header("X-R", "own").build());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(List.of("r"), r.headers().allValues("X-Route"));
            assertEquals(Optional.empty(), r.headers().firstValue("X-Outer-Always"), "not inherited");
            assertEquals(Optional.empty(), r.headers().firstValue("X-Outer"), "not inherited");

            HttpResponse<String> none = p.send(p.request("/id").header("X-R", "none").build());
            assertEquals(200, none.statusCode());
            assertEquals(Optional.empty(), none.headers().firstValue("X-Outer"));
            assertEquals(Optional.empty(), none.headers().firstValue("X-Outer-Always"));

            HttpResponse<String> inherits = p.get("/id");
            assertEquals(200, inherits.statusCode());
            assertEquals(List.of("o"), inherits.headers().allValues("X-Outer"));
            assertEquals(List.of("oa"), inherits.headers().allValues("X-Outer-Always"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void seed004sSecurityHeadersWithoutHstsOnPlainHttp(ProxyEngine kind) throws Exception {
        ProxyConfig config = ProxyConfig.builder().addedHeaders(AddedHeaders.securityPreset("seed-004"))
                .route(Route.builder("all", upstream()).build()).build();
        try (ProxyFixture p = new ProxyFixture(kind, config)) {
            for (String path : new String[] {"/id", "/status?code=500"}) {
                HttpResponse<String> r = p.get(path);
                assertEquals(List.of("SAMEORIGIN"), r.headers().allValues("X-Frame-Options"), path);
                assertEquals(List.of("nosniff"), r.headers().allValues("X-Content-Type-Options"), path);
                assertEquals(List.of("1; mode=block"), r.headers().allValues("X-XSS-Protection"), path);
                assertEquals(List.of("no-referrer-when-downgrade"), r.headers().allValues("Referrer-Policy"), path);
                assertEquals(List.of("default-src 'self' http: https: data: blob: 'unsafe-inline'"),
                        r.headers().allValues("Content-Security-Policy"), path);
                assertFalse(r.headers().firstValue("Strict-Transport-Security").isPresent(),
                        "HSTS only over TLS (RFC 6797 7.2): " + path);
            }
        }
    }
}
