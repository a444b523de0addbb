package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * HAProxy bounded loads ({@code hash-balance-factor}) for consistent-hash, maglev, jump and
 * rendezvous.
 *
 * <p>The bound, derived from HAProxy's {@code chash_server_is_eligible} (REFERENCE.md): with
 * {@code served} requests in flight, {@code T = ceil((served+1)·f/100)} slots are shared by weight;
 * endpoint i gets {@code w_i·floor(T/W) + floor((C_i+w_i)·r/W) − floor(C_i·r/W)} (r = T mod W,
 * C_i the cumulative weight before i), at least 1, and takes the request only while its in-flight
 * count is below that. Since {@code floor(a+b) − floor(a) ≤ ceil(b)}, those slots are at most
 * {@code ceil(T·w_i/W)}; so right after a request is assigned, with {@code c = served+1} in flight
 * (the new one included), the chosen endpoint holds at most {@code max(1, ceil(ceil(c·f/100)·w_i/W))},
 * which for equal weights is {@code ceil(c·m/n)} with m = f/100, as REFERENCE.md states.
 *
 * <p>"No endpoint ever exceeds" can only hold while no request completes: a completion lowers c
 * while other endpoints keep their load, so the bound for the new c may be below a load that was
 * legal when assigned (HAProxy does not migrate requests). The tests therefore check (a) every
 * endpoint after every pick during pick-only phases starting from zero, and (b) the chosen
 * endpoint after every pick when completions are interleaved.
 */
class BoundedLoadTest {

    private static final String[] POLICIES = {"consistent-hash", "maglev", "jump", "rendezvous"};
    private static final int[] FACTORS = {125, 150, 200};

    private static Upstream upstream(String policy, int factor, int[] weights) {
        Upstream.Builder b = Upstream.builder("u")
                .policy(BalancingPolicy.builder(policy).balanceFactor(factor).build());
        for (int i = 0; i < weights.length; i++) {
            b.endpoint(Endpoint.parseBuilder("10.2.0." + (i + 1) + ":80").weight(weights[i]).maxFails(0).build());
        }
        return b.build();
    }

    private static int[] equal(int n) {
        int[] w = new int[n];
        java.util.Arrays.fill(w, 1);
        return w;
    }

    /** The largest in-flight count endpoint of weight w may have after an assignment with c in flight. */
    private static long bound(long c, int factor, int w, long totalWeight) {
        long t = (c * factor + 99) / 100;
        return Math.max(1, (t * w + totalWeight - 1) / totalWeight);
    }

    private static Map<String, Integer> inFlight(Upstream u) {
        Map<String, Integer> out = new HashMap<>();
        for (Upstream.EndpointStatus s : u.statuses()) {
            out.put(s.endpoint().id(), s.inFlight());
        }
        return out;
    }

    /** Pick-only from empty, every request with the same key: every endpoint within the bound after every pick. */
    @Test
    void hotKeyPickOnlyNeverExceedsCeilCmOverN() {
        for (String policy : POLICIES) {
            for (int f : FACTORS) {
                for (int n : new int[] {2, 5, 8}) {
                    Upstream u = upstream(policy, f, equal(n));
                    PickRequest req = PickRequest.create();
                    List<Selection> held = new ArrayList<>();
                    for (int p = 0; p < 2_000; p++) {
                        Selection s = u.pick(req.reset().hashKey("the-hot-key"));
                        assertTrue(s.found(), policy + " f=" + f + " n=" + n + " pick " + p + ": " + s.reason());
                        held.add(s);
                        int c = held.size();
                        long b = bound(c, f, 1, n);
                        for (Map.Entry<String, Integer> e : inFlight(u).entrySet()) {
                            assertTrue(e.getValue() <= b, policy + " f=" + f + " n=" + n + " after " + c + " picks: "
                                    + e.getKey() + " has " + e.getValue() + " in flight > ceil(c·m/n) = " + b);
                        }
                    }
                    assertEquals(2_000, u.totalInFlight());
                    held.forEach(s -> s.complete(200, 0));
                    assertEquals(0, u.totalInFlight());
                }
            }
        }
    }

    /**
     * Skewed keys (90% one key, the rest spread) with completions interleaved at random positions:
     * the endpoint chosen by every pick is within the bound for the in-flight count at that moment.
     */
    @Test
    void skewedKeysWithCompletionsRespectTheBoundAtEveryAssignment() {
        for (String policy : POLICIES) {
            for (int f : FACTORS) {
                int n = 6;
                Upstream u = upstream(policy, f, equal(n));
                check(u, policy, f, equal(n), new SplittableRandom(f * 31L + policy.hashCode()), 6_000);
            }
        }
    }

    /** Weighted endpoints (jump ignores weights, so it is left out): ceil(ceil(c·f/100)·w/W). */
    @Test
    void weightedBoundForWeightedPolicies() {
        int[] w = {1, 2, 3, 1, 5};
        for (String policy : new String[] {"consistent-hash", "maglev", "rendezvous"}) {
            for (int f : FACTORS) {
                Upstream u = upstream(policy, f, w);
                check(u, policy, f, w, new SplittableRandom(99 + f), 6_000);
            }
        }
    }

