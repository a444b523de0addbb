package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class LiteralAddressTest {

    @Test
    void literalAddressesNeverResolve() {
        assertEquals("127.0.0.1", ProxyExchange.literalAddress("127.0.0.1").getHostAddress());
        assertEquals("0:0:0:0:0:0:0:1", ProxyExchange.literalAddress("[::1]").getHostAddress());
        assertEquals("0:0:0:0:0:0:0:1", ProxyExchange.literalAddress("0:0:0:0:0:0:0:1").getHostAddress());
        assertNull(ProxyExchange.literalAddress("localhost"));
        assertNull(ProxyExchange.literalAddress(null));
    }
}
