package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LimitsTest {

    private static final Upstream UP = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build();
    private static final ProxyConfig CONFIG = ProxyConfig.builder().route(Route.builder("r", UP).build()).build();

    private static ClientOrigin from(String address) {
        return ClientOrigin.of(CONFIG, new TestRequest("GET", "/"), address, "http", "h", 80);
    }

    @Test
    void aRouteWithoutLimitsGetsTheSharedPermit() {
        Route r = Route.builder("r", UP).build();
        Limits.Permit p = Limits.admit(r, from("192.0.2.1"));
        assertFalse(p.refused());
        assertEquals(0, p.delayMillis());
        assertEquals(0, p.status());
        assertNull(p.reason());
        assertSame(p, Limits.admit(r, from("192.0.2.2")), "no allocation per request");
        p.release();
        p.release();
    }

    @Test
    void concurrencyRefusesWithTheConfiguredStatusAndReleaseIsIdempotent() {
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(1).rejectStatus(429).build();
        Route r = Route.builder("r", UP).concurrencyLimiter(cl).build();
        Limits.Permit first = Limits.admit(r, from("192.0.2.1"));
        assertFalse(first.refused());
        assertEquals(1, cl.inFlight("192.0.2.1"));

        Limits.Permit second = Limits.admit(r, from("192.0.2.1"));
        assertTrue(second.refused());
        assertEquals(429, second.status());
        assertEquals(Limits.TOO_MANY_CONCURRENT, second.reason());
        second.release(); // a refusal holds nothing
        assertEquals(1, cl.inFlight("192.0.2.1"));
        assertFalse(Limits.admit(r, from("192.0.2.2")).refused(), "another client has its own count");

        first.release();
        assertEquals(0, cl.inFlight("192.0.2.1"));
        Limits.Permit third = Limits.admit(r, from("192.0.2.1"));
        assertFalse(third.refused());
        first.release(); // a second release of the first must not free the third's slot
        assertEquals(1, cl.inFlight("192.0.2.1"));
        assertTrue(Limits.admit(r, from("192.0.2.1")).refused());
        third.release();
        assertEquals(0, cl.inFlight("192.0.2.1"));
    }

    @Test
    void defaultStatusIs503() {
        Route r = Route.builder("r", UP).concurrencyLimiter(ConcurrencyLimiter.builder().maxConcurrent(1).build()).build();
        Limits.admit(r, from("192.0.2.1"));
        assertEquals(503, Limits.admit(r, from("192.0.2.1")).status());
    }

    @Test
    void rateDelaysAsNginxThenRefusesAndGivesTheConcurrencySlotBack() {
        AtomicLong now = new AtomicLong();
        RateLimiter rl = RateLimiter.builder().rate("10r/s").burst(2).ticker(now::get).build();
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(10).build();
        Route r = Route.builder("r", UP).rateLimiter(rl).concurrencyLimiter(cl).build();
        List<Long> delays = new ArrayList<>();
        List<Limits.Permit> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Limits.Permit p = Limits.admit(r, from("192.0.2.1"));
            assertFalse(p.refused());
            delays.add(p.delayMillis());
            held.add(p);
        }
        assertEquals(List.of(0L, 100L, 200L), delays, "burst 2, delay 0: the excess waits at the rate");
        assertEquals(3, cl.inFlight("192.0.2.1"), "a delayed request holds its slot");
        Limits.Permit over = Limits.admit(r, from("192.0.2.1"));
        assertTrue(over.refused());
        assertEquals(503, over.status());
        assertEquals(Limits.RATE_EXCEEDED, over.reason());
        assertEquals(3, cl.inFlight("192.0.2.1"), "the refused request gave its slot back");
        held.forEach(Limits.Permit::release);
        assertEquals(0, cl.inFlight("192.0.2.1"));
        now.addAndGet(1_000_000_000L);
        assertEquals(0, Limits.admit(r, from("192.0.2.1")).delayMillis(), "drained after a second");
    }

    @Test
    void rateWithNodelayAndNoConcurrencyAllocatesNothingWhenItGoesNow() {
        RateLimiter rl = RateLimiter.builder().rate("10r/s").burst(5).noDelay().build();
        Route r = Route.builder("r", UP).rateLimiter(rl).build();
        Limits.Permit a = Limits.admit(r, from("192.0.2.1"));
        assertSame(a, Limits.admit(r, from("192.0.2.1")));
        assertEquals(0, a.delayMillis());
    }

    @Test
    void theKeyIsThePeerAddress() {
        assertEquals("192.0.2.1", Limits.key(from("192.0.2.1")));
        assertEquals("0:0:0:0:0:0:0:1", Limits.key(from("[::1]")));
        assertEquals("not-an-address", Limits.key(from("not-an-address")));
    }

    @Test
    void releaseFromManyThreadsGivesBackOneSlot() throws Exception {
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(2).build();
        Route r = Route.builder("r", UP).concurrencyLimiter(cl).build();
        Limits.Permit a = Limits.admit(r, from("192.0.2.1"));
        Limits.Permit b = Limits.admit(r, from("192.0.2.1"));
        assertEquals(2, cl.inFlight("192.0.2.1"));
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                a.release();
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(1, cl.inFlight("192.0.2.1"), "b still holds its slot");
        b.release();
        assertEquals(0, cl.inFlight("192.0.2.1"));
    }
}
