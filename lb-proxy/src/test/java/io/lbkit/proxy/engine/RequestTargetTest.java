package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
}
