package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.PriorityQueue;
import org.junit.jupiter.api.Test;

/**
 * Least request (Envoy; power of k choices) and peak EWMA, in deterministic simulations: requests
 * are held open in a FIFO queue of fixed size (each completes after a fixed number of later picks),
 * policies are seeded, and time comes from a {@link ManualTicker}.
 */
class LeastRequestTest {

    /** Result of one simulation. */
    record Sim(int maxSpread, double meanSpread, long[] picks, int minViolations) {
        double share(int i) {
            return (double) picks[i] / Arrays.stream(picks).sum();
        }
    }

    private static Upstream upstream(BalancingPolicy p, int[] weights) {
        Upstream.Builder b = Upstream.builder("u").policy(p);
        for (int i = 0; i < weights.length; i++) {
            b.endpoint(Endpoint.parseBuilder("10.3.0." + i + ":80").weight(weights[i]).build());
        }
        return b.build();
    }

    private static int index(Selection s) {
        String id = s.endpoint().id();
        return Integer.parseInt(id.substring("10.3.0.".length(), id.indexOf(':')));
    }

    /**
     * Each step picks one request and, once {@code window} are open, completes the oldest. Records
     * the spread (max − min in flight over endpoints) after every step and how often the chosen
     * endpoint did not have the minimum in-flight count at the moment it was chosen.
     */
    private static Sim simulate(BalancingPolicy p, int[] weights, int window, int steps) {
        Upstream u = upstream(p, weights);
        int n = weights.length;
        int[] load = new int[n];
        ArrayDeque<Selection> open = new ArrayDeque<>();
        long[] picks = new long[n];
        int maxSpread = 0;
        long sumSpread = 0;
        int minViolations = 0;
        for (int step = 0; step < steps; step++) {
            int min = Arrays.stream(load).min().orElseThrow();
            Selection s = u.pick();
            int i = index(s);
            if (load[i] != min) {
                minViolations++;
            }
            load[i]++;
            picks[i]++;
            open.add(s);
            if (open.size() > window) {
                Selection done = open.poll();
                load[index(done)]--;
                done.complete(200, 1_000_000);
            }
            for (int k = 0; k < n; k++) {
                assertEquals(load[k], u.status("10.3.0." + k + ":80").orElseThrow().inFlight());
            }
            if (step >= window) {
                int spread = Arrays.stream(load).max().orElseThrow() - Arrays.stream(load).min().orElseThrow();
                maxSpread = Math.max(maxSpread, spread);
                sumSpread += spread;
            }
        }
        open.forEach(s -> s.complete(200, 0));
        return new Sim(maxSpread, (double) sumSpread / (steps - window), picks, minViolations);
    }

    private static int[] equal(int n) {
        int[] w = new int[n];
        Arrays.fill(w, 1);
        return w;
    }

    /**
     * Power of two choices keeps the load gap far below uniform random's: random's gap grows with the
     * square root of the per-endpoint load, two choices' like log log n. Same seed, same arrival and
     * completion pattern. With 200 open requests over 10 endpoints (20 each) least-request's worst
     * and mean spread must be at most half of random's (measured 11 vs 30 worst, 4.3 vs 14.3 mean);
     * with 50 open (5 each), where random's gap is smaller, strictly below random's (measured 7 vs 15
     * worst, 3.5 vs 6.8 mean).
     */
    @Test
    void twoChoicesKeepSpreadSmallComparedToRandom() {
        Sim random = simulate(BalancingPolicy.builder("random").seed(1).build(), equal(10), 200, 20_000);
        Sim lr = simulate(BalancingPolicy.builder("least-request").seed(1).build(), equal(10), 200, 20_000);
        assertTrue(lr.maxSpread() * 2 <= random.maxSpread(),
                "least-request worst spread " + lr.maxSpread() + ", random " + random.maxSpread());
        assertTrue(lr.meanSpread() * 2 < random.meanSpread(),
                "least-request mean spread " + lr.meanSpread() + ", random " + random.meanSpread());

        Sim random50 = simulate(BalancingPolicy.builder("random").seed(1).build(), equal(10), 50, 20_000);
        Sim lr50 = simulate(BalancingPolicy.builder("least-request").seed(1).build(), equal(10), 50, 20_000);
        assertTrue(lr50.maxSpread() < random50.maxSpread(), lr50.maxSpread() + " vs " + random50.maxSpread());
        assertTrue(lr50.meanSpread() < random50.meanSpread(), lr50.meanSpread() + " vs " + random50.meanSpread());
    }

