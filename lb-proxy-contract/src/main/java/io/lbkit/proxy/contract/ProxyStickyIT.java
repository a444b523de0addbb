package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCookie;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Sticky cookie (seed 002) and per-route rate limits, in both containers. */
class ProxyStickyIT {

    static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    static TestBackend a;
    static TestBackend b;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
        b = new TestBackend("b");
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
    }

    private static Upstream upstream() {
        return Upstream.builder("sticky").endpoint(ProxyFixture.endpoint(a)).endpoint(ProxyFixture.endpoint(b)).build();
    }

    private static ProxyFixture proxy(ProxyEngine kind, Upstream up, byte[] key, ProxyConfig.Builder cfg) {
        return new ProxyFixture(kind, cfg.route(Route.builder("app", up)
                .sticky(StickyCookie.builder(key).build()).build()).build());
    }

    private static String cookieValue(HttpResponse<?> r) {
        String sc = r.headers().firstValue("Set-Cookie").orElseThrow();
        return sc.substring("srv_id=".length(), sc.indexOf(';'));
    }

    private static HttpResponse<String> getWith(ProxyFixture p, String cookie) throws Exception {
        return p.send(p.request("/id").header("Cookie", "other=1; srv_id=" + cookie).GET().build());
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void cookieBindsTheClientAndIsRefreshed(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, upstream(), KEY, ProxyConfig.builder())) {
            HttpResponse<String> first = p.get("/id");
            String sc = first.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(sc.matches("srv_id=[A-Za-z0-9_-]{27}; Max-Age=300; Path=/; HttpOnly; SameSite=Lax"), sc);
            String cookie = cookieValue(first);
            assertTrue(!cookie.contains(first.body()), "the value does not name the endpoint in clear");
            for (int i = 0; i < 8; i++) {
                HttpResponse<String> r = getWith(p, cookie);
                assertEquals(first.body(), r.body(), "bound to the first endpoint");
                assertEquals(sc, r.headers().firstValue("Set-Cookie").orElseThrow(), "refreshed on each response");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void forgedStaleOrForeignCookiesAreIgnored(ProxyEngine kind) throws Exception {
        Upstream up = upstream();
        String foreign;
        try (ProxyFixture other = proxy(kind, up, "another-key-another-key-another!".getBytes(StandardCharsets.US_ASCII),
                ProxyConfig.builder())) {
            foreign = cookieValue(other.get("/id"));
        }
        try (ProxyFixture p = proxy(kind, up, KEY, ProxyConfig.builder())) {
            String genuine = cookieValue(p.get("/id"));
            byte[] raw = Base64.getUrlDecoder().decode(genuine);
            raw[raw.length - 1] ^= 1; // flip one bit of the MAC
            String tampered = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
            for (String forged : new String[] {tampered, foreign, "a", "not base64 !!", "AAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
                assertBalancedAsIfAbsent(p, forged);
            }
        }
    }

    /**
     * The last of the 27 characters carries two unused bits, so a genuine value has three other
     * spellings the base64 decoder reads as the same bytes: each is refused like a forged one.
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void otherSpellingsOfAGenuineCookieAreIgnored(ProxyEngine kind) throws Exception {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        try (ProxyFixture p = proxy(kind, upstream(), KEY, ProxyConfig.builder())) {
            String genuine = cookieValue(p.get("/id"));
            int last = alphabet.indexOf(genuine.charAt(26));
            for (int low = 1; low < 4; low++) {
                assertBalancedAsIfAbsent(p, genuine.substring(0, 26) + alphabet.charAt(last | low));
            }
            assertBalancedAsIfAbsent(p, genuine + "=");
        }
    }

    /** Requests carrying {@code value} go to both endpoints, each with a fresh cookie that binds. */
    private static void assertBalancedAsIfAbsent(ProxyFixture p, String value) throws Exception {
        Set<String> served = new HashSet<>();
        HttpResponse<String> r = null;
        for (int i = 0; i < 8; i++) { // round robin state may start anywhere after earlier sticky picks
            r = getWith(p, value);
            assertEquals(200, r.statusCode());
            served.add(r.body());
            assertNotEquals(value, cookieValue(r));
        }
        assertEquals(Set.of("a", "b"), served, "a forged value is balanced as if absent: " + value);
        assertEquals(r.body(), getWith(p, cookieValue(r)).body(), "the fresh cookie binds");
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void drainingKeepsBoundClientsAndDownRebinds(ProxyEngine kind) throws Exception {
        Upstream up = upstream();
        try (ProxyFixture p = proxy(kind, up, KEY, ProxyConfig.builder())) {
            String toB = null;
            while (toB == null) {
                HttpResponse<String> r = p.get("/id");
                if (r.body().equals("b")) {
                    toB = cookieValue(r);
                }
            }
            up.setState("b", EndpointState.DRAINING);
            for (int i = 0; i < 4; i++) {
                assertEquals("b", getWith(p, toB).body(), "a draining endpoint keeps its bound clients");
                assertEquals("a", p.get("/id").body(), "and gets no new ones");
            }
            up.setState("b", EndpointState.DOWN);
            HttpResponse<String> moved = getWith(p, toB);
            assertEquals("a", moved.body());
            assertEquals("a", getWith(p, cookieValue(moved)).body(), "rebound with a new cookie");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void secureBehindATrustedTlsProxy(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, upstream(), KEY, ProxyConfig.builder()
                .trustedProxies(CidrRules.parse("allow 127.0.0.1; deny all;")))) {
            HttpResponse<String> r = p.send(p.request("/id").header("X-Forwarded-Proto", "https").GET().build());
            assertTrue(r.headers().firstValue("Set-Cookie").orElseThrow().endsWith("; Secure"));
            assertTrue(!p.get("/id").headers().firstValue("Set-Cookie").orElseThrow().contains("Secure"));
        }
        try (ProxyFixture p = proxy(kind, upstream(), KEY, ProxyConfig.builder())) {
            HttpResponse<String> r = p.send(p.request("/id").header("X-Forwarded-Proto", "https").GET().build());
            assertTrue(!r.headers().firstValue("Set-Cookie").orElseThrow().contains("Secure"),
                    "X-Forwarded-Proto from an untrusted peer is ignored");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void rateLimitRejectsWithTheConfiguredStatus(ProxyEngine kind) throws Exception {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = RateLimiter.builder().rate("1r/s").rejectStatus(429).ticker(now::get).build();
        Upstream up = upstream();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder()
                .route(Route.builder("limited", up).rateLimiter(limiter).build()).build())) {
            assertEquals(200, p.get("/id").statusCode());
            HttpResponse<String> rejected = p.get("/id");
            assertEquals(429, rejected.statusCode());
            assertEquals("429 Too Many Requests\n", rejected.body());
            now.addAndGet(1_000_000_000L);
            assertEquals(200, p.get("/id").statusCode());
        }
    }
}
