package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LatencyBucketsTest {

    @Test
    void everyLatencyFallsInABucketWhoseBoundsHoldItWithinAQuarter() {
        long previousUpper = 0;
        for (int i = 0; i < LatencyBuckets.COUNT; i++) {
            long upper = LatencyBuckets.upperMicros(i);
            assertTrue(upper > previousUpper, "bucket " + i + " grows");
            previousUpper = upper;
        }
        for (long us = 0; us < 5_000_000; us = us < 64 ? us + 1 : us * 17 / 16) {
            int i = LatencyBuckets.index(us * 1000);
            long upper = LatencyBuckets.upperMicros(i);
            long lower = i == 0 ? 0 : LatencyBuckets.upperMicros(i - 1);
            assertTrue(lower <= us && us < upper, us + " µs in [" + lower + ", " + upper + ")");
            assertTrue(us < 4 || upper <= lower * 1.25 + 1e-9, "bucket " + i + " spans at most 25 %: " + lower + ".." + upper);
        }
        assertEquals(0, LatencyBuckets.index(-5));
        assertEquals(LatencyBuckets.COUNT - 1, LatencyBuckets.index(Long.MAX_VALUE));
    }

    @Test
    void quantilesReadTheBucketOfTheirRank() {
        long[] counts = new long[LatencyBuckets.COUNT];
        assertEquals(-1, LatencyBuckets.quantileMicros(counts, 0.5));
        counts[LatencyBuckets.index(1_000_000)] = 90; // 90 at 1 ms
        counts[LatencyBuckets.index(50_000_000)] = 9; // 9 at 50 ms
        counts[LatencyBuckets.index(400_000_000)] = 1; // 1 at 400 ms
        assertEquals(LatencyBuckets.upperMicros(LatencyBuckets.index(1_000_000)), LatencyBuckets.quantileMicros(counts, 0.5));
        assertEquals(LatencyBuckets.upperMicros(LatencyBuckets.index(1_000_000)), LatencyBuckets.quantileMicros(counts, 0.90));
        assertEquals(LatencyBuckets.upperMicros(LatencyBuckets.index(50_000_000)), LatencyBuckets.quantileMicros(counts, 0.95));
        assertEquals(LatencyBuckets.upperMicros(LatencyBuckets.index(50_000_000)), LatencyBuckets.quantileMicros(counts, 0.99));
        assertEquals(LatencyBuckets.upperMicros(LatencyBuckets.index(400_000_000)), LatencyBuckets.quantileMicros(counts, 1.0));
        long p50 = LatencyBuckets.quantileMicros(counts, 0.5);
        assertTrue(p50 > 1000 && p50 <= 1250, "1 ms reads as at most 1.25 ms: " + p50);
    }
}