    /**
     * choiceCount 10 over 10 endpoints: the 10 distinct choices are every endpoint, so every request
     * must go to a least-loaded endpoint (exactly what a full least-connections scan does), and the
     * spread never exceeds that of least-conn under the same load (2 in this FIFO model: one step adds
     * to a minimum and removes from the oldest).
     */
    @Test
    void tenChoicesOverTenEndpointsIsAFullScan() {
        for (int window : new int[] {20, 50, 200}) {
            Sim lc = simulate(BalancingPolicy.leastConn(), equal(10), window, 20_000);
            Sim lr = simulate(BalancingPolicy.builder("least-request").choiceCount(10).seed(3).build(), equal(10), window, 20_000);
            assertEquals(0, lr.minViolations(), "window " + window + ": picks that skipped a less loaded endpoint");
            assertTrue(lr.maxSpread() <= Math.max(2, lc.maxSpread()),
                    "window " + window + ": spread " + lr.maxSpread() + " vs least-conn " + lc.maxSpread());
            // tie-breaking is random, so the picks stay even
            for (int i = 0; i < 10; i++) {
                assertTrue(Math.abs(lr.share(i) - 0.1) < 0.01, "endpoint " + i + " share " + lr.share(i));
            }
        }
    }

    /** More choices never hurt: choiceCount 10 over 30 endpoints beats 2 choices. */
    @Test
    void moreChoicesBalanceBetter() {
        Sim two = simulate(BalancingPolicy.builder("least-request").seed(5).build(), equal(30), 200, 20_000);
        Sim ten = simulate(BalancingPolicy.builder("least-request").choiceCount(10).seed(5).build(), equal(30), 200, 20_000);
        assertTrue(ten.maxSpread() < two.maxSpread(), ten.maxSpread() + " vs " + two.maxSpread());
        assertTrue(ten.meanSpread() < two.meanSpread(), ten.meanSpread() + " vs " + two.meanSpread());
    }

    /**
     * Weighted least request (score weight/(active+1)): in steady state the choices equalize
     * w_i/(a_i+1), so the open requests — and, with FIFO completion, the picks — are shared in
     * proportion to weight, up to the "+1" offset (about n/window = 2% here) and two-choice sampling
     * noise. We allow 10% relative error per endpoint, which still rejects ignoring the weights (25%
     * each) or any inversion, and require strictly increasing shares.
     */
    @Test
    void weightedVariantIsProportional() {
        int[] w = {1, 2, 3, 4};
        for (int choices : new int[] {2, 4}) {
            Sim s = simulate(BalancingPolicy.builder("least-request").choiceCount(choices).seed(11).build(), w, 200, 40_000);
            for (int i = 0; i < w.length; i++) {
                double expected = w[i] / 10.0;
                assertTrue(Math.abs(s.share(i) - expected) <= 0.10 * expected,
                        "choices " + choices + ": weight " + w[i] + " got share " + s.share(i) + ", expected " + expected);
                if (i > 0) {
                    assertTrue(s.share(i) > s.share(i - 1));
                }
            }
        }
    }

