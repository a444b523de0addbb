package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EndpointTest {

    @Test
    void parsesTheFormsOfAnNginxServerName() {
        Endpoint a = Endpoint.parse("10.0.0.1:8080");
        assertEquals("10.0.0.1", a.host());
        assertEquals(8080, a.port());
        assertEquals("10.0.0.1:8080", a.id());
        Endpoint b = Endpoint.parse("[2001:db8::1]:443");
        assertEquals("2001:db8::1", b.host());
        assertEquals(443, b.port());
        Endpoint c = Endpoint.parse("unix:/run/app.sock");
        assertEquals(0, c.port());
        assertEquals("unix:/run/app.sock", c.id());
        Endpoint d = Endpoint.parse("backend-1");
        assertEquals("backend-1", d.host());
        assertEquals(0, d.port());
    }

    @Test
    void defaultsAreNginxs() {
        Endpoint e = Endpoint.of("h", 1);
        assertEquals(1, e.weight());
        assertEquals(1, e.maxFails());
        assertEquals(Duration.ofSeconds(10), e.failTimeout());
        assertEquals(0, e.maxConnections());
        assertEquals(Map.of(), e.metadata());
    }

    @Test
    void badValuesNameFieldAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Endpoint.parse("10.0.0.1:http"));
        assertTrue(e.getMessage().contains("port") && e.getMessage().contains("'http'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("10.0.0.1:70000"));
        assertTrue(e.getMessage().contains("port") && e.getMessage().contains("70000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Endpoint.builder("x").weight(0).build());
        assertTrue(e.getMessage().contains("weight") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Endpoint.builder("x").maxFails(-1).build());
        assertTrue(e.getMessage().contains("maxFails") && e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Endpoint.builder("x").failTimeout(Duration.ofSeconds(-1)).build());
        assertTrue(e.getMessage().contains("failTimeout"), e.getMessage());
    }
}
