package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.AddedHeaders;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * nginx {@code allow}/{@code deny} on every engine: 403 before the backend, a route's rules
 * replacing the proxy's, and the real client address behind a trusted proxy
 * ({@code set_real_ip_from} + {@code real_ip_header X-Forwarded-For} + {@code real_ip_recursive on}).
 * The test client is 127.0.0.1.
 */
class AccessIT {

    static TestBackend backend;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend("acc1");
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
    }

    private static Route.Builder route(String name) {
        return Route.builder(name, Upstream.builder("acc").endpoint(ProxyFixture.endpoint(backend)).build());
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void deniedRequestsGet403AndNeverReachTheBackend(ProxyEngine kind) throws Exception {
        ProxyConfig config = ProxyConfig.builder()
                .access(CidrRules.parse("allow 10.0.0.0/8; deny all;"))
                .addedHeaders(AddedHeaders.builder().add("X-Always", "1", true).build())
                .route(route("open").header("X-R", "open").access(CidrRules.parse("allow 127.0.0.0/8; deny all;")).build())
                .route(route("closed").header("X-R", "closed").access(CidrRules.parse("deny 127.0.0.1; allow all;"))
                        .build())
                .route(route("inherits").build())
                .build();
        try (ProxyFixture p = new ProxyFixture(kind, config)) {
            long before = backend.hits("/id");
            HttpResponse<String> closed = p.send(p.request("/id").header("X-R", "closed").build());
            assertEquals(403, closed.statusCode());
            assertEquals("403 Forbidden\n", closed.body());
            assertEquals(List.of("1"), closed.headers().allValues("X-Always"), "add_header always on the 403");
            HttpResponse<String> inherits = p.get("/id");
            assertEquals(403, inherits.statusCode(), "the proxy's rules: 127.0.0.1 is not in 10.0.0.0/8");
            assertEquals(before, backend.hits("/id"), "a denied request never reaches the backend");

            HttpResponse<String> open = p.send(p.request("/id").header("X-R", "open").build());
            assertEquals(200, open.statusCode(), "the route's own rules replace the proxy's");
            assertEquals("acc1", open.body());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void behindATrustedProxyTheRulesSeeTheRealClient(ProxyEngine kind) throws Exception {
        CidrRules office = CidrRules.parse("allow 203.0.113.5; deny all;");
        ProxyConfig trusting = ProxyConfig.builder().trustedProxies(CidrRules.parse("allow 127.0.0.1; deny all;"))
                .route(route("office").access(office).build()).build();
        try (ProxyFixture p = new ProxyFixture(kind, trusting)) {
            assertEquals(200, status(p, "203.0.113.5"));
            assertEquals(200, status(p, "198.51.100.1, 203.0.113.5, 127.0.0.1"), "trusted hops are passed over");
            assertEquals(403, status(p, "203.0.113.5, 198.51.100.1"), "the rightmost untrusted address decides");
            assertEquals(403, p.get("/id").statusCode(), "without the header: the peer, 127.0.0.1");
        }
        ProxyConfig untrusting = ProxyConfig.builder().route(route("office").access(office).build()).build();
        try (ProxyFixture p = new ProxyFixture(kind, untrusting)) {
            assertEquals(403, status(p, "203.0.113.5"), "an untrusted peer's X-Forwarded-For is not believed");
        }
    }

    private static int status(ProxyFixture p, String xff) throws Exception {
        return p.send(p.request("/id").header("X-Forwarded-For", xff).build()).statusCode();
    }
}
