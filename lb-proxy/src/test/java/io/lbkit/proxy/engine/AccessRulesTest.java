package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.IpAddresses;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import org.junit.jupiter.api.Test;

class AccessRulesTest {

    private static final Upstream UP = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build();
    private static final CidrRules TRUSTED = CidrRules.parse("allow 10.0.0.0/8; deny all;");

    private static String real(String peer, String... xff) {
        ProxyConfig c = ProxyConfig.builder().trustedProxies(TRUSTED).route(Route.builder("r", UP).build()).build();
        TestRequest req = new TestRequest("GET", "/");
        for (String v : xff) {
            req.header("X-Forwarded-For", v);
        }
        ClientOrigin o = ClientOrigin.of(c, req, peer, "http", "h", 80);
        byte[] a = RealClientAddress.of(o, req, TRUSTED);
        return a == null ? null : IpAddresses.peerAddress(a.length == 4 ? ipv4(a) : "[" + ipv6(a) + "]").getHostAddress();
    }

    private static String ipv4(byte[] a) {
        return (a[0] & 255) + "." + (a[1] & 255) + "." + (a[2] & 255) + "." + (a[3] & 255);
    }

    private static String ipv6(byte[] a) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i += 2) {
            sb.append(i == 0 ? "" : ":").append(Integer.toHexString(((a[i] & 255) << 8) | (a[i + 1] & 255)));
        }
        return sb.toString();
    }

    @Test
    void anUntrustedPeerIsTheClientWhateverItSends() {
        assertEquals("192.0.2.9", real("192.0.2.9", "203.0.113.5"));
        assertEquals("10.0.0.1", real("10.0.0.1"), "a trusted peer without X-Forwarded-For");
    }

    @Test
    void recursiveFromTheRightPassingOverTrustedProxies() {
        assertEquals("203.0.113.5", real("10.0.0.1", "203.0.113.5"));
        assertEquals("203.0.113.5", real("10.0.0.1", "198.51.100.7, 203.0.113.5, 10.1.1.1, 10.2.2.2"));
        assertEquals("198.51.100.7", real("10.0.0.1", "198.51.100.7", "10.1.1.1"), "two fields are one list");
        assertEquals("10.9.9.9", real("10.0.0.1", "10.9.9.9, 10.1.1.1"), "all trusted: the leftmost");
        assertEquals("203.0.113.5", real("10.0.0.1", "203.0.113.5:5000"), "with a port");
        assertEquals("2001:db8:0:0:0:0:0:1", real("10.0.0.1", "[2001:db8::1]:443"));
        assertEquals("2001:db8:0:0:0:0:0:1", real("10.0.0.1", "2001:db8::1"));
        assertEquals("10.1.1.1", real("10.0.0.1", "unknown, 10.1.1.1"), "a non-address ends the walk");
        assertEquals("10.0.0.1", real("10.0.0.1", " , "), "nothing in the field");
    }

    @Test
    void parseAddrPortRefusesWhatIsNotAnAddress() {
        assertNull(RealClientAddress.parseAddrPort("example.com"));
        assertNull(RealClientAddress.parseAddrPort("1.2.3.4:99999"));
        assertNull(RealClientAddress.parseAddrPort("[::1]x"));
        assertArrayEquals(new byte[] {1, 2, 3, 4}, RealClientAddress.parseAddrPort("1.2.3.4:80"));
    }

    @Test
    void theRoutesRulesReplaceTheProxysAndADeniedRequestGets403WithItsSlotBack() {
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(5).build();
        Route own = Route.builder("own", UP).access(CidrRules.parse("allow 192.0.2.0/24; deny all;"))
                .concurrencyLimiter(cl).build();
        Route inherits = Route.builder("inherits", UP).build();
        ProxyConfig c = ProxyConfig.builder().access(CidrRules.parse("deny 192.0.2.1;")).route(own).route(inherits)
                .build();
        TestRequest req = new TestRequest("GET", "/");
        ClientOrigin in = ClientOrigin.of(c, req, "192.0.2.1", "http", "h", 80);
        ClientOrigin out = ClientOrigin.of(c, req, "198.51.100.1", "http", "h", 80);
        assertTrue(AccessRules.allowed(c, own, in, req), "the route's allow, not the proxy's deny");
        assertFalse(AccessRules.allowed(c, inherits, in, req));
        assertTrue(AccessRules.allowed(c, inherits, out, req), "no rule matches: allowed, as nginx");

        Limits.Permit denied = Limits.admit(c, own, out, req);
        assertTrue(denied.refused());
        assertEquals(403, denied.status());
        assertEquals("access forbidden by rule", denied.reason());
        assertEquals(0, cl.inFlight("198.51.100.1"), "the slot taken before the access phase is given back");
        assertFalse(Limits.admit(c, own, in, req).refused());
    }

    @Test
    void theRateLimitComesBeforeTheAccessRulesAsNginxsPhases() {
        RateLimiter rl = RateLimiter.builder().rate("1r/m").rejectStatus(429).ticker(() -> 0L).build();
        Route r = Route.builder("r", UP).rateLimiter(rl).access(CidrRules.parse("deny all;")).build();
        ProxyConfig c = ProxyConfig.builder().route(r).build();
        TestRequest req = new TestRequest("GET", "/");
        ClientOrigin o = ClientOrigin.of(c, req, "192.0.2.1", "http", "h", 80);
        assertEquals(403, Limits.admit(c, r, o, req).status(), "the first: within the rate, then denied");
        assertEquals(429, Limits.admit(c, r, o, req).status(), "the denied request was counted: limit_req's status");
    }
}
