package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestHeaderRulesTest {

    private static ProxyConfig.Builder config() {
        return ProxyConfig.builder().route(Route.builder("r",
                Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build()).build());
    }

    /** The fields written, in order, as "name: value" ("=" marks a set). */
    private static List<String> apply(ProxyConfig config, TestRequest req, String remote) {
        List<String> out = new ArrayList<>();
        ClientOrigin origin = ClientOrigin.of(config, req, remote, "http", req.header("Host"), 80);
        new RequestHeaderRules(config).apply(req, origin, false, new HeaderSink() {
            @Override
            public void add(String name, String value) {
                out.add(name + ": " + value);
            }

            @Override
            public void set(String name, String value) {
                out.removeIf(f -> f.regionMatches(true, 0, name + ":", 0, name.length() + 1));
                out.add(name + ": " + value);
            }
        });
        return out;
    }

    private static String field(List<String> fields, String name) {
        for (String f : fields) {
            if (f.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
                return f.substring(name.length() + 2);
            }
        }
        return null;
    }

    @Test
    void anUntrustedClientsForwardingAndTierHeadersAreReplacedOrRemoved() {
        TestRequest req = new TestRequest("GET", "/").header("Host", "h.example")
                .header("X-Forwarded-For", "1.2.3.4").header("X_Forwarded_For", "5.6.7.8")
                .header("X-Real-IP", "1.2.3.4").header("Forwarded", "for=1.2.3.4")
                .header("X-Session-ID", "forged").header("x_new_session_data", "{}")
                .header("X-Served-By", "evil").header("X-Instance-ID", "evil")
                .header("Connection", "close, X-Drop").header("X-Drop", "1").header("Keep-Alive", "5")
                .header("X-Kept", "yes");
        List<String> f = apply(config().build(), req, "192.0.2.7");
        assertEquals("192.0.2.7", field(f, "X-Forwarded-For"));
        assertEquals("192.0.2.7", field(f, "X-Real-IP"));
        assertEquals("for=192.0.2.7;host=h.example;proto=http", field(f, "Forwarded"));
        assertEquals("h.example", field(f, "X-Forwarded-Host"));
        assertEquals("80", field(f, "X-Forwarded-Port"));
        assertEquals("1.1 lbkit", field(f, "Via"));
        assertEquals("yes", field(f, "X-Kept"));
        for (String gone : new String[] {"X_Forwarded_For", "X-Session-ID", "x_new_session_data", "X-Served-By",
            "X-Instance-ID", "Connection", "X-Drop", "Keep-Alive", "Host"}) {
            assertNull(field(f, gone), gone + " in " + f);
        }
    }

    @Test
    void aTrustedPeersChainIsAppendedTo() {
        ProxyConfig c = config().trustedProxies(CidrRules.parse("allow 10.0.0.0/8; deny all;")).build();
        TestRequest req = new TestRequest("GET", "/").header("Host", "h.example").protocol("HTTP/1.0")
                .header("X-Forwarded-For", "198.51.100.1").header("X-Forwarded-Proto", "https")
                .header("Forwarded", "for=198.51.100.1").header("Via", "1.1 edge").header("TE", "trailers, deflate");
        List<String> f = apply(c, req, "10.0.0.5");
        assertEquals("198.51.100.1, 10.0.0.5", field(f, "X-Forwarded-For"));
        assertEquals("https", field(f, "X-Forwarded-Proto"));
        assertEquals("for=198.51.100.1, for=10.0.0.5;host=h.example;proto=http", field(f, "Forwarded"));
        assertEquals("1.1 edge, 1.0 lbkit", field(f, "Via"));
        assertEquals("trailers", field(f, "TE"));
    }

    @Test
    void obfuscatedIdentifiersAreStablePerInstanceAndHideTheAddress() {
        ProxyConfig c = config().forwardedFor(ProxyConfig.ForwardedFor.OBFUSCATED).build();
        TestRequest req = new TestRequest("GET", "/").header("Host", "h");
        String forwarded = field(apply(c, req, "192.0.2.7"), "Forwarded");
        assertTrue(forwarded.matches("for=_[0-9a-f]{12};host=h;proto=http"), forwarded);
        assertFalse(forwarded.contains("192.0.2.7"));
    }

    @Test
    void hostHeaderModes() {
        assertEquals("H.example:8080", RequestHeaderRules.backendHost(config().build(), "H.example:8080", "10.0.0.1", 80));
        assertEquals("h.example", RequestHeaderRules.backendHost(
                config().hostHeader(ProxyConfig.HostHeader.HOST).build(), "H.example:8080", "10.0.0.1", 80));
        assertEquals("[::1]:80", RequestHeaderRules.backendHost(
                config().hostHeader(ProxyConfig.HostHeader.ENDPOINT).build(), "h", "::1", 80));
        assertEquals("10.0.0.1:80", RequestHeaderRules.backendHost(config().build(), null, "10.0.0.1", 80));
    }
}
