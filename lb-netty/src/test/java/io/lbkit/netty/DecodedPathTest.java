package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** nginx's {@code $uri} from a raw path: what routes match. */
class DecodedPathTest {

    @Test
    void escapesAreDecodedAsUtf8() {
        assertEquals("/café/a b", DecodedPath.of("/caf%C3%A9/a%20b"));
        assertEquals("/café", DecodedPath.of("/caf\u00c3\u00a9")); // raw UTF-8 bytes, one char per byte
        assertEquals("/a/b", DecodedPath.of("/a%2Fb"));
    }

    @Test
    void slashesMergeAndDotSegmentsResolve() {
        assertEquals("/a/b", DecodedPath.of("//a//b"));
        assertEquals("/b", DecodedPath.of("/a/../b"));
        assertEquals("/b", DecodedPath.of("/a/%2e%2e/b"));
        assertEquals("/a/", DecodedPath.of("/a/./"));
        assertEquals("/a/", DecodedPath.of("/a/b/.."));
        assertEquals("/", DecodedPath.of("/"));
        assertEquals("/a/b", DecodedPath.of("/a/b"));
    }

    @Test
    void climbingAboveTheRootIsRefused() {
        assertNull(DecodedPath.of("/.."));
        assertNull(DecodedPath.of("/a/../../b"));
        assertNull(DecodedPath.of("/%2e%2e/b"));
    }

    @Test
    void aMalformedEscapeStaysAsItIs() {
        assertEquals("/a%zz", DecodedPath.of("/a%zz"));
    }
}
