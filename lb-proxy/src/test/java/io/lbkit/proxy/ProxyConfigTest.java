package io.lbkit.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lbkit.core.Upstream;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProxyConfigTest {

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
