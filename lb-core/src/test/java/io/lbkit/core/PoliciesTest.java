package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Quick behaviour checks of least-conn, first, backups, caps, draining, slow start and max_fails. */
class PoliciesTest {

    private static Endpoint ep(String id, int weight) {
        return Endpoint.parseBuilder(id).weight(weight).build();
    }

    private static Upstream upstream(BalancingPolicy p, Endpoint... eps) {
        return Upstream.builder("u").policy(p).endpoints(List.of(eps)).build();
    }

    // ------------------------------------------------------------------------------------------
    // least-conn
    // ------------------------------------------------------------------------------------------

    /**
     * Hand simulation, weights 1,1,1, nothing completes. nginx least_conn: the smallest conns/weight
     * wins; when several tie, smooth weighted round robin runs over the tied peers only
     * ({@code current += effective weight}, largest current wins, earlier on ties,
     * {@code winner.current -= total}); a unique winner leaves every current unchanged.
     * <pre>
     * pick  conns a,b,c  tied    current a,b,c after adding   winner  current after
     *  1    0,0,0        a,b,c   1, 1, 1   (total 3)          a       -2, 1, 1
     *  2    1,0,0        b,c     -2, 2, 2  (total 2)          b       -2, 0, 2
     *  3    1,1,0        -       (c alone)                    c       -2, 0, 2
     *  4    1,1,1        a,b,c   -1, 1, 3  (total 3)          c       -1, 1, 0
     *  5    1,1,2        a,b     0, 2, 0   (total 2)          b       0, 0, 0
     *  6    1,2,2        -       (a alone)                    a
     * </pre>
     */
    @Test
    void leastConnHandSimulation() {
        Upstream u = upstream(BalancingPolicy.leastConn(), ep("a", 1), ep("b", 1), ep("c", 1));
        StringBuilder seq = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            seq.append(u.pick().endpoint().id());
        }
        assertEquals("abccba", seq.toString());
    }

    /** nginx's least_conn loop, transcribed (no failures, no caps). */
    static final class NginxLeastConnModel {
        final int[] weight;
        final int[] conns;
        final long[] current;

        NginxLeastConnModel(int[] weight) {
            this.weight = weight;
            this.conns = new int[weight.length];
            this.current = new long[weight.length];
        }

        int pick() {
            int n = weight.length;
            int best = -1;
            boolean many = false;
            for (int i = 0; i < n; i++) {
                if (best < 0 || (long) conns[i] * weight[best] < (long) conns[best] * weight[i]) {
                    best = i;
                    many = false;
                } else if ((long) conns[i] * weight[best] == (long) conns[best] * weight[i]) {
                    many = true;
                }
            }
            if (many) {
                int first = best;
                long total = 0;
                for (int i = first; i < n; i++) {
                    if ((long) conns[i] * weight[first] != (long) conns[first] * weight[i]) {
                        continue;
                    }
                    current[i] += weight[i];
                    total += weight[i];
                    if (current[i] > current[best]) {
                        best = i;
                    }
                }
                current[best] -= total;
            }
            conns[best]++;
            return best;
        }
    }

    @Test
    void leastConnMatchesNginxModelWithCompletions() {
        for (int[] w : new int[][] {{1, 1, 1}, {1, 2, 3}, {5, 1, 1, 2}, {3, 3, 1, 1, 2, 2}}) {
            Endpoint[] eps = new Endpoint[w.length];
            for (int i = 0; i < w.length; i++) {
                eps[i] = ep("e" + i, w[i]);
            }
            Upstream u = upstream(BalancingPolicy.leastConn(), eps);
            NginxLeastConnModel model = new NginxLeastConnModel(w);
            ArrayDeque<Selection> open = new ArrayDeque<>();
            SplittableRandom rnd = new SplittableRandom(w.length);
            for (int step = 0; step < 3_000; step++) {
                int expected = model.pick();
                Selection s = u.pick();
                assertEquals("e" + expected, s.endpoint().id(), java.util.Arrays.toString(w) + " step " + step);
                open.add(s);
                // complete 0, 1 or 2 requests, the oldest or the newest
                int done = rnd.nextInt(3);
                for (int k = 0; k < done && !open.isEmpty(); k++) {
                    Selection d = rnd.nextBoolean() ? open.pollFirst() : open.pollLast();
                    model.conns[Integer.parseInt(d.endpoint().id().substring(1))]--;
                    d.complete(200, 0);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // round-robin fallback of the hashing and random policies
    // ------------------------------------------------------------------------------------------

    /**
     * A request without hash key or address makes the hashing policies fall back to round robin
     * (nginx: empty key → round robin; ip_hash instead hashes a pseudo-address, so one endpoint takes
     * them all, as in nginx). Every policy must serve such requests, and the hashing
     * policies (whose fallback is nginx's smooth weighted round robin) must spread them exactly:
     * 100 picks of each of three equal endpoints in 300 picks.
     */
    @Test
    void everyPolicyServesRequestsWithoutKey() {
        for (String policy : BalancingPolicy.NAMES) {
            Upstream u = upstream(BalancingPolicy.builder(policy).build(),
                    Endpoint.parse("10.8.0.1:80"), Endpoint.parse("10.8.0.2:80"), Endpoint.parse("10.8.0.3:80"));
            Map<String, Integer> c = countPicks(u, 300); // throws NoEndpointException if one is not found
            if (!policy.equals("ip-hash") && !policy.equals("first")) { // nginx pseudo-address; fill-first
                assertEquals(3, c.size(), policy + ": " + c);
            }
            if (List.of("hash", "consistent-hash", "maglev", "jump", "rendezvous").contains(policy)) {
                for (int n : c.values()) {
                    assertEquals(100, n, policy + ": " + c);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // first
    // ------------------------------------------------------------------------------------------

    @Test
    void firstFillsEndpointsInOrder() {
        Upstream u = upstream(BalancingPolicy.first(),
                Endpoint.parseBuilder("a").maxConnections(2).build(),
                Endpoint.parseBuilder("b").maxConnections(2).build(),
                Endpoint.parseBuilder("c").maxConnections(3).build());
        List<Selection> held = new ArrayList<>();
        StringBuilder seq = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            Selection s = u.pick();
            seq.append(s.endpoint().id());
            held.add(s);
        }
        assertEquals("aabbccc", seq.toString());
        Selection none = u.pick();
        assertFalse(none.found());
        assertEquals(Selection.NoEndpointReason.NONE_AVAILABLE, none.reason());
        held.get(3).complete(200, 0); // one of b's
        assertEquals("b", u.pick().endpoint().id());
        held.get(0).complete(200, 0); // one of a's
        assertEquals("a", u.pick().endpoint().id());
    }

    @Test
    void firstWithUncappedLastEndpointTakesTheOverflow() {
        Upstream u = upstream(BalancingPolicy.first(),
                Endpoint.parseBuilder("a").maxConnections(1).build(), Endpoint.parseBuilder("b").build());
        assertEquals("a", u.pick().endpoint().id());
        for (int i = 0; i < 50; i++) {
            assertEquals("b", u.pick().endpoint().id());
        }
    }

    // ------------------------------------------------------------------------------------------
    // backups
    // ------------------------------------------------------------------------------------------

    private static Upstream withBackup(String policy, int maxConns) {
        return Upstream.builder("u").policy(BalancingPolicy.builder(policy).build())
                .endpoint(Endpoint.parseBuilder("10.4.0.1:80").maxConnections(maxConns).build())
                .endpoint(Endpoint.parseBuilder("10.4.0.2:80").maxConnections(maxConns).build())
                .endpoint(Endpoint.parseBuilder("10.4.0.9:80").backup(true).build())
                .build();
    }

    private static final String BACKUP = "10.4.0.9:80";

    @Test
    void backupServesOnlyWhenNoPrimaryCan() {
        for (String policy : BalancingPolicy.NAMES) {
            PickRequest req = PickRequest.create();
            // normal operation: never the backup
            Upstream u = withBackup(policy, 0);
            for (int i = 0; i < 200; i++) {
                Selection s = u.pick(req.reset().hashKey("k" + i).clientAddress(new byte[] {10, 9, (byte) i, 1}));
                assertNotEquals(BACKUP, s.endpoint().id(), policy);
                s.complete(200, 0);
            }
            // all primaries down
            u.setState("10.4.0.1:80", EndpointState.DOWN);
            u.setState("10.4.0.2:80", EndpointState.DOWN);
            Selection s = u.pick(req.reset().hashKey("k"));
            assertEquals(BACKUP, s.endpoint().id(), policy + ": primaries down");
            s.complete(200, 0);
            u.setState("10.4.0.1:80", EndpointState.UP);
            s = u.pick(req.reset().hashKey("k"));
            assertEquals("10.4.0.1:80", s.endpoint().id(), policy + ": a primary is back");
            s.complete(200, 0);
            u.setState("10.4.0.2:80", EndpointState.UP);

            // all primaries tried by this request
            req.reset().hashKey("k");
            Selection a = u.pick(req);
            req.markTried(a);
            Selection b = u.pick(req);
            req.markTried(b);
            assertNotEquals(BACKUP, a.endpoint().id(), policy);
            assertNotEquals(BACKUP, b.endpoint().id(), policy);
            Selection c = u.pick(req);
            assertEquals(BACKUP, c.endpoint().id(), policy + ": primaries tried");
            a.complete(200, 0);
            b.complete(200, 0);
            c.complete(200, 0);

            // all primaries banned by max_fails
            Selection f1 = u.pick(req.reset().hashKey("x"));
            f1.complete(Outcome.CONNECT_FAILURE, 0, 0);
            Selection f2 = u.pick(req.reset().hashKey("x"));
            assertNotEquals(f1.endpoint().id(), f2.endpoint().id(), policy + ": picked a banned endpoint");
            f2.complete(Outcome.CONNECT_FAILURE, 0, 0);
            Selection bk = u.pick(req.reset().hashKey("x"));
            assertEquals(BACKUP, bk.endpoint().id(), policy + ": primaries banned");
            bk.complete(200, 0);

            // all primaries at their connection cap
            Upstream capped = withBackup(policy, 1);
            Selection p1 = capped.pick(req.reset().hashKey("y"));
            Selection p2 = capped.pick(req.reset().hashKey("y"));
            assertNotEquals(BACKUP, p1.endpoint().id(), policy);
            assertNotEquals(BACKUP, p2.endpoint().id(), policy);
            Selection p3 = capped.pick(req.reset().hashKey("y"));
            assertEquals(BACKUP, p3.endpoint().id(), policy + ": primaries at max connections");
            p1.complete(200, 0);
            Selection p4 = capped.pick(req.reset().hashKey("y"));
            assertEquals(p1.endpoint().id(), p4.endpoint().id(), policy + ": a primary has room again");
        }
    }

    // ------------------------------------------------------------------------------------------
    // max connections
    // ------------------------------------------------------------------------------------------

    @Test
    void maxConnectionsRespectedByEveryPolicy() {
        int[] caps = {1, 2, 3, 2};
        int[] weights = {1, 2, 3, 1};
        for (String policy : BalancingPolicy.NAMES) {
            Upstream.Builder b = Upstream.builder("u").policy(BalancingPolicy.builder(policy).build());
            for (int i = 0; i < caps.length; i++) {
                b.endpoint(Endpoint.parseBuilder("10.5.0." + i + ":80").weight(weights[i]).maxConnections(caps[i]).build());
            }
            Upstream u = b.build();
            SplittableRandom rnd = new SplittableRandom(policy.hashCode());
            PickRequest req = PickRequest.create();
            List<Selection> open = new ArrayList<>();
            int full = 0;
            for (int step = 0; step < 3_000; step++) {
                if (!open.isEmpty() && rnd.nextInt(100) < 35) {
                    open.remove(rnd.nextInt(open.size())).complete(200, 0);
                    continue;
                }
                req.reset();
                switch (rnd.nextInt(3)) {
                    case 0 -> req.hashKey("key-" + rnd.nextInt(50));
                    case 1 -> req.hashKey("hot").clientAddress(new byte[] {1, 2, 3, 4});
                    default -> { } // no key: the hash policies fall back to round robin
                }
                Selection s = u.pick(req);
                if (!s.found()) {
                    assertEquals(8, open.size(), policy + ": refused although there was room");
                    assertEquals(Selection.NoEndpointReason.NONE_AVAILABLE, s.reason(), policy);
                    full++;
                    continue;
                }
                open.add(s);
                for (int i = 0; i < caps.length; i++) {
                    int inFlight = u.status("10.5.0." + i + ":80").orElseThrow().inFlight();
                    assertTrue(inFlight <= caps[i], policy + " step " + step + ": endpoint " + i + " has "
                            + inFlight + " in flight, cap " + caps[i]);
                }
            }
            assertTrue(full > 0, policy + ": the simulation never reached the total cap");
            open.forEach(s -> s.complete(200, 0));
        }
    }

    // ------------------------------------------------------------------------------------------
    // draining
    // ------------------------------------------------------------------------------------------

    @Test
    void drainingEndpointServesOnlyRequestsThatPreferIt() {
        for (String policy : new String[] {"round-robin", "least-conn", "random", "maglev", "consistent-hash", "rendezvous"}) {
            Upstream u = upstream(BalancingPolicy.builder(policy).build(),
                    Endpoint.parse("10.6.0.1:80"), Endpoint.parse("10.6.0.2:80"), Endpoint.parse("10.6.0.3:80"));
            PickRequest req = PickRequest.create();
            Selection before = u.pick(req.reset().preferred("10.6.0.2:80"));
            assertEquals("10.6.0.2:80", before.endpoint().id(), policy);
            u.setState("10.6.0.2:80", EndpointState.DRAINING);
            for (int i = 0; i < 300; i++) {
                Selection s = u.pick(req.reset().hashKey("k" + i));
                assertNotEquals("10.6.0.2:80", s.endpoint().id(), policy + ": draining endpoint took a new request");
                s.complete(200, 0);
            }
            Selection sticky = u.pick(req.reset().hashKey("k").preferred("10.6.0.2:80"));
            assertEquals("10.6.0.2:80", sticky.endpoint().id(), policy + ": a request that prefers it still reaches it");
            sticky.complete(200, 0);
            before.complete(200, 0); // the request that was running finishes normally
            assertEquals(0, u.status("10.6.0.2:80").orElseThrow().inFlight());

            u.setState("10.6.0.2:80", EndpointState.DOWN);
            Selection s = u.pick(req.reset().hashKey("k").preferred("10.6.0.2:80"));
            assertTrue(s.found(), policy);
            assertNotEquals("10.6.0.2:80", s.endpoint().id(), policy + ": down endpoint served a preferring request");
            s.complete(200, 0);
        }
    }

    // ------------------------------------------------------------------------------------------
    // slow start
    // ------------------------------------------------------------------------------------------

    private static Map<String, Integer> countPicks(Upstream u, int picks) {
        Map<String, Integer> c = new java.util.HashMap<>();
        for (int i = 0; i < picks; i++) {
            Selection s = u.pick();
            c.merge(s.endpoint().id(), 1, Integer::sum);
            s.complete(200, 0);
        }
        return c;
    }

    /**
     * Four endpoints of weight 10 and a new one of weight 10 with a 60 s window (Envoy's formula,
     * minimum 10%): at first it counts as weight 1 (share 1/41 ≈ 2.4%), after 30 s as weight 5
     * (5/45 ≈ 11%), after the window as 10 (exactly 10 of every 50 round-robin picks).
     */
    @Test
    void slowStartRampsANewEndpoint() {
        ManualTicker t = new ManualTicker();
        Upstream u = Upstream.builder("u").ticker(t).slowStart(SlowStart.of(Duration.ofSeconds(60)))
                .endpoint(ep("a", 10)).endpoint(ep("b", 10)).endpoint(ep("c", 10)).endpoint(ep("d", 10)).build();
        assertEquals(100, countPicks(u, 400).get("a"), "existing endpoints are not ramping");
        u.add(ep("new", 10));
        int early = countPicks(u, 410).getOrDefault("new", 0);
        assertTrue(early >= 5 && early <= 15, "new endpoint got " + early + " of 410 picks at first (expected ≈ 10)");
        t.advance(Duration.ofSeconds(30));
        int half = countPicks(u, 450).getOrDefault("new", 0);
        assertTrue(half >= 40 && half <= 60, "new endpoint got " + half + " of 450 picks after 30 s (expected ≈ 50)");
        t.advance(Duration.ofSeconds(31));
        int full = countPicks(u, 500).getOrDefault("new", 0);
        assertTrue(Math.abs(full - 100) <= 2, "new endpoint got " + full + " of 500 picks after the window (expected 100)");
    }

    /** The same ramp for least-request (Envoy applies slow start to round robin and least request). */
    @Test
    void slowStartRampsForLeastRequest() {
        ManualTicker t = new ManualTicker();
        Upstream u = Upstream.builder("u").ticker(t).slowStart(SlowStart.of(Duration.ofSeconds(60)))
                .policy(BalancingPolicy.builder("least-request").seed(2).build())
                .endpoint(ep("a", 10)).endpoint(ep("b", 10)).endpoint(ep("c", 10)).build();
        u.add(ep("new", 10));
        int early = countPicks(u, 4_000).getOrDefault("new", 0);
        t.advance(Duration.ofSeconds(61));
        int full = countPicks(u, 4_000).getOrDefault("new", 0);
        assertTrue(early < full / 2, "ramping: " + early + ", after the window: " + full);
        assertTrue(Math.abs(full - 1_000) < 150, "after the window the new endpoint has a quarter: " + full);
    }

    // ------------------------------------------------------------------------------------------
    // max_fails / fail_timeout
    // ------------------------------------------------------------------------------------------

    private static Upstream failing(ManualTicker t, int maxFails, String... ids) {
        Upstream.Builder b = Upstream.builder("u").ticker(t);
        for (String id : ids) {
            b.endpoint(Endpoint.parseBuilder(id).maxFails(maxFails).failTimeout(Duration.ofSeconds(10)).build());
        }
        return b.build();
    }

    private static Selection pickUntil(Upstream u, String id, int limit) {
        for (int i = 0; i < limit; i++) {
            Selection s = u.pick();
            if (s.endpoint().id().equals(id)) {
                return s;
            }
            s.complete(200, 0);
        }
        return null;
    }

    @Test
    void maxFailsBansForFailTimeoutThenProbes() {
        ManualTicker t = new ManualTicker();
        Upstream u = failing(t, 1, "a", "b", "c");
        pickUntil(u, "a", 10).complete(Outcome.CONNECT_FAILURE, 0, 0);
        assertFalse(u.status("a").orElseThrow().available());
        // banned for fail_timeout (10 s), inclusive as in nginx (now - checked <= fail_timeout)
        for (int i = 0; i < 200; i++) {
            t.advance(Duration.ofMillis(50));
            Selection s = u.pick();
            assertNotEquals("a", s.endpoint().id(), "banned endpoint picked " + (i + 1) * 50 + " ms after the failure");
            s.complete(200, 0);
        }
        assertFalse(u.status("a").orElseThrow().available(), "exactly fail_timeout later it is still banned");
        t.advance(Duration.ofMillis(1));
        assertTrue(u.status("a").orElseThrow().available());
        // one probe; its effective weight climbs back from 0 by 1 per pick, so within a few picks
        Selection probe = pickUntil(u, "a", 10);
        assertTrue(probe != null, "no probe after fail_timeout");
        probe.complete(200, 0);
        assertEquals(0, u.status("a").orElseThrow().fails(), "a successful probe resets the failures");
        assertTrue(u.status("a").orElseThrow().available());

        // a failed probe bans it again for another fail_timeout
        pickUntil(u, "a", 10).complete(Outcome.CONNECT_FAILURE, 0, 0);
        t.advance(Duration.ofSeconds(10).plusMillis(1));
        Selection probe2 = pickUntil(u, "a", 10);
        assertTrue(probe2 != null);
        probe2.complete(Outcome.TIMEOUT, 0, 0);
        for (int i = 0; i < 100; i++) {
            t.advance(Duration.ofMillis(99));
            Selection s = u.pick();
            assertNotEquals("a", s.endpoint().id(), "re-banned endpoint picked");
            s.complete(200, 0);
        }
    }

    @Test
    void maxFailsTwoNeedsTwoFailuresWithinTheWindow() {
        ManualTicker t = new ManualTicker();
        Upstream u = failing(t, 2, "a", "b");
        pickUntil(u, "a", 10).complete(Outcome.CONNECT_FAILURE, 0, 0);
        assertTrue(u.status("a").orElseThrow().available(), "one failure of two allowed");
        pickUntil(u, "a", 10).complete(Outcome.RESET, 0, 0);
        assertFalse(u.status("a").orElseThrow().available(), "second failure bans");
        for (int i = 0; i < 50; i++) {
            Selection s = u.pick();
            assertEquals("b", s.endpoint().id());
            s.complete(200, 0);
        }
    }

    @Test
    void loneEndpointIsNeverBanned() {
        ManualTicker t = new ManualTicker();
        for (String policy : BalancingPolicy.NAMES) {
            Upstream u = Upstream.builder("u").ticker(t).policy(BalancingPolicy.builder(policy).build())
                    .endpoint(Endpoint.parseBuilder("solo:80").maxFails(1).build()).build();
            PickRequest req = PickRequest.create();
            for (int i = 0; i < 10; i++) {
                Selection s = u.pick(req.reset().hashKey("k" + i));
                assertTrue(s.found(), policy + ": lone endpoint refused after " + i + " failures");
                s.complete(Outcome.CONNECT_FAILURE, 0, 0);
                Upstream.EndpointStatus st = u.status("solo:80").orElseThrow();
                assertEquals(0, st.fails(), policy);
                assertTrue(st.available(), policy);
            }
        }
        // a group that becomes single by removal follows the rule too
        Upstream u = failing(t, 1, "a", "b");
        u.remove("b");
        for (int i = 0; i < 5; i++) {
            Selection s = u.pick();
            assertEquals("a", s.endpoint().id());
            s.complete(Outcome.CONNECT_FAILURE, 0, 0);
        }
        // ... but a primary with a backup is not alone: it is banned and the backup serves
        Upstream withBackup = Upstream.builder("u").ticker(t)
                .endpoint(Endpoint.parseBuilder("p").maxFails(1).build())
                .endpoint(Endpoint.parseBuilder("bk").backup(true).build()).build();
        withBackup.pick().complete(Outcome.CONNECT_FAILURE, 0, 0);
        assertEquals("bk", withBackup.pick().endpoint().id());
    }
}
