package io.lbkit.core.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Envoy's fully jittered exponential back-off. */
class RetryBackoffTest {

    private static final long MS = 1_000_000L;

    @Test
    void envoyDefaultIntervals() {
        RetryBackoff b = RetryBackoff.envoyDefault();
        assertEquals(Duration.ofMillis(25), b.base());
        assertEquals(Duration.ofMillis(250), b.max());
        long[] expected = {25, 50, 100, 200, 250, 250, 250};
        for (int n = 1; n <= expected.length; n++) {
            assertEquals(expected[n - 1] * MS, b.intervalNanos(n), "retry " + n);
        }
        assertEquals(250 * MS, b.intervalNanos(Integer.MAX_VALUE));
    }

    @Test
    void fullJitter() {
        RetryBackoff b = RetryBackoff.envoyDefault();
        assertEquals(0, b.backoffNanos(1, 0.0));
        assertEquals(12_500_000L, b.backoffNanos(1, 0.5));
        assertEquals(25 * MS - 1, b.backoffNanos(1, Math.nextDown(1.0)));
        assertEquals(50 * MS, b.backoffNanos(3, 0.5));
        for (int n = 1; n < 10; n++) {
            for (double r = 0; r < 1; r += 0.01) {
                long w = b.backoffNanos(n, r);
                assertTrue(w >= 0 && w < b.intervalNanos(n));
            }
        }
    }

    @Test
    void doublingStopsAtHalfOfMaxThenJumpsToMax() {
        // Envoy: next = (next < max / 2) ? next * 2 : max
        RetryBackoff b = RetryBackoff.builder().base(Duration.ofMillis(10)).max(Duration.ofMillis(35)).build();
        assertEquals(10 * MS, b.intervalNanos(1));
        assertEquals(20 * MS, b.intervalNanos(2));
        assertEquals(35 * MS, b.intervalNanos(3));
        RetryBackoff flat = RetryBackoff.builder().base(Duration.ofMillis(7)).max(Duration.ofMillis(7)).build();
        assertEquals(7 * MS, flat.intervalNanos(1));
        assertEquals(7 * MS, flat.intervalNanos(5));
    }

    @Test
    void maxDefaultsToTenTimesBase() {
        RetryBackoff b = RetryBackoff.builder().base(Duration.ofMillis(100)).build();
        assertEquals(Duration.ofSeconds(1), b.max());
        assertEquals(b, RetryBackoff.builder().base(Duration.ofMillis(100)).max(Duration.ofSeconds(1)).build());
    }

    @Test
    void validation() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryBackoff.builder().base(Duration.ZERO).build());
        assertTrue(e.getMessage().contains("base") && e.getMessage().contains("PT0S"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RetryBackoff.builder().base(Duration.ofMillis(50)).max(Duration.ofMillis(40)).build());
        assertTrue(e.getMessage().contains("max") && e.getMessage().contains("PT0.04S"), e.getMessage());
        RetryBackoff b = RetryBackoff.envoyDefault();
        assertThrows(IllegalArgumentException.class, () -> b.backoffNanos(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> b.backoffNanos(1, 1.0));
        assertThrows(IllegalArgumentException.class, () -> b.backoffNanos(1, -0.1));
        assertThrows(IllegalArgumentException.class, () -> b.backoffNanos(1, Double.NaN));
    }
}