    /**
     * Peak EWMA with every request completed at once (nothing in flight, so the score is the cost):
     * the fast endpoint (1 ms) must take nearly everything; the slow one (20 ms) only gets a probe
     * when its decayed cost (cost·e^(−t/10 s)) falls below the fast one's, which takes 10 s·ln 20 ≈
     * 30 s of simulated time, i.e. at most one probe per 30,000 one-millisecond steps.
     */
    @Test
    void peakEwmaPrefersTheFasterEndpoint() {
        ManualTicker t = new ManualTicker();
        Upstream u = Upstream.builder("u").ticker(t).policy(BalancingPolicy.builder("peak-ewma").seed(9).build())
                .endpoint(Endpoint.parse("10.3.0.0:80")).endpoint(Endpoint.parse("10.3.0.1:80")).build();
        long[] latency = {1_000_000L, 20_000_000L};
        long[] picks = new long[2];
        for (int step = 0; step < 10_000; step++) {
            t.advance(Duration.ofMillis(1));
            Selection s = u.pick();
            int i = index(s);
            picks[i]++;
            s.complete(200, latency[i]);
        }
        assertTrue(picks[1] <= 2, "slow endpoint picked " + picks[1] + " times of 10000");
    }

    /**
     * Peak EWMA with requests that stay open for their latency (completed in time order as the
     * ticker advances 1 ms per pick): three endpoints of 2, 10 and 50 ms. The cost·(in flight+1)
     * score must order the shares fast > medium > slow, and the fast one must take the majority.
     */
    @Test
    void peakEwmaWithOpenRequestsOrdersByLatency() {
        ManualTicker t = new ManualTicker();
        Upstream u = Upstream.builder("u").ticker(t)
                .policy(BalancingPolicy.builder("peak-ewma").choiceCount(2).seed(4).build())
                .endpoint(Endpoint.parse("10.3.0.0:80")).endpoint(Endpoint.parse("10.3.0.1:80"))
                .endpoint(Endpoint.parse("10.3.0.2:80")).build();
        long[] latencyMs = {2, 10, 50};
        long[] picks = new long[3];
        record Open(long due, Selection s, long latencyNanos) { }
        PriorityQueue<Open> open = new PriorityQueue<>((a, b) -> Long.compare(a.due(), b.due()));
        for (int step = 0; step < 20_000; step++) {
            t.advance(Duration.ofMillis(1));
            while (!open.isEmpty() && open.peek().due() <= t.nanos()) {
                Open o = open.poll();
                o.s().complete(200, o.latencyNanos());
            }
            Selection s = u.pick();
            int i = index(s);
            picks[i]++;
            long lat = latencyMs[i] * 1_000_000L;
            open.add(new Open(t.nanos() + lat, s, lat));
        }
        assertTrue(picks[0] > picks[1] && picks[1] > picks[2], Arrays.toString(picks));
        assertTrue(picks[0] > 10_000, Arrays.toString(picks));
    }

    /** With nothing in flight the weighted draws decide: shares follow the weights (5:2:1). */
    @Test
    void weightedSharesWithoutLoadFollowTheWeights() {
        Upstream u = Upstream.builder("u").policy(BalancingPolicy.builder("least-request").seed(11).build())
                .endpoint(Endpoint.builder("a").weight(5).build())
                .endpoint(Endpoint.builder("b").weight(2).build())
                .endpoint(Endpoint.builder("c").weight(1).build())
                .build();
        java.util.Map<String, Integer> counts = new java.util.HashMap<>();
        int n = 80_000;
        for (int i = 0; i < n; i++) {
            Selection s = u.pick();
            counts.merge(s.endpoint().id(), 1, Integer::sum);
            s.complete(200, 0);
        }
        // binomial sd of the smallest share is sqrt(n·p·(1-p)) ≈ 94 picks; allow 6 sd
        assertEquals(n * 5 / 8.0, counts.get("a"), 6 * Math.sqrt(n * 5 / 8.0 * 3 / 8.0));
        assertEquals(n * 2 / 8.0, counts.get("b"), 6 * Math.sqrt(n * 2 / 8.0 * 6 / 8.0));
        assertEquals(n / 8.0, counts.get("c"), 6 * Math.sqrt(n / 8.0 * 7 / 8.0));
    }
}
