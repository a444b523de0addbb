package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The ends of an exchange only this engine has (the contract suite's LimitsIT covers the others):
 * a stop that closes a running or a delayed exchange gives its concurrency slot back, and a delay
 * timer never fires after its exchange ended.
 */
class LimitEndsIT extends ProxyITBase {

    private static final String CLIENT = "127.0.0.1";

    @Test
    void aStopThatClosesARunningExchangeGivesItsSlotBack() throws Exception {
        TestBackend a = backend(new TestBackend("a", (req, body, out) -> {
            hold();
            TestBackend.respond(out, 200, "late");
        }));
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(1).build();
        int port = start(ProxyConfig.builder()
                .route(Route.builder("all", upstream(a)).concurrencyLimiter(cl).build()).build());
        try (RawClient c = new RawClient(port)) {
            c.send(RawClient.get("/held"));
            assertNotNull(a.requests.poll(10, TimeUnit.SECONDS));
            assertEquals(1, cl.inFlight(CLIENT));
            proxy.stop(Duration.ofMillis(100)); // the exchange is still running: closed
            proxy = null;
            assertEquals(0, cl.inFlight(CLIENT), "the closed exchange released its slot");
        }
    }

    @Test
    void aStopDuringALimitDelayGivesTheSlotBackAndTheDelayNeverFires() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        AtomicLong now = new AtomicLong();
        // a frozen clock: 1r/m, burst 1: the second request waits a minute
        RateLimiter rl = RateLimiter.builder().rate("1r/m").burst(1).ticker(now::get).build();
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(10).build();
        int port = start(ProxyConfig.builder()
                .route(Route.builder("all", upstream(a)).rateLimiter(rl).concurrencyLimiter(cl).build()).build());
        try (RawClient first = new RawClient(port); RawClient delayed = new RawClient(port)) {
            assertEquals(200, first.send(RawClient.get("/now")).read().status());
            delayed.send(RawClient.get("/later"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (cl.inFlight(CLIENT) != 1 && System.nanoTime() < deadline) {
                Thread.sleep(5); // the first released its slot, the second holds one while it waits
            }
            assertEquals(1, cl.inFlight(CLIENT));
            proxy.stop(Duration.ofMillis(100));
            proxy = null;
            assertEquals(0, cl.inFlight(CLIENT), "the delayed exchange released its slot");
            assertEquals(1, a.requests.size(), "the delayed request never reached the backend");
        }
    }
}
