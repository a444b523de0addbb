package io.lbkit.core.limit;

import static io.lbkit.core.limit.RateLimiterTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConcurrencyLimiterTest {

    @Test
    void acquiresUpToTheLimitThenRejects() {
        ConcurrencyLimiter l = ConcurrencyLimiter.builder().maxConcurrent(3).build();
        assertTrue(l.tryAcquire("k"));
        assertTrue(l.tryAcquire("k"));
        assertTrue(l.tryAcquire("k"));
        assertFalse(l.tryAcquire("k"));
        assertEquals(3, l.inFlight("k"));
        assertEquals(503, l.rejectStatus());
        l.release("k");
        assertEquals(2, l.inFlight("k"));
        assertTrue(l.tryAcquire("k"));
        assertFalse(l.tryAcquire("k"));
    }

    @Test
    void keysAreIndependent() {
        ConcurrencyLimiter l = ConcurrencyLimiter.builder().maxConcurrent(1).build();
        assertTrue(l.tryAcquire("a"));
        assertTrue(l.tryAcquire("b"));
        assertFalse(l.tryAcquire("a"));
        assertFalse(l.tryAcquire("b"));
        l.release("a");
        assertTrue(l.tryAcquire("a"));
        assertFalse(l.tryAcquire("b"));
    }

    @Test
    void keysAtZeroAreForgotten() {
        ConcurrencyLimiter l = ConcurrencyLimiter.builder().maxConcurrent(2).build();
        for (int i = 0; i < 1000; i++) {
            assertTrue(l.tryAcquire("k" + i));
        }
        assertEquals(1000, l.trackedKeys());
        for (int i = 0; i < 1000; i++) {
            l.release("k" + i);
        }
        assertEquals(0, l.trackedKeys());
        assertEquals(0, l.inFlight("k1"));
    }

    @Test
    void countsNeverGoNegative() {
        ConcurrencyLimiter l = ConcurrencyLimiter.builder().maxConcurrent(1).build();
        l.release("never-acquired");
        assertEquals(0, l.inFlight("never-acquired"));
        assertEquals(0, l.trackedKeys());
        assertTrue(l.tryAcquire("k"));
        l.release("k");
        l.release("k"); // surplus: ignored
        l.release("k");
        assertEquals(0, l.inFlight("k"));
        assertTrue(l.tryAcquire("k"));
        assertFalse(l.tryAcquire("k")); // the surplus releases gave nothing extra
    }

    @Test
    void emptyNullAndLongKeysAreNotLimited() {
        ConcurrencyLimiter l = ConcurrencyLimiter.builder().maxConcurrent(1).build();
        String tooLong = "x".repeat(256);
        String justFits = "x".repeat(255);
        for (int i = 0; i < 5; i++) {
            assertTrue(l.tryAcquire(""));
            assertTrue(l.tryAcquire(null));
            assertTrue(l.tryAcquire(tooLong));
        }
        l.release("");
        l.release(null);
        l.release(tooLong);
        assertEquals(0, l.trackedKeys());
        assertTrue(l.tryAcquire(justFits));
        assertFalse(l.tryAcquire(justFits));
        String wide = "\u00e9".repeat(128); // 256 bytes in UTF-8
        assertTrue(l.tryAcquire(wide));
        assertTrue(l.tryAcquire(wide));
    }

    @Test
    void newKeysAreRejectedWhenTheTableIsFull() {
        ConcurrencyLimiter l = ConcurrencyLimiter.builder().maxConcurrent(5).maximumKeys(2).build();
        assertTrue(l.tryAcquire("a"));
        assertTrue(l.tryAcquire("b"));
        assertFalse(l.tryAcquire("c"));
        assertTrue(l.tryAcquire("a")); // known keys still work
        l.release("b");
        assertTrue(l.tryAcquire("c"));
    }

    @Test
    void customStatus() {
        ConcurrencyLimiter l = ConcurrencyLimiter.builder().maxConcurrent(1).rejectStatus(429).build();
        assertEquals(429, l.rejectStatus());
        assertEquals(1, l.maxConcurrent());
        assertEquals(ConcurrencyLimiter.DEFAULT_MAXIMUM_KEYS, l.maximumKeys());
        assertEquals("ConcurrencyLimiter[maxConcurrent=1, status=429]", l.toString());
    }

    @Test
    void validationNamesFieldAndValue() {
        assertMessage("maxConcurrent must be set, got 0", () -> ConcurrencyLimiter.builder().build());
        assertMessage("maxConcurrent must be in 1..65535, got 0",
                () -> ConcurrencyLimiter.builder().maxConcurrent(0));
        assertMessage("maxConcurrent must be in 1..65535, got 65536",
                () -> ConcurrencyLimiter.builder().maxConcurrent(65536));
        assertMessage("rejectStatus must be in 400..599, got 302",
                () -> ConcurrencyLimiter.builder().rejectStatus(302));
        assertMessage("maximumKeys must be > 0, got -1",
                () -> ConcurrencyLimiter.builder().maximumKeys(-1));
    }

    @Test
    void concurrentAcquireAndReleaseBalance() throws Exception {
        int limit = 4;
        ConcurrencyLimiter l = ConcurrencyLimiter.builder().maxConcurrent(limit).build();
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    int maxSeen = 0;
                    for (int i = 0; i < 20_000; i++) {
                        String key = "k" + (i % 3);
                        if (l.tryAcquire(key)) {
                            maxSeen = Math.max(maxSeen, l.inFlight(key));
                            l.release(key);
                        }
                    }
                    return maxSeen;
                }));
            }
            start.countDown();
            for (Future<Integer> f : results) {
                int maxSeen = f.get(60, TimeUnit.SECONDS);
                assertTrue(maxSeen <= limit, "saw " + maxSeen + " in flight");
            }
            assertEquals(0, l.trackedKeys());
            for (int k = 0; k < 3; k++) {
                assertEquals(0, l.inFlight("k" + k));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
