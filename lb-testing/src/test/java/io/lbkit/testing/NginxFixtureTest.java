package io.lbkit.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The parts of {@link NginxFixture} that need no nginx. */
class NginxFixtureTest {

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void parsesContentLengthResponses() {
        NginxFixture.Response r = NginxFixture.parseResponse(ascii(
                "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\nX-Upstream: a\r\nx-upstream: b\r\n\r\nA|k\u00e9!"));
        assertEquals(200, r.status());
        assertArrayEquals(ascii("A|k\u00e9!"), r.body());
        assertEquals(List.of("a", "b"), r.headers().get("X-UPSTREAM"));
        assertEquals(Optional.of("nginx"), r.header("server"));
        assertEquals(Optional.empty(), r.header("X-Missing"));
    }

    @Test
    void parsesChunkedResponses() {
        NginxFixture.Response r = NginxFixture.parseResponse(ascii(
                "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"));
        assertEquals(404, r.status());
        assertEquals("abcde", r.bodyText());
    }

    @Test
    void incompleteResponsesAreErrors() {
        assertThrows(IllegalStateException.class, () -> NginxFixture.parseResponse(ascii("HTTP/1.1 200 OK\r\n")));
    }

    @Test
    void freePortsAreDistinctLoopbackPorts() {
        int[] ports = NginxFixture.freePorts(3);
        assertEquals(3, ports.length);
        for (int p : ports) {
            assertTrue(p > 0 && p < 65536, "port " + p);
        }
        assertNotEquals(ports[0], ports[1]);
        assertNotEquals(ports[1], ports[2]);
        assertNotEquals(ports[0], ports[2]);
    }
}
