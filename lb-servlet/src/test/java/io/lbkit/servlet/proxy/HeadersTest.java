package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HeadersTest {

    @Test
    void sessionHeadersInAnyCaseAndWithUnderscores() {
        for (String n : List.of("X-Session-ID", "x-session-data", "X_SESSION_ID", "x_Session-Data", "X-New-Session-Data",
                "x_new_session_data", "X-NEW_SESSION-anything", "X-Session", "x_new_session")) {
            assertTrue(Headers.isSessionHeader(n), n);
        }
        for (String n : List.of("X-Sessionless", "X-Sessions", "Session-Id", "X-Other", "X-New-Sessions")) {
            assertFalse(Headers.isSessionHeader(n), n);
        }
    }

    @Test
    void connectionTokens() {
        assertEquals(Set.of("close", "x-foo", "x-bar"), Headers.connectionTokens(List.of("close, X-Foo", " x-bar ,")));
        assertNull(Headers.connectionTokens(List.of()));
    }

    @Test
    void forwardedNodesAndValues() throws Exception {
        assertEquals("192.0.2.60", Headers.forwardedNode(InetAddress.getByName("192.0.2.60")));
        assertEquals("\"[2001:db8:0:0:0:0:0:1]\"", Headers.forwardedNode(InetAddress.getByName("2001:db8::1")));
        assertEquals("2001:db8:0:0:0:0:0:1", Headers.xffAddress(InetAddress.getByName("2001:db8::1")));
        assertEquals("example.com", Headers.forwardedValue("example.com"));
        assertEquals("\"example.com:8080\"", Headers.forwardedValue("example.com:8080"));
        assertEquals("\"a\\\"b\"", Headers.forwardedValue("a\"b"));
    }

    @Test
    void hostValidation() {
        for (String h : List.of("example.com", "example.com:8080", "127.0.0.1", "[::1]", "[2001:db8::1]:443", "a_b")) {
            assertTrue(Headers.isValidHost(h), h);
        }
        for (String h : List.of("", "exa mple.com", "example.com:", "example.com:123456", "[::1", "a/b", ":80",
                "example.com:8o")) {
            assertFalse(Headers.isValidHost(h), h);
        }
    }

    @Test
    void literalAddressesNeverResolve() {
        assertEquals("127.0.0.1", ProxyExchange.literalAddress("127.0.0.1").getHostAddress());
        assertEquals("0:0:0:0:0:0:0:1", ProxyExchange.literalAddress("[::1]").getHostAddress());
        assertEquals("0:0:0:0:0:0:0:1", ProxyExchange.literalAddress("0:0:0:0:0:0:0:1").getHostAddress());
        assertNull(ProxyExchange.literalAddress("localhost"));
        assertNull(ProxyExchange.literalAddress(null));
    }

    @Test
    void configValidationNamesTheFieldAndValue() {
        Upstream up = Upstream.builder("u").endpoint(io.lbkit.core.Endpoint.of("127.0.0.1", 1)).build();
        Route r = Route.builder("r", up).build();
        assertEquals("routes must not be empty, got 0 routes",
                assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().build()).getMessage());
        assertEquals("readTimeout must be > 0, got PT0S", assertThrows(IllegalArgumentException.class,
                () -> ProxyConfig.builder().route(r).readTimeout(Duration.ZERO).build()).getMessage());
        assertEquals("clientBodyTimeout must be > 0, got PT-1S", assertThrows(IllegalArgumentException.class,
                () -> ProxyConfig.builder().route(r).clientBodyTimeout(Duration.ofSeconds(-1)).build()).getMessage());
        assertEquals(Duration.ofSeconds(60), ProxyConfig.builder().route(r).build().clientBodyTimeout(),
                "nginx client_body_timeout 60s");
        assertEquals("maxRequestBodyBytes must be >= 0, got -1", assertThrows(IllegalArgumentException.class,
                () -> ProxyConfig.builder().route(r).maxRequestBodyBytes(-1).build()).getMessage());
        assertEquals("bufferSize must be 1024..1048576, got 10", assertThrows(IllegalArgumentException.class,
                () -> ProxyConfig.builder().route(r).bufferSize(10).build()).getMessage());
        assertEquals("via must be a token, got 'a b'", assertThrows(IllegalArgumentException.class,
                () -> ProxyConfig.builder().route(r).via("a b").build()).getMessage());
        assertEquals("route 'r': pathPrefix must start with '/', got 'api'", assertThrows(IllegalArgumentException.class,
                () -> Route.builder("r", up).pathPrefix("api").build()).getMessage());
        assertEquals("sticky key must have >= 16 bytes, got 3", assertThrows(IllegalArgumentException.class,
                () -> StickyCookie.builder(new byte[3]).build()).getMessage());
        assertEquals("sticky maxAge must be 0 (a session cookie) or at least 1 s, got PT-1S",
                assertThrows(IllegalArgumentException.class,
                        () -> StickyCookie.builder(new byte[16]).maxAge(Duration.ofSeconds(-1)).build()).getMessage());
        // Max-Age counts whole seconds: half a second would be written as Max-Age=0 (delete the cookie)
        assertEquals("sticky maxAge must be 0 (a session cookie) or at least 1 s, got PT0.5S",
                assertThrows(IllegalArgumentException.class,
                        () -> StickyCookie.builder(new byte[16]).maxAge(Duration.ofMillis(500)).build()).getMessage());
        assertEquals(Duration.ofSeconds(1), StickyCookie.builder(new byte[16]).maxAge(Duration.ofSeconds(1)).build().maxAge());
    }
}
