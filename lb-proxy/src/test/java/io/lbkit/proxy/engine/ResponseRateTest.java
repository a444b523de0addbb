package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.Route;
import org.junit.jupiter.api.Test;

/** nginx's write-filter arithmetic for {@code limit_rate}, worked by hand. */
class ResponseRateTest {

    private static Route route(long rate, long after) {
        Upstream up = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build();
        return Route.builder("r", up).limitRate(rate).limitRateAfter(after).build();
    }

    @Test
    void noLimitNoPace() {
        assertNull(ResponseRate.start(route(0, 0), 0));
    }

    @Test
    void oneSecondsWorthAtOnceThenOneSendPerItsTime() {
        // limit_rate 1000: at the start second 1000 bytes are allowed (rate * (0 + 1))
        ResponseRate r = ResponseRate.start(route(1000, 0), 5_300);
        assertEquals(0, r.waitMillis(5_300));
        assertEquals(800, r.sent(800), "800 bytes take 800 ms at 1000 B/s");
        assertEquals(0, r.waitMillis(5_900), "200 bytes still allowed in this second");
        assertEquals(500, r.sent(500));
        // 1300 sent, 1000 allowed at second 5: wait (300 * 1000 / 1000) + 1 ms
        assertEquals(301, r.waitMillis(5_999));
        assertEquals(0, r.waitMillis(6_000), "second 6 allows 2000");
        assertEquals(1300, r.sentBytes());
    }

    @Test
    void theFirstBytesAfterLimitRateAfterAreFree() {
        ResponseRate r = ResponseRate.start(route(1000, 10_000), 0);
        assertEquals(0, r.sent(9_000), "within limit_rate_after: no wait");
        assertEquals(500, r.sent(1_500), "500 of them past it");
        assertEquals(0, r.waitMillis(0), "11000 allowed at second 0");
        r.sent(600);
        assertEquals(101, r.waitMillis(999));
    }

    @Test
    void negativeSettingsAreRefusedNamingTheField() {
        Upstream up = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build();
        assertEquals("limitRate must be >= 0 bytes per second, got -1", assertThrows(IllegalArgumentException.class,
                () -> Route.builder("r", up).limitRate(-1)).getMessage());
        assertEquals("limitRateAfter must be >= 0 bytes, got -2", assertThrows(IllegalArgumentException.class,
                () -> Route.builder("r", up).limitRateAfter(-2)).getMessage());
    }
}
