package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The outlier rules on their own, without an upstream: the ejector's context tasks run at once and
 * every ejection change is recorded. {@link HealthMonitorTest} covers the same rules through a real
 * upstream and the monitor's state machine.
 */
class OutlierEjectorTest {

    private final TestTicker ticker = new TestTicker();
    private final Map<String, EndpointTracker> members = new LinkedHashMap<>();
    /** "id: reason" of every ejection change, in order. */
    private final List<String> changes = new ArrayList<>();
    private int tasks;

    private OutlierEjector ejector(int n, OutlierDetection od) {
        for (int i = 0; i < n; i++) {
            EndpointTracker t = new EndpointTracker(null, id(i), EndpointHealthState.UP);
            t.state = EndpointHealthState.UP;
            members.put(t.id, t);
        }
        return new OutlierEjector(od, ticker, "pool", members.values(), new OutlierEjector.Monitor() {
            @Override
            public void runInContext(Runnable task) {
                tasks++;
                task.run();
            }

            @Override
            public void ejectionChanged(EndpointTracker t, String reason) {
                changes.add(t.id + ": " + reason);
                t.state = t.joined();
                t.publishView();
            }
        });
    }

    private static String id(int i) {
        return "e" + i + ":80";
    }

    private EndpointTracker t(int i) {
        return members.get(id(i));
    }

    private static void record(OutlierEjector ejector, EndpointTracker t, int status, int times) {
        for (int i = 0; i < times; i++) {
            ejector.record(t, Outcome.RESPONSE, status);
        }
    }

    /** {@code volume} requests of which {@code failures} are 500s, alternating with the 200s while both last. */
    private static void traffic(OutlierEjector ejector, EndpointTracker t, int volume, int failures) {
        int oks = volume - failures;
        while (oks > 0 || failures > 0) {
            if (oks > 0) {
                ejector.record(t, Outcome.RESPONSE, 200);
                oks--;
            }
            if (failures > 0) {
                ejector.record(t, Outcome.RESPONSE, 500);
                failures--;
            }
        }
    }

    private static OutlierDetection.Builder statisticalOnly() {
        return OutlierDetection.builder().consecutive5xx(1_000_000).consecutiveGatewayFailure(1_000_000);
    }

    // ---- success rate ----------------------------------------------------------------------

    @Test
    void successRateThresholdIsTheMeanMinusFactorTimesThePopulationStdev() {
        // rates 50, 100, 100, 100, 100: mean 90, stdev 20, threshold 90 - 1.9 × 20 = 52
        OutlierEjector e = ejector(5, statisticalOnly().maxEjectionPercent(20).build());
        traffic(e, t(0), 100, 50);
        for (int i = 1; i < 5; i++) {
            traffic(e, t(i), 100, 0);
        }
        e.sweep();
        assertEquals(List.of(id(0) + ": success rate 50.0% below threshold 52.0% (mean 90.0%); ejected for 30 s"),
                changes);
        assertTrue(t(0).ejected);
    }

    @Test
    void aRateEqualToTheThresholdStays() {
        // factor 0: the threshold is the mean; five equal rates are all at it, none below
        OutlierEjector e = ejector(5, statisticalOnly().successRateStdevFactor(0).maxEjectionPercent(100).build());
        for (int i = 0; i < 5; i++) {
            traffic(e, t(i), 100, 10);
        }
        e.sweep();
        assertEquals(List.of(), changes);
    }

    @Test
    void anEjectedEndpointTakesNoPartInTheStatistics() {
        OutlierEjector e = ejector(5, statisticalOnly().consecutive5xx(5).maxEjectionPercent(40).build());
        record(e, t(4), 500, 5);
        assertTrue(t(4).ejected, "consecutive 5xx");
        traffic(e, t(0), 100, 50);
        for (int i = 1; i < 5; i++) {
            traffic(e, t(i), 100, 0); // the ejected one too (a sticky client, or panic)
        }
        e.sweep();
        assertFalse(t(0).ejected, "four endpoints in the pass, fewer than the five needed");
        assertEquals(1, changes.size(), changes.toString());
    }

    // ---- failure percentage ----------------------------------------------------------------

    @Test
    void failurePercentageEjectsAtTheThresholdAndNotBelow() {
        OutlierEjector e = ejector(6, statisticalOnly().enforcingSuccessRate(0).enforcingFailurePercentage(100)
                .maxEjectionPercent(50).build());
        traffic(e, t(0), 100, 85);
        traffic(e, t(1), 100, 84);
        for (int i = 2; i < 6; i++) {
            traffic(e, t(i), 100, 0);
        }
        e.sweep();
        assertTrue(t(0).ejected, "85% >= 85%");
        assertFalse(t(1).ejected, "84% < 85%");
        assertEquals(List.of(id(0) + ": failure percentage 85.0% >= 85%; ejected for 30 s"), changes);
    }

    // ---- max ejection percent --------------------------------------------------------------

