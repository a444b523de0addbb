package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoundRobinTest {

    private static Upstream upstream(ManualTicker t, int maxFails, int... weights) {
        Upstream.Builder b = Upstream.builder("u").ticker(t).failureStatuses(Set.of(500, 502, 503, 504));
        for (int i = 0; i < weights.length; i++) {
            b.endpoint(Endpoint.builder("e" + i).weight(weights[i]).maxFails(maxFails)
                    .failTimeout(Duration.ofSeconds(10)).build());
        }
        return b.build();
    }

    @Test
    void nginxSmoothSequenceFor511() {
        Upstream u = upstream(new ManualTicker(), 1, 5, 1, 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 14; i++) {
            Selection s = u.pick();
            sb.append(s.endpoint().id().equals("e0") ? 'a' : s.endpoint().id().equals("e1") ? 'b' : 'c');
            s.complete(200, 1_000_000);
        }
        assertEquals("aabacaaaabacaa", sb.toString());
    }

    /**
     * A proxy serves each request on whichever container thread is free: the upstream must still
     * hand out nginx's sequence (one worker), not one sequence per thread.
     */
    @Test
    void picksFromManyThreadsFollowOneSequence() throws Exception {
        Upstream u = upstream(new ManualTicker(), 1, 5, 1, 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 14; i++) {
            String[] id = new String[1];
            Thread t = new Thread(() -> {
                Selection s = u.pick();
                id[0] = s.endpoint().id();
                s.complete(200, 1_000_000);
            });
            t.start();
            t.join();
            sb.append(id[0].equals("e0") ? 'a' : id[0].equals("e1") ? 'b' : 'c');
        }
        assertEquals("aabacaaaabacaa", sb.toString());
    }

    @Test
    void eachPeriodPicksEachPeerWeightTimes() {
        int[] weights = {3, 7, 1, 4, 4, 10};
        Upstream u = upstream(new ManualTicker(), 1, weights);
        int[] counts = new int[weights.length];
        for (int i = 0; i < 29 * 3; i++) {
            Selection s = u.pick();
            counts[Integer.parseInt(s.endpoint().id().substring(1))]++;
            s.complete(200, 0);
        }
        for (int i = 0; i < weights.length; i++) {
            assertEquals(weights[i] * 3, counts[i], "peer " + i);
        }
    }

    /**
     * Random failures, recoveries and time steps: the O(1) picker must produce exactly the picks of
     * nginx's loop, including effective-weight drop and +1 recovery and the fail_timeout ban.
     */
    @Test
    void matchesNginxModelThroughFailuresAndRecovery() {
        for (int seed = 0; seed < 20; seed++) {
            Random rnd = new Random(seed);
            int n = 2 + rnd.nextInt(6);
            int[] weights = new int[n];
            for (int i = 0; i < n; i++) {
                weights[i] = 1 + rnd.nextInt(9);
            }
            int maxFails = 1 + rnd.nextInt(3);
            ManualTicker t = new ManualTicker();
            Upstream u = upstream(t, maxFails, weights);
            NginxRoundRobinModel model = new NginxRoundRobinModel(weights, maxFails, Duration.ofSeconds(10).toNanos());
            List<String> diffs = new ArrayList<>();
            for (int step = 0; step < 5000; step++) {
                long now = t.nanos();
                int expected = model.pick(now);
                Selection s = u.pick();
                int actual = s.found() ? Integer.parseInt(s.endpoint().id().substring(1)) : -1;
                if (expected < 0) {
                    // nginx marks every peer live again and answers 502; so do we
                    assertFalse(s.found(), "seed " + seed + " step " + step);
                    for (int i = 0; i < n; i++) {
                        model.fails[i] = 0;
                    }
                    continue;
                }
                if (expected != actual) {
                    diffs.add("seed " + seed + " step " + step + ": nginx " + expected + ", lbkit " + actual);
                    break;
                }
                boolean fail = rnd.nextInt(100) < 3;
                model.free(expected, fail, now);
                s.complete(fail ? 502 : 200, 1_000_000);
                if (rnd.nextInt(100) < 2) {
                    t.advance(Duration.ofSeconds(1 + rnd.nextInt(12)));
                }
            }
            assertTrue(diffs.isEmpty(), diffs.toString());
        }
    }

    @Test
    void returnsToConstantTimePathAfterRecovery() {
        ManualTicker t = new ManualTicker();
        Upstream u = upstream(t, 2, 4, 2, 1);
        Selection s = u.pick();
        s.complete(502, 0);  // effective weight of e0 drops 4 -> 2
        assertTrue(u.irregular > 0);
        for (int i = 0; i < 200; i++) {
            u.pick().complete(200, 0);
        }
        assertEquals(0, u.irregular, "effective weight recovered");
    }

    /**
     * After an episode of failures and retries the thread's state is off the cycle from zero; the
     * picker must still follow nginx pick for pick, and must return to its O(1) walk once every
     * peer is regular again.
     */
    @Test
    void followsNginxThroughEpisodeAndReturnsToConstantTime() {
        for (int seed = 0; seed < 100; seed++) {
            Random rnd = new Random(seed);
            int n = 2 + rnd.nextInt(8);
            int[] weights = new int[n];
            for (int i = 0; i < n; i++) {
                weights[i] = 1 + rnd.nextInt(rnd.nextBoolean() ? 1 : 9);
            }
            int maxFails = 1 + rnd.nextInt(3);
            ManualTicker t = new ManualTicker();
            Upstream u = upstream(t, maxFails, weights);
            NginxRoundRobinModel model = new NginxRoundRobinModel(weights, maxFails, Duration.ofSeconds(10).toNanos());
            SwrrPicker picker = (SwrrPicker) u.primaryPicker();
            assertFalse(picker.explicitForCurrentThread(), "starts on the O(1) walk");
            PickRequest req = PickRequest.create();
            for (int step = 0; step < 6000; step++) {
                boolean episode = step < 2000;
                long now = t.nanos();
                req.reset();
                int expected = model.pick(now);
                Selection s = u.pick(req);
                if (expected < 0) {
                    assertFalse(s.found());
                    java.util.Arrays.fill(model.fails, 0);
                    continue;
                }
                assertEquals("e" + expected, s.endpoint().id(), "seed " + seed + " step " + step);
                boolean fail = episode && rnd.nextInt(20) == 0;
                model.free(expected, fail, now);
                s.complete(fail ? 502 : 200, 0);
                if (episode && rnd.nextInt(50) == 0) {
                    t.advance(Duration.ofSeconds(rnd.nextInt(12)));
                }
                if (step == 2000) {
                    t.advance(Duration.ofSeconds(11));
                }
            }
            assertFalse(picker.explicitForCurrentThread(), "seed " + seed + ": back on the O(1) walk");
        }
    }
}
