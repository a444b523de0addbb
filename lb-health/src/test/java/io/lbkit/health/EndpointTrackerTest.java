package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The packed request-path counters of {@link EndpointTracker}: exact under concurrency, streaks that never wrap. */
class EndpointTrackerTest {

    private static EndpointTracker tracker() {
        return new EndpointTracker(null, "a:1", EndpointHealthState.UP);
    }

    private static void inThreads(int threads, java.util.function.IntConsumer body) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < threads; i++) {
            int n = i;
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    body.accept(n);
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            t.start();
            all.add(t);
        }
        start.countDown();
        for (Thread t : all) {
            t.join(60_000);
        }
        assertEquals(List.of(), errors);
    }

    @Test
    void requestsAndFailuresArePackedIntoOneCounterAndTheSweepTakesThem() {
        EndpointTracker t = tracker();
        for (int i = 0; i < 7; i++) {
            t.success();
        }
        t.failure(false);
        t.failure(true);
        t.failure(true);
        long c = t.counts.sumThenReset();
        assertEquals(10, c >>> 32, "requests");
        assertEquals(3, c & 0xFFFF_FFFFL, "5xx-class failures");
        assertEquals(0, t.counts.sumThenReset(), "the next sweep starts from zero");
    }

    @Test
    void concurrentRecordingLosesNothing() throws InterruptedException {
        EndpointTracker t = tracker();
        int threads = 4;
        int each = 50_000;
        inThreads(threads, n -> {
            for (int i = 0; i < each; i++) {
                if (i % 10 == 0) {
                    t.failure((i & 1) == 0);
                } else {
                    t.success();
                }
            }
        });
        long c = t.counts.sumThenReset();
        assertEquals((long) threads * each, c >>> 32);
        assertEquals((long) threads * each / 10, c & 0xFFFF_FFFFL);
    }

    @Test
    void streaksFollowEnvoysClassification() {
        EndpointTracker t = tracker();
        long s = t.failure(false); // 500
        assertEquals(1, EndpointTracker.fiveXx(s));
        assertEquals(0, EndpointTracker.gateway(s));
        s = t.failure(true); // 503
        assertEquals(2, EndpointTracker.fiveXx(s));
        assertEquals(1, EndpointTracker.gateway(s));
        s = t.failure(true);
        assertEquals(3, EndpointTracker.fiveXx(s));
        assertEquals(2, EndpointTracker.gateway(s));
        s = t.failure(false); // a non-gateway 5xx ends the gateway streak only
        assertEquals(4, EndpointTracker.fiveXx(s));
        assertEquals(0, EndpointTracker.gateway(s));
        t.failure(true);
        t.clear5xx();
        assertEquals(0, EndpointTracker.fiveXx(t.streaks));
        assertEquals(1, EndpointTracker.gateway(t.streaks), "clearing 5xx keeps the gateway streak");
        t.failure(false);
        t.failure(true);
        t.clearGateway();
        assertEquals(2, EndpointTracker.fiveXx(t.streaks), "clearing gateway keeps the 5xx streak");
        assertEquals(0, EndpointTracker.gateway(t.streaks));
        t.success();
        assertEquals(0, t.streaks, "a success ends both");
        t.failure(true);
        t.clearStreaks();
        assertEquals(0, t.streaks);
    }

    @Test
    void streaksSaturateInsteadOfCarryingIntoEachOther() {
        EndpointTracker t = tracker();
        long nearMax = Integer.MAX_VALUE - 1L;
        t.streaks = nearMax | nearMax << 32;
        long s = t.failure(true);
        assertEquals(Integer.MAX_VALUE, EndpointTracker.fiveXx(s));
        assertEquals(Integer.MAX_VALUE, EndpointTracker.gateway(s));
        s = t.failure(true);
        assertEquals(Integer.MAX_VALUE, EndpointTracker.fiveXx(s));
        assertEquals(Integer.MAX_VALUE, EndpointTracker.gateway(s));
        t.streaks = nearMax;
        s = t.failure(false);
        s = t.failure(false);
        assertEquals(Integer.MAX_VALUE, EndpointTracker.fiveXx(s));
        assertEquals(0, EndpointTracker.gateway(s), "no carry from the 5xx half");
    }

    @Test
    void concurrentFailuresReachEachStreakValueExactlyOnce() throws InterruptedException {
        EndpointTracker t = tracker();
        int threads = 4;
        int each = 20_000;
        int threshold = 37_123;
        AtomicInteger fiveXxHits = new AtomicInteger();
        AtomicInteger gatewayHits = new AtomicInteger();
        inThreads(threads, n -> {
            for (int i = 0; i < each; i++) {
                long s = t.failure(true);
                if (EndpointTracker.fiveXx(s) == threshold) {
                    fiveXxHits.incrementAndGet();
                }
                if (EndpointTracker.gateway(s) == threshold) {
                    gatewayHits.incrementAndGet();
                }
            }
        });
        assertEquals(threads * each, EndpointTracker.fiveXx(t.streaks));
        assertEquals(threads * each, EndpointTracker.gateway(t.streaks));
        assertEquals(1, fiveXxHits.get(), "the threshold is seen by exactly one request");
        assertEquals(1, gatewayHits.get());
    }
}