    @Test
    void consecutiveAndStatisticalEjectionsShareTheMaxEjectionPercent() {
        OutlierEjector e = ejector(10, OutlierDetection.envoyDefaults());
        record(e, t(9), 500, 5);
        assertTrue(t(9).ejected, "1 of 10 = 10%");
        traffic(e, t(0), 100, 50);
        for (int i = 1; i < 9; i++) {
            traffic(e, t(i), 100, 0);
        }
        e.sweep();
        assertFalse(t(0).ejected, "a success-rate outlier too would make 2 of 10 = 20%");

        ticker.advance(Duration.ofSeconds(30));
        e.sweep(); // ends t(9)'s ejection
        assertFalse(t(9).ejected);
        traffic(e, t(0), 100, 50);
        for (int i = 1; i < 9; i++) {
            traffic(e, t(i), 100, 0);
        }
        e.sweep();
        assertTrue(t(0).ejected, "the same interval with nobody else ejected");
    }

    @Test
    void aRefusedDetectionStillEndsTheStreak() {
        OutlierEjector e = ejector(3, OutlierDetection.envoyDefaults()); // one of three = 33% > 10%
        record(e, t(0), 500, 5);
        assertEquals(1, tasks, "detected");
        assertFalse(t(0).ejected, "refused");
        record(e, t(0), 500, 4);
        assertEquals(1, tasks, "a new streak starts from zero");
        record(e, t(0), 500, 1);
        assertEquals(2, tasks);
        assertFalse(t(0).ejected);
    }

    // ---- consecutive errors ----------------------------------------------------------------

    @Test
    void oneFailureThatEndsBothStreaksEjectsOnce() {
        OutlierEjector e = ejector(10, OutlierDetection.builder().enforcingConsecutiveGatewayFailure(100).build());
        record(e, t(0), 503, 5);
        assertEquals(2, tasks, "both streaks reached five");
        assertEquals(1, t(0).ejections);
        assertEquals(List.of(id(0) + ": consecutive gateway failures: 5; ejected for 30 s"), changes);
    }

    @Test
    void cancelledAttemptsAreNotCounted() {
        OutlierEjector e = ejector(1, OutlierDetection.envoyDefaults());
        e.record(t(0), Outcome.CANCELLED, 0);
        assertEquals(0, t(0).counts.sum());
        e.record(t(0), Outcome.CONNECT_FAILURE, 0);
        assertEquals(EndpointTracker.FAILED_REQUEST, t(0).counts.sum());
        assertEquals(1, EndpointTracker.gateway(t(0).streaks), "a connect failure is a 503");
    }

    // ---- ejection time and back-off --------------------------------------------------------

    @Test
    void ejectionTimeGrowsToItsCapAndTheBackOffStopsOneStepAboveIt() {
        // base 10 s, max 25 s: 10, 20, 25, 25; the back-off grows while back-off × base < max + base
        OutlierEjector e = ejector(10, OutlierDetection.builder().baseEjectionTime(Duration.ofSeconds(10))
                .maxEjectionTime(Duration.ofSeconds(25)).build());
        long[] expected = {10, 20, 25, 25, 25};
        int[] backoff = {1, 2, 3, 4, 4};
        for (int n = 0; n < expected.length; n++) {
            record(e, t(0), 500, 5);
            assertTrue(t(0).ejected);
            assertEquals(backoff[n], t(0).backoff, "ejection " + (n + 1));
            ticker.advance(Duration.ofSeconds(expected[n]).minusNanos(1));
            e.sweep();
            assertTrue(t(0).ejected, "still out just before " + expected[n] + " s");
            ticker.advance(Duration.ofNanos(1));
            e.sweep();
            assertFalse(t(0).ejected, "back after " + expected[n] + " s");
        }
        for (int left = 3; left >= 0; left--) {
            ticker.advance(Duration.ofSeconds(10));
            e.sweep();
            assertEquals(left, t(0).backoff, "one step per interval back in");
        }
    }

    // ---- active checks and deployments -----------------------------------------------------

    @Test
    void aPassingCheckEndsTheEjectionOnlyWhenConfigured() {
        OutlierEjector on = ejector(10, OutlierDetection.envoyDefaults());
        record(on, t(0), 500, 5);
        assertTrue(on.unejectOnPassingCheck(t(0)));
        assertFalse(t(0).ejected);
        assertFalse(on.unejectOnPassingCheck(t(0)), "nothing to end");

        OutlierEjector off = new OutlierEjector(OutlierDetection.builder().successfulActiveCheckUnejects(false).build(),
                ticker, "pool", members.values(), new OutlierEjector.Monitor() {
                    @Override
                    public void runInContext(Runnable task) {
                        task.run();
                    }

                    @Override
                    public void ejectionChanged(EndpointTracker t, String reason) {
                    }
                });
        record(off, t(1), 500, 5);
        assertTrue(t(1).ejected);
        assertFalse(off.unejectOnPassingCheck(t(1)));
        assertTrue(t(1).ejected);
    }

    @Test
    void resetForgetsEjectionBackOffAndStreaks() {
        OutlierEjector e = ejector(10, OutlierDetection.envoyDefaults());
        record(e, t(0), 500, 5);
        e.reset(t(0));
        assertFalse(t(0).ejected);
        assertEquals(0, t(0).backoff);
        assertEquals(1, t(0).ejections, "the total stays");

        record(e, t(1), 502, 3); // not ejected: the streaks are running
        e.reset(t(1));
        assertEquals(0, t(1).streaks);
        record(e, t(1), 500, 4);
        assertFalse(t(1).ejected, "a whole new streak is needed");
        record(e, t(1), 500, 1);
        assertTrue(t(1).ejected);
    }
}
