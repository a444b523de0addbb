package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import org.junit.jupiter.api.Test;

class ClientOriginTest {

    private static final ProxyConfig TRUSTING = ProxyConfig.builder()
            .route(Route.builder("r", Upstream.builder("u").endpoint(io.lbkit.core.Endpoint.of("127.0.0.1", 1)).build()).build())
            .trustedProxies(CidrRules.parse("allow 10.0.0.0/8; deny all;"))
            .serverName("www.example.com")
            .build();

    @Test
    void onlyATrustedPeerMakesTheClientSecure() {
        TestRequest req = new TestRequest("GET", "/").header("X-Forwarded-Proto", "https, http");
        ClientOrigin trusted = ClientOrigin.of(TRUSTING, req, "10.1.2.3", "http", "h.example", 80);
        assertTrue(trusted.trustedPeer());
        assertTrue(trusted.secure());
        assertEquals("http", trusted.scheme());
        ClientOrigin stranger = ClientOrigin.of(TRUSTING, req, "192.0.2.1", "http", "h.example", 80);
        assertFalse(stranger.trustedPeer());
        assertFalse(stranger.secure());
        assertTrue(ClientOrigin.of(TRUSTING, new TestRequest("GET", "/"), "192.0.2.1", "https", null, 443).secure());
    }

    @Test
    void noHostStandsForTheServerName() {
        ClientOrigin o = ClientOrigin.of(TRUSTING, new TestRequest("GET", "/"), "[2001:db8::1]", "http", null, 80);
        assertEquals("www.example.com", o.host());
        assertEquals("2001:db8:0:0:0:0:0:1", o.peerText());
    }
}
