package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The pure rise/fall counter and the interval choice, without any I/O or time. */
class RiseFallTest {

    /** Applies a pattern of 'P' (pass) and 'F' (fail) and returns the healthy view after each. */
    private static String run(InitialState initial, int rise, int fall, String pattern) {
        RiseFall s = RiseFall.initial(initial);
        StringBuilder out = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            s = s.apply(c == 'P', rise, fall);
            out.append(s.healthy() ? 'U' : 'd');
        }
        return out.toString();
    }

    @Test
    void checkingNeedsRiseConsecutivePasses() {
        assertEquals("ddU", run(InitialState.CHECKING, 3, 3, "PPP"));
        assertEquals("dUU", run(InitialState.CHECKING, 2, 3, "PPP"));
        assertEquals("dddU", run(InitialState.CHECKING, 2, 3, "PFPP"));
        assertEquals("U", run(InitialState.CHECKING, 1, 3, "P"));
    }

    @Test
    void healthyNeedsFallConsecutiveFailures() {
        // up after 2 passes, then F F P F F F: the pass resets the failure count
        assertEquals("dUUUUUUd", run(InitialState.CHECKING, 2, 3, "PPFFPFFF"));
        assertEquals("dUd", run(InitialState.CHECKING, 2, 1, "PPF"));
    }

    @Test
    void initialStatesFollowHaproxyInitState() {
        assertEquals("d", run(InitialState.CHECKING, 2, 3, "P"));
        assertEquals("U", run(InitialState.DOWN, 2, 3, "P"));       // init-state down: one pass
        assertEquals("d", run(InitialState.DOWN, 2, 3, "F"));
        assertEquals("d", run(InitialState.UP, 2, 3, "F"));         // init-state up: one failure
        assertEquals("UUU", run(InitialState.UP, 2, 3, "PFF"));
        assertEquals("UUd", run(InitialState.FULLY_UP, 2, 3, "FFF")); // fully-up: fall failures
        // after the provisional first result, ordinary rise/fall applies
        assertEquals("ddU", run(InitialState.UP, 2, 3, "FPP"));
    }

    @Test
    void countersAreConsecutiveAndReported() {
        RiseFall s = RiseFall.initial(InitialState.CHECKING);
        assertFalse(s.checked());
        s = s.apply(true, 2, 3);
        assertEquals(1, s.passes());
        assertEquals(0, s.failures());
        assertTrue(s.checked());
        s = s.apply(false, 2, 3).apply(false, 2, 3);
        assertEquals(0, s.passes());
        assertEquals(2, s.failures());
    }

    @Test
    void intervalChoiceFollowsInterFastinterDowninter() {
        ActiveCheck c = ActiveCheck.builder().interval(Duration.ofSeconds(2)).fastInterval(Duration.ofMillis(500))
                .downInterval(Duration.ofSeconds(10)).rise(2).fall(3).jitterPercent(0).build();
        RiseFall s = RiseFall.initial(InitialState.CHECKING);
        List<Long> delays = new ArrayList<>();
        delays.add(c.baseDelayNanos(s));   // not yet checked: fastinter
        s = s.apply(true, 2, 3);
        delays.add(c.baseDelayNanos(s));   // going up: fastinter
        s = s.apply(true, 2, 3);
        delays.add(c.baseDelayNanos(s));   // fully up: inter
        s = s.apply(false, 2, 3);
        delays.add(c.baseDelayNanos(s));   // going down: fastinter
        s = s.apply(false, 2, 3).apply(false, 2, 3);
        delays.add(c.baseDelayNanos(s));   // down: downinter
        assertEquals(List.of(500_000_000L, 500_000_000L, 2_000_000_000L, 500_000_000L, 10_000_000_000L), delays);
        assertEquals(10_000_000_000L, c.nextDelayNanos(s, 0.9)); // no jitter configured
    }

    @Test
    void defaultIntervalsAreAllInter() {
        ActiveCheck c = ActiveCheck.defaults();
        assertEquals(Duration.ofSeconds(2), c.interval());
        assertEquals(Duration.ofSeconds(2), c.fastInterval());
        assertEquals(Duration.ofSeconds(2), c.downInterval());
        assertEquals(Duration.ofSeconds(1), c.timeout());
        assertEquals(2, c.rise());
        assertEquals(3, c.fall());
        assertEquals(5, c.jitterPercent());
        assertEquals(InitialState.CHECKING, c.initialState());
        assertEquals(TcpCheck.connect(), c.probe());
    }

    @Test
    void jitterStaysWithinTheConfiguredSpread() {
        ActiveCheck c = ActiveCheck.builder().interval(Duration.ofSeconds(1)).jitterPercent(50).build();
        RiseFall up = new RiseFall(true, false, 5, 0, true);
        assertEquals(500_000_000L, c.nextDelayNanos(up, 0.0));
        assertEquals(1_000_000_000L, c.nextDelayNanos(up, 0.5));
        long max = c.nextDelayNanos(up, Math.nextDown(1.0));
        assertTrue(max <= 1_500_000_000L && max > 1_499_000_000L, "max " + max);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
        for (int i = 0; i < 10_000; i++) {
            long d = c.nextDelayNanos(up, rnd.nextDouble());
            assertTrue(d >= 500_000_000L && d <= 1_500_000_000L, "delay " + d);
        }
        ActiveCheck five = ActiveCheck.builder().interval(Duration.ofSeconds(2)).jitterPercent(5).build();
        assertEquals(1_900_000_000L, five.nextDelayNanos(up, 0.0));
        // the first probe is spread over [0, fastInterval)
        assertEquals(0L, five.firstDelayNanos(0.0));
        assertEquals(1_000_000_000L, five.firstDelayNanos(0.5));
    }
}
