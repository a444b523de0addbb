package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class RequestTargetTest {

    @Test
    void decodedTargetsBecomeTheirUtf8Bytes() {
        assertEquals("/a?b=c", RequestTarget.fromDecoded("/a", "b=c"));
        assertEquals("/a", RequestTarget.fromDecoded("/a", null));
        assertEquals("/q?e=\u00c3\u00a9&f=\u00e2\u0082\u00ac", RequestTarget.fromDecoded("/q", "e=\u00e9&f=\u20ac"));
        assertEquals("/\u00f0\u009f\u0098\u0080", RequestTarget.fromDecoded("/\ud83d\ude00", null));
        // a replaced byte cannot be restored
        assertNull(RequestTarget.fromDecoded("/q", "x=\ufffd"));
    }

    @Test
    void pathAndQuerySplitAtTheFirstQuestionMark() {
        assertEquals("/p", RequestTarget.path("/p?a=1?b"));
        assertEquals("a=1?b", RequestTarget.query("/p?a=1?b"));
        assertEquals("/p", RequestTarget.path("/p"));
        assertNull(RequestTarget.query("/p"));
        assertEquals("", RequestTarget.query("/p?"));
    }

    @Test
    void pathsNginxRefuses() {
        assertNull(RequestTarget.invalidPath("/a%2Fb/%C3%A9/%25"));
        assertNull(RequestTarget.invalidPath("/plain/../x"));
        assertEquals("a malformed percent-escape in the path", RequestTarget.invalidPath("/a%zz"));
        assertEquals("a malformed percent-escape in the path", RequestTarget.invalidPath("/a%g0"));
        assertEquals("a malformed percent-escape in the path", RequestTarget.invalidPath("/a%\u00b9\u00b2"));
        assertEquals("a percent-escape in the path ends early", RequestTarget.invalidPath("/a%4"));
        assertEquals("a percent-escape in the path ends early", RequestTarget.invalidPath("/a%"));
        assertEquals("an encoded NUL (%00) in the path", RequestTarget.invalidPath("/a%00b"));
    }

    @Test
    void nginxHost() {
        assertEquals("www.example.com", Headers.hostName("WWW.Example.COM.:8080"));
        assertEquals("www.example.com", Headers.hostName("www.example.com"));
        assertEquals("[::1]", Headers.hostName("[::1]:8080"));
        assertEquals("10.0.0.1", Headers.hostName("10.0.0.1:80"));
    }

    @Test
    void failuresThatAreNotTheEndpoints() {
        assertEquals(400, ProxyExchange.localFailureStatus(new NumberFormatException("!hex z")));
        assertEquals(400, ProxyExchange.localFailureStatus(new IllegalArgumentException("Bad URI % encoding")));
        assertEquals(503, ProxyExchange.localFailureStatus(new RejectedExecutionException("queue full")));
        assertEquals(500, ProxyExchange.localFailureStatus(new NullPointerException()));
        // the endpoint's, the network's or the exchange's: handled as before
        assertEquals(0, ProxyExchange.localFailureStatus(new IOException("reset")));
        assertEquals(0, ProxyExchange.localFailureStatus(new TimeoutException()));
        assertEquals(0, ProxyExchange.localFailureStatus(new CancellationException()));
        assertEquals(0, ProxyExchange.localFailureStatus(new IllegalStateException("closed", new IOException("x"))));
        assertEquals(0, ProxyExchange.localFailureStatus(new IllegalArgumentException("wrapped", new IOException("x"))));
    }
}
