package io.lbkit.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RepeatsTest {

    @Test
    void oneLinePerIntervalWithTheCountOfTheOthers() {
        AtomicLong clock = new AtomicLong(1_000);
        Repeats r = new Repeats(Duration.ofSeconds(10), clock::get);
        assertEquals(0, r.admit()); // the first is logged at once
        for (int i = 0; i < 5; i++) {
            assertEquals(-1, r.admit());
        }
        clock.addAndGet(Duration.ofSeconds(9).toNanos());
        assertEquals(-1, r.admit());
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        assertEquals(6, r.admit()); // the interval is over: logged, with the six left out
        assertEquals(-1, r.admit());
        clock.addAndGet(Duration.ofMinutes(5).toNanos());
        assertEquals(1, r.admit());
        clock.addAndGet(Duration.ofMinutes(5).toNanos());
        assertEquals(0, r.admit());
    }

    @Test
    void notes() {
        assertEquals("", Repeats.note(0));
        assertEquals(" (and 3 more like this since the last such line)", Repeats.note(3));
        assertThrows(IllegalArgumentException.class, () -> new Repeats(Duration.ZERO));
    }
}
