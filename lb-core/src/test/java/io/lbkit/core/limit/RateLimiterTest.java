package io.lbkit.core.limit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

    private final ManualTicker ticker = new ManualTicker(0);

    private RateLimiter.Builder limiter(String rate) {
        return RateLimiter.builder().rate(rate).ticker(ticker);
    }

    /** Sends one request at each millisecond in [from, to) and returns the accepted times. */
    private List<Long> acceptedTimes(RateLimiter l, String key, long from, long to) {
        List<Long> accepted = new ArrayList<>();
        for (long t = from; t < to; t++) {
            ticker.setMillis(t);
            Decision d = l.tryAcquire(key);
            if (d.isAllowed()) {
                assertEquals(0, d.delayMillis(), "burst 0 never delays");
                accepted.add(t);
            }
        }
        return accepted;
    }

    @Test
    void tenPerSecondBurstZeroAllowsExactlyOnePer100ms() {
        RateLimiter l = limiter("10r/s").build();
        List<Long> accepted = acceptedTimes(l, "k", 0, 2001);
        List<Long> expected = new ArrayList<>();
        for (long t = 0; t <= 2000; t += 100) {
            expected.add(t);
        }
        assertEquals(expected, accepted);
    }

    @Test
    void tenPerSecondWithSparseRequests() {
        RateLimiter l = limiter("10r/s").build();
        ticker.setMillis(1000);
        assertTrue(l.tryAcquire("k").isAllowed());
        ticker.setMillis(1099); // excess = 0 - 10000*99/1000 + 1000 = 10 > 0
        assertTrue(l.tryAcquire("k").isRejected());
        ticker.setMillis(1100); // excess = 0 - 1000 + 1000 = 0
        assertTrue(l.tryAcquire("k").isAllowed());
        ticker.setMillis(5000); // long idle: excess clamps at 0
        assertTrue(l.tryAcquire("k").isAllowed());
        assertArrayEquals(new long[] {0, 5000}, l.stateOf("k"));
    }

    @Test
    void decisionsAreSharedInstances() {
        RateLimiter l = limiter("10r/s").build();
        Decision first = l.tryAcquire("k");
        Decision rejected1 = l.tryAcquire("k");
        Decision rejected2 = l.tryAcquire("k");
        assertTrue(first.isAllowed());
        assertFalse(first.isDelayed());
        assertSame(first, l.tryAcquire("other"));
        assertSame(rejected1, rejected2);
        assertEquals(503, rejected1.status());
        assertEquals(0, first.status());
        assertEquals(0, rejected1.delayMillis());
    }

    @Test
    void burstFiveNodelayLetsSixThroughThenOnePer100ms() {
        RateLimiter l = limiter("10r/s").burst(5).noDelay().build();
        for (int i = 0; i < 6; i++) {
            Decision d = l.tryAcquire("k");
            assertTrue(d.isAllowed(), "request " + i);
            assertEquals(0, d.delayMillis(), "nodelay never delays");
        }
        assertTrue(l.tryAcquire("k").isRejected());
        assertArrayEquals(new long[] {5000, 0}, l.stateOf("k"));
        // Then one per 100 ms: excess stays at 5000.
        for (long t = 100; t <= 1000; t += 100) {
            ticker.setMillis(t - 1);
            assertTrue(l.tryAcquire("k").isRejected(), "at " + (t - 1));
            ticker.setMillis(t);
            assertTrue(l.tryAcquire("k").isAllowed(), "at " + t);
            assertTrue(l.tryAcquire("k").isRejected(), "second at " + t);
        }
    }

    @Test
    void burstWithoutNodelayDelaysExcessAtTheRate() {
        RateLimiter l = limiter("10r/s").burst(5).build();
        assertEquals(0, l.tryAcquire("k").delayMillis()); // new key: excess 0
        for (int i = 1; i <= 5; i++) {
            Decision d = l.tryAcquire("k");
            assertTrue(d.isAllowed());
            assertEquals(100L * i, d.delayMillis(), "request " + i); // excess 1000*i -> 1000*i*1000/10000
        }
        assertTrue(l.tryAcquire("k").isRejected());
        ticker.setMillis(50); // excess = 5000 - 500 + 1000 = 5500 > 5000
        assertTrue(l.tryAcquire("k").isRejected());
        ticker.setMillis(100); // 5000 - 1000 + 1000 = 5000 -> delay 500
        assertEquals(500, l.tryAcquire("k").delayMillis());
    }

    @Test
    void delayParameterServesFirstExcessImmediately() {
        // nginx docs: limit_req zone=ip burst=12 delay=8 with rate=5r/s
        RateLimiter l = limiter("5r/s").burst(12).delay(8).build();
        List<Long> delays = new ArrayList<>();
        Decision d;
        while ((d = l.tryAcquire("k")).isAllowed()) {
            delays.add(d.delayMillis());
        }
        // first request (new key, excess 0) + 8 with excess 1000..8000 undelayed,
        // then excess 9000..12000 delayed (excess - 8000) * 1000 / 5000
        assertEquals(List.of(0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 200L, 400L, 600L, 800L), delays);
        assertEquals(503, d.status());
    }

    @Test
    void delayAtLeastBurstNeverDelays() {
        RateLimiter l = limiter("10r/s").burst(3).delay(10).build();
        for (int i = 0; i < 4; i++) {
            assertSame(Decision.allowed(), l.tryAcquire("k"));
        }
        assertTrue(l.tryAcquire("k").isRejected());
    }

    @Test
    void delayRoundingToZeroMeansNoDelay() {
        // 2000 r/s: rate 2000000; excess 1000 -> 1000 * 1000 / 2000000 = 0 ms: no delay at all
        RateLimiter l = limiter("2000r/s").burst(10).build();
        l.tryAcquire("k");
        assertSame(Decision.allowed(), l.tryAcquire("k")); // excess 1000
        assertEquals(1, l.tryAcquire("k").delayMillis()); // excess 2000
        ticker.setMillis(1); // 2000 - 2000 + 1000 = 1000 -> 0 ms again
        assertSame(Decision.allowed(), l.tryAcquire("k"));
    }

    @Test
    void perMinuteRates() {
        RateLimiter l = limiter("30r/m").build(); // rate = 30000 / 60 = 500
        assertEquals(500, l.rate().milliRequestsPerSecond());
        List<Long> accepted = acceptedTimes(l, "k", 0, 6001);
        assertEquals(List.of(0L, 2000L, 4000L, 6000L), accepted);
    }

    @Test
    void oneRequestPerMinuteIsTruncatedLikeNginx() {
        // 1r/m: rate = 1000 / 60 = 16 (truncated), so one request drains in 62.5 s, not 60 s.
        RateLimiter l = limiter("1r/m").build();
        assertEquals(16, l.rate().milliRequestsPerSecond());
        assertTrue(l.tryAcquire("k").isAllowed());
        ticker.setMillis(60_000);
        assertTrue(l.tryAcquire("k").isRejected());
        ticker.setMillis(62_499); // 0 - 16*62499/1000 + 1000 = 0 - 999 + 1000 = 1
        assertTrue(l.tryAcquire("k").isRejected());
        ticker.setMillis(62_500); // 16*62500/1000 = 1000
        assertTrue(l.tryAcquire("k").isAllowed());
    }

    @Test
    void rejectionDoesNotChangeState() {
        RateLimiter l = limiter("10r/s").burst(2).build();
        l.tryAcquire("k");
        l.tryAcquire("k");
        l.tryAcquire("k");
        long[] before = l.stateOf("k");
        assertArrayEquals(new long[] {2000, 0}, before);
        ticker.setMillis(30); // 2000 - 300 + 1000 = 2700 > 2000
        for (int i = 0; i < 10; i++) {
            assertTrue(l.tryAcquire("k").isRejected());
        }
        assertArrayEquals(before, l.stateOf("k"));
        ticker.setMillis(100); // 2000 - 1000 + 1000 = 2000: the rejections cost nothing
        assertEquals(200, l.tryAcquire("k").delayMillis());
    }

    @Test
    void zeroElapsedDoesNotMoveLast() {
        RateLimiter l = limiter("10r/s").burst(5).noDelay().build();
        ticker.setMillis(1000);
        l.tryAcquire("k");
        ticker.advanceNanos(999_999); // still millisecond 1000
        l.tryAcquire("k");
        assertArrayEquals(new long[] {1000, 1000}, l.stateOf("k"));
        ticker.setMillis(1001); // 1000 - 10 + 1000
        l.tryAcquire("k");
        assertArrayEquals(new long[] {1990, 1001}, l.stateOf("k"));
    }

    @Test
    void clockGoingBackLessThanAMinuteCountsAsNoTime() {
        RateLimiter l = limiter("10r/s").burst(5).noDelay().build();
        ticker.setMillis(100_000);
        l.tryAcquire("k");
        ticker.setMillis(70_000); // ms = -30000 -> 0: excess + 1000, last unchanged
        assertTrue(l.tryAcquire("k").isAllowed());
        assertArrayEquals(new long[] {1000, 100_000}, l.stateOf("k"));
    }

    @Test
    void clockGoingBackMoreThanAMinuteCountsAsOneMillisecond() {
        RateLimiter l = limiter("10r/s").burst(5).noDelay().build();
        ticker.setMillis(100_000);
        l.tryAcquire("k");
        l.tryAcquire("k"); // excess 1000
        ticker.setMillis(30_000); // ms = -70000 -> 1: 1000 - 10 + 1000, last = now
        assertTrue(l.tryAcquire("k").isAllowed());
        assertArrayEquals(new long[] {1990, 30_000}, l.stateOf("k"));
    }

    @Test
    void negativeTickerValuesUseFloorMilliseconds() {
        ManualTicker t = new ManualTicker(-1); // millisecond -1, not 0
        RateLimiter l = RateLimiter.builder().rate("10r/s").ticker(t).build();
        assertTrue(l.tryAcquire("k").isAllowed());
        assertArrayEquals(new long[] {0, -1}, l.stateOf("k"));
        t.advanceNanos(99_000_001L); // millisecond 99, 100 ms after -1: 0 - 1000 + 1000
        assertTrue(l.tryAcquire("k").isAllowed()); // truncating division would see 99 ms and reject
    }

    @Test
    void keysAreIndependent() {
        RateLimiter l = limiter("10r/s").build();
        assertTrue(l.tryAcquire("a").isAllowed());
        assertTrue(l.tryAcquire("b").isAllowed());
        assertTrue(l.tryAcquire("a").isRejected());
        assertTrue(l.tryAcquire("b").isRejected());
        assertTrue(l.tryAcquire("c").isAllowed());
    }

    @Test
    void emptyNullAndHugeKeysAreNotLimited() {
        RateLimiter l = limiter("1r/m").build();
        String huge = "x".repeat(65536);
        String justFits = "x".repeat(65535);
        for (int i = 0; i < 5; i++) {
            assertTrue(l.tryAcquire("").isAllowed());
            assertTrue(l.tryAcquire(null).isAllowed());
            assertTrue(l.tryAcquire(huge).isAllowed());
        }
        assertEquals(0, l.trackedKeys());
        assertTrue(l.tryAcquire(justFits).isAllowed());
        assertTrue(l.tryAcquire(justFits).isRejected());
        // 21846 three-byte chars = 65538 bytes: not limited
        String wide = "\u20ac".repeat(21846);
        assertTrue(l.tryAcquire(wide).isAllowed());
        assertTrue(l.tryAcquire(wide).isAllowed());
    }

    @Test
    void customRejectStatus() {
        RateLimiter l = limiter("10r/s").rejectStatus(429).build();
        l.tryAcquire("k");
        Decision d = l.tryAcquire("k");
        assertTrue(d.isRejected());
        assertEquals(429, d.status());
        assertEquals(429, l.rejectStatus());
    }

    @Test
    void keyMemoryIsBoundedByMaximumKeys() {
        RateLimiter l = limiter("10r/s").maximumKeys(100).build();
        for (int i = 0; i < 10_000; i++) {
            l.tryAcquire("key-" + i);
        }
        assertTrue(l.trackedKeys() <= 100, "tracked " + l.trackedKeys());
        assertTrue(l.trackedKeys() > 0);
    }

    @Test
    void idleStatesExpireOnlyOnceDrained() {
        RateLimiter l = limiter("10r/s").burst(5).build();
        assertEquals(Duration.ofSeconds(60), l.expireAfterIdle()); // drains in 600 ms; 60 s floor
        for (int i = 0; i < 100; i++) {
            l.tryAcquire("k" + i);
        }
        assertEquals(100, l.trackedKeys());
        ticker.advanceMillis(59_999);
        assertEquals(100, l.trackedKeys());
        ticker.advanceMillis(1);
        assertEquals(0, l.trackedKeys());
    }

    @Test
    void defaultExpiryCoversSlowDrains() {
        // 1r/m burst 10: a full bucket (11 requests) drains in 11000*1000/16 = 687500 ms
        RateLimiter l = limiter("1r/m").burst(10).build();
        assertEquals(Duration.ofMillis(687_501), l.expireAfterIdle());
        for (int i = 0; i < 11; i++) {
            assertTrue(l.tryAcquire("k").isAllowed());
        }
        ticker.setMillis(687_499); // not drained yet: 10000 - 16*687499/1000 + 1000 = 1
        assertEquals(1, l.trackedKeys());
        assertTrue(l.tryAcquire("k").isAllowed());
        // a forgotten state would have started over at excess 0
        assertArrayEquals(new long[] {1, 687_499}, l.stateOf("k"));
    }

    @Test
    void expiryIsConfigurable() {
        RateLimiter l = limiter("10r/s").expireAfterIdle(Duration.ofSeconds(5)).build();
        l.tryAcquire("k");
        ticker.advanceMillis(5_000);
        assertEquals(0, l.trackedKeys());
        assertNull(l.stateOf("k"));
    }

    @Test
    void concurrentRequestsOfOneKeyAreAccountedAtomically() throws Exception {
        RateLimiter l = limiter("10r/s").burst(999).noDelay().build();
        int threads = 4;
        int perThread = 1000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    int ok = 0;
                    for (int i = 0; i < perThread; i++) {
                        if (l.tryAcquire("shared").isAllowed()) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(1000, total); // the first + burst 999, at a frozen clock
            assertArrayEquals(new long[] {999_000, 0}, l.stateOf("shared"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void accessorsAndToString() {
        RateLimiter l = limiter("30r/m").burst(7).delay(3).build();
        assertEquals(Rate.perMinute(30), l.rate());
        assertEquals(7, l.burst());
        assertEquals(3, l.delay());
        assertFalse(l.isNoDelay());
        assertEquals(RateLimiter.DEFAULT_MAXIMUM_KEYS, l.maximumKeys());
        assertEquals("RateLimiter[rate=30r/m, burst=7, delay=3, status=503]", l.toString());
        RateLimiter n = limiter("10r/s").delay(3).noDelay().build();
        assertTrue(n.isNoDelay());
        RateLimiter d = limiter("10r/s").noDelay().delay(3).build(); // last wins
        assertFalse(d.isNoDelay());
    }

    @Test
    void builderValidationNamesFieldAndValue() {
        assertMessage("rate must be set, got null", () -> RateLimiter.builder().build());
        assertMessage("burst must be in 0..2147483647, got -1", () -> limiter("1r/s").burst(-1));
        assertMessage("delay must be in 0..2147483647, got -5", () -> limiter("1r/s").delay(-5));
        assertMessage("rejectStatus must be in 400..599, got 200", () -> limiter("1r/s").rejectStatus(200));
        assertMessage("rejectStatus must be in 400..599, got 600", () -> limiter("1r/s").rejectStatus(600));
        assertMessage("maximumKeys must be > 0, got 0", () -> limiter("1r/s").maximumKeys(0));
        assertMessage("expireAfterIdle must be > 0, got PT0S", () -> limiter("1r/s").expireAfterIdle(Duration.ZERO));
        assertMessage("rate must be > 0, got 0", () -> Rate.perSecond(0));
        assertMessage("rate must be > 0, got -3", () -> Rate.perMinute(-3));
    }

    @Test
    void rateParsing() {
        assertEquals(Rate.perSecond(10), Rate.parse("10r/s"));
        assertEquals(Rate.perMinute(30), Rate.parse("30r/m"));
        assertEquals(Rate.perSecond(7), Rate.parse("7")); // nginx reads a bare number as r/s
        assertEquals("30r/m", Rate.parse("30r/m").toString());
        assertEquals(10_000, Rate.parse("10r/s").milliRequestsPerSecond());
        assertEquals(116, Rate.parse("7r/m").milliRequestsPerSecond());
        assertEquals(Rate.perSecond(2147483647), Rate.parse("2147483647r/s"));
        assertMessage("bad rate '0r/s': rate must be > 0, got 0", () -> Rate.parse("0r/s"));
        assertMessage("bad rate '10r/h': expected <n>r/s or <n>r/m with a whole number n > 0",
                () -> Rate.parse("10r/h"));
        assertMessage("bad rate '1.5r/s': expected <n>r/s or <n>r/m with a whole number n > 0",
                () -> Rate.parse("1.5r/s"));
        assertMessage("bad rate '-1r/s': expected <n>r/s or <n>r/m with a whole number n > 0",
                () -> Rate.parse("-1r/s"));
        assertMessage("bad rate 'r/s': expected <n>r/s or <n>r/m with a whole number n > 0",
                () -> Rate.parse("r/s"));
        assertMessage("bad rate '': expected <n>r/s or <n>r/m with a whole number n > 0",
                () -> Rate.parse(""));
        assertMessage("bad rate '2147483648r/s': rate must be <= 2147483647, got 2147483648",
                () -> Rate.parse("2147483648r/s"));
        assertMessage("rate must not be null", () -> Rate.parse(null));
    }

    @Test
    void hugeRateAndLongIdleDoNotOverflow() {
        RateLimiter l = limiter("2147483647r/s").burst(1).build();
        ticker.setMillis(0);
        assertTrue(l.tryAcquire("k").isAllowed());
        ticker.setMillis(Long.MAX_VALUE / 1_000_000L);
        assertTrue(l.tryAcquire("k").isAllowed());
        assertNotNull(l.stateOf("k"));
        assertEquals(0, l.stateOf("k")[0]);
    }

    @Test
    void decidingKnownKeysDoesNotAllocate() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        org.junit.jupiter.api.Assumptions.assumeTrue(
                threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        RateLimiter allowing = limiter("10r/s").build();
        RateLimiter rejecting = limiter("1r/m").build();
        String[] keys = new String[64];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = "client-" + i;
        }
        long tid = Thread.currentThread().getId();
        long allocated = 0;
        int allowed = 0;
        int allowedSlow = 0;
        for (int round = 0; round < 2; round++) { // round 0 warms up
            long before = threads.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 102_400; i++) { // a multiple of 64 keys
                ticker.advanceMillis(2); // each key comes back every 128 ms: always allowed at 10r/s
                allowed += allowing.tryAcquire(keys[i & 63]).isAllowed() ? 1 : 0;
                allowedSlow += rejecting.tryAcquire(keys[i & 63]).isAllowed() ? 1 : 0;
            }
            allocated = threads.getThreadAllocatedBytes(tid) - before;
        }
        assertTrue(allocated < 10_000, "allocated " + allocated + " bytes in 204800 decisions");
        assertEquals(204_800, allowed);
        // 409.6 s in all; 1r/m lets each key through about once per 62.5 s
        assertTrue(allowedSlow >= 64 * 6 && allowedSlow <= 64 * 7, "allowed at 1r/m: " + allowedSlow);
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(expected, e.getMessage());
    }
}
