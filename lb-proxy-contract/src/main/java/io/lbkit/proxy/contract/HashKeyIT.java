package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import java.net.http.HttpRequest;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hash keys of a route: header, cookie, query parameter, URI and client address, with nginx's
 * {@code hash} and consistent hash. Each request must land where lb-core picks for the same key
 * on an identical upstream, i.e. the key is exactly the request value (not decoded, no extras).
 */
class HashKeyIT {

    static TestBackend a;
    static TestBackend b;
    static TestBackend c;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
        b = new TestBackend("b");
        c = new TestBackend("c");
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
        c.close();
    }

    static Upstream upstream(BalancingPolicy policy) {
        return Upstream.builder("hashed").policy(policy).endpoint(ProxyFixture.endpoint(a))
                .endpoint(ProxyFixture.endpoint(b)).endpoint(ProxyFixture.endpoint(c)).build();
    }

    /** Where lb-core sends {@code key} on a fresh identical upstream. */
    static String expected(BalancingPolicy policy, String key) {
        Selection s = upstream(policy).pick(PickRequest.create().hashKey(key));
        String id = s.endpoint().id();
        s.complete(Outcome.RESPONSE, 200, 0);
        return id;
    }

    private void check(ProxyEngine kind, BalancingPolicy policy, RequestValue key,
                       Function<String, HttpRequest.Builder> request, Function<String, String> keyOf,
                       ProxyFixture[] holder) throws Exception {
        Upstream up = upstream(policy);
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder()
                .route(Route.builder("h", up).hashKey(key).build()).build())) {
            holder[0] = p;
            Set<String> used = new HashSet<>();
            for (int u = 0; u < 24; u++) {
                String v = "user-" + u + "%41";
                String want = expected(policy, keyOf.apply(v));
                for (int i = 0; i < 3; i++) {
                    String got = p.send(request.apply(v).GET().build()).body();
                    assertEquals(want, got, key + " " + v);
                }
                used.add(want);
            }
            assertTrue(used.size() >= 2, "keys spread over endpoints: " + used);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void headerCookieQueryAndUriKeys(ProxyEngine kind) throws Exception {
        ProxyFixture[] p = new ProxyFixture[1];
        BalancingPolicy hash = BalancingPolicy.hash();
        BalancingPolicy ketama = BalancingPolicy.consistentHash();
        check(kind, hash, RequestValue.header("X-User"),
                v -> p[0].request("/id").header("X-User", v), v -> v, p);
        check(kind, ketama, RequestValue.cookie("uid"),
                v -> p[0].request("/id").header("Cookie", "a=1; uid=" + v + "; z=2"), v -> v, p);
        check(kind, ketama, RequestValue.query("user"),
                v -> p[0].request("/id?x=1&user=" + v), v -> v, p);  // raw, not percent-decoded (nginx $arg_)
        check(kind, hash, RequestValue.uri(),
                v -> p[0].request("/id?u=" + v), v -> "/id?u=" + v, p);
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void clientIpKeyAndMissingKeyIsServed(ProxyEngine kind) throws Exception {
        BalancingPolicy hash = BalancingPolicy.hash();
        Upstream up = upstream(hash);
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder()
                .route(Route.builder("ip", up).pathPrefix("/id").hashKey(RequestValue.clientIp()).build())
                .route(Route.builder("hdr", upstream(hash)).hashKey(RequestValue.header("X-User")).build()).build())) {
            String want = expected(hash, "127.0.0.1");
            for (int i = 0; i < 5; i++) {
                assertEquals(want, p.get("/id").body());
            }
            // the second route: no X-User header → no key → served by round robin (whose cursor is per
            // thread, as nginx's is per worker, so the sequence seen here is not asserted)
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                var r = p.send(p.request("/x").header("X-User", "").GET().build());
                assertEquals(404, r.statusCode(), "answered by a backend (no handler for /x)");
                seen.add(r.headers().firstValue("X-Served-By").orElseThrow());
            }
            assertTrue(Set.of("a", "b", "c").containsAll(seen), seen.toString());
        }
    }
}