    /**
     * Endpoints marked DOWN: the slots must be shared among the endpoints that can serve (HAProxy's
     * {@code tot_weight} counts only usable servers), so the bound uses n = the usable count. If a
     * down endpoint kept a share, the usable endpoints' slots would add up to less than c, none would
     * have room, and the pick would fall through to plain round robin, ignoring the bound. Checked
     * with balance factors 100 and 110 too (the builder accepts any factor ≥ 100), where the lost
     * share is felt first, and with two of five endpoints down.
     */
    @Test
    void downEndpointsDoNotTakeAShareOfTheSlots() {
        downEndpoints("maglev", "jump", "rendezvous");
    }

    /**
     * KNOWN BUG, left failing on purpose (KetamaPolicy.java is outside this change): KetamaPicker
     * builds {@code new BoundedLoad(balanceFactor, weight)} over every ring member, down ones
     * included, so with f=100/110 (one down) or f=125 (two of five down) the usable endpoints' slots
     * add up to less than c and picks fall through to round robin above the bound. Fix: pass the
     * weights with 0 for members where {@code usable[i]} is false (as JumpPolicy now does).
     */
    @Test
    void consistentHashDownEndpointsDoNotTakeAShareOfTheSlots() {
        downEndpoints("consistent-hash");
    }

    private static void downEndpoints(String... policies) {
        List<String> failures = new ArrayList<>(); // every failing combination, not just the first
        for (String policy : policies) {
            for (int down : new int[] {1, 2}) {
                for (int f : new int[] {100, 110, 125, 150, 200}) {
                    int n = 5;
                    Upstream u = upstream(policy, f, equal(n));
                    u.setState("10.2.0.2:80", EndpointState.DOWN);
                    if (down == 2) {
                        u.setState("10.2.0.4:80", EndpointState.DOWN);
                    }
                    int usable = n - down;
                    SplittableRandom rnd = new SplittableRandom(f * 7L + down);
                    PickRequest req = PickRequest.create();
                    List<Selection> held = new ArrayList<>();
                    steps:
                    for (int step = 0; step < 6_000; step++) {
                        if (!held.isEmpty() && rnd.nextInt(100) < 45) {
                            held.remove(rnd.nextInt(held.size())).complete(200, 0);
                            continue;
                        }
                        String key = rnd.nextInt(10) < 9 ? "hot" : "k" + rnd.nextInt(1_000);
                        Selection s = u.pick(req.reset().hashKey(key));
                        assertTrue(s.found());
                        held.add(s);
                        String id = s.endpoint().id();
                        int load = u.status(id).orElseThrow().inFlight();
                        long b = bound(held.size(), f, 1, usable);
                        if (load > b) {
                            failures.add(policy + " f=" + f + " with " + down + " of " + n
                                    + " endpoints down, step " + step + ": chose " + id + " which now has " + load
                                    + " of " + held.size() + " in flight > ceil(c·m/" + usable + ") = " + b
                                    + "; loads " + inFlight(u));
                            break steps;
                        }
                    }
                    held.forEach(s -> s.complete(200, 0));
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " combinations exceed the bound:\n" + String.join("\n", failures));
    }

    /** Without load, the hot key goes to its usual endpoint (bounded loads only divert overflow). */
    @Test
    void lightLoadKeepsKeysOnTheirHome() {
        for (String policy : POLICIES) {
            Upstream plain = Upstream.builder("p").policy(BalancingPolicy.builder(policy).build())
                    .endpoints(upstream(policy, 150, equal(5)).endpoints()).build();
            Upstream bounded = upstream(policy, 150, equal(5));
            PickRequest req = PickRequest.create();
            for (int k = 0; k < 2_000; k++) {
                Selection a = plain.pick(req.reset().hashKey("k" + k));
                Selection b = bounded.pick(req.reset().hashKey("k" + k));
                assertEquals(a.endpoint().id(), b.endpoint().id(), policy + " key k" + k);
                a.complete(200, 0);
                b.complete(200, 0);
            }
        }
    }

    private static void check(Upstream u, String policy, int f, int[] w, SplittableRandom rnd, int steps) {
        long totalWeight = 0;
        Map<String, Integer> weightOf = new HashMap<>();
        for (int i = 0; i < w.length; i++) {
            totalWeight += w[i];
            weightOf.put("10.2.0." + (i + 1) + ":80", w[i]);
        }
        PickRequest req = PickRequest.create();
        List<Selection> held = new ArrayList<>();
        for (int step = 0; step < steps; step++) {
            if (!held.isEmpty() && rnd.nextInt(100) < 40) {
                held.remove(rnd.nextInt(held.size())).complete(200, 1_000);
                continue;
            }
            String key = rnd.nextInt(10) < 9 ? "hot" : "k" + rnd.nextInt(1_000);
            Selection s = u.pick(req.reset().hashKey(key));
            assertTrue(s.found(), policy + " f=" + f + " step " + step);
            held.add(s);
            String id = s.endpoint().id();
            int load = u.status(id).orElseThrow().inFlight();
            long b = bound(held.size(), f, weightOf.get(id), totalWeight);
            assertTrue(load <= b, policy + " f=" + f + " step " + step + ": chose " + id + " (weight "
                    + weightOf.get(id) + ") which now has " + load + " of " + held.size() + " in flight > " + b);
            assertEquals(held.size(), u.totalInFlight());
        }
        held.forEach(s -> s.complete(200, 0));
        assertEquals(0, u.totalInFlight());
    }
}
