package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
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
    void nginxHost() {
        assertEquals("www.example.com", Headers.hostName("WWW.Example.COM.:8080"));
        assertEquals("www.example.com", Headers.hostName("www.example.com"));
        assertEquals("[::1]", Headers.hostName("[::1]:8080"));
        assertEquals("10.0.0.1", Headers.hostName("10.0.0.1:80"));
    }

    @Test
    void sameFieldNameFoldsCaseAndUnderscores() {
        assertTrue(Headers.sameFieldName("X-Session-Data", "x_session_data"));
        assertFalse(Headers.sameFieldName("X-Session-Data", "X-Session-Dat"));
        assertFalse(Headers.sameFieldName("X-Session-Data", "X-Session-Date"));
    }
}
