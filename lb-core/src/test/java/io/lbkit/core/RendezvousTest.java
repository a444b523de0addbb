package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Weighted rendezvous hashing: score = −w / ln(h(key, endpoint)), highest wins. */
class RendezvousTest {

    private static final int KEYS = 200_000;

    private static Upstream upstream(int... weights) {
        Upstream.Builder b = Upstream.builder("u").policy(BalancingPolicy.rendezvous());
        for (int i = 0; i < weights.length; i++) {
            b.endpoint(Endpoint.parseBuilder("10.1.0." + (i + 1) + ":8080").weight(weights[i]).build());
        }
        return b.build();
    }

    private static String[] owners(Upstream u) {
        PickRequest req = PickRequest.create();
        String[] out = new String[KEYS];
        for (int k = 0; k < KEYS; k++) {
            Selection s = u.pick(req.reset().hashKey("session-" + k));
            out[k] = s.endpoint().id();
            s.complete(200, 0);
        }
        return out;
    }

    /**
     * With score −w/ln(U), U uniform, P(endpoint i wins) = w_i/W exactly, so each endpoint's count is
     * Binomial(K, w_i/W). We allow 5 binomial standard deviations (for p=0.1 and K=200k, sd ≈ 134
     * keys, 0.07% of K): a correct implementation misses this with probability &lt; 1e-6 per endpoint,
     * and the keys are fixed so the outcome is deterministic; a bias of even 1% of a share fails.
     */
    @Test
    void sharesAreProportionalToWeight() {
        for (int[] weights : new int[][] {{1, 2, 3, 4}, {1, 1, 1, 1, 1}, {5, 1}, {1, 10, 100}}) {
            Upstream u = upstream(weights);
            String[] o = owners(u);
            long total = 0;
            for (int w : weights) {
                total += w;
            }
            for (int i = 0; i < weights.length; i++) {
                String id = "10.1.0." + (i + 1) + ":8080";
                int c = 0;
                for (String s : o) {
                    if (s.equals(id)) {
                        c++;
                    }
                }
                double p = (double) weights[i] / total;
                double sd = Math.sqrt(KEYS * p * (1 - p));
                assertTrue(Math.abs(c - KEYS * p) <= 5 * sd,
                        java.util.Arrays.toString(weights) + ": endpoint " + i + " got " + c + " keys, expected "
                                + KEYS * p + " ± " + 5 * sd);
            }
        }
    }

    @Test
    void removingAnEndpointMovesOnlyItsOwnKeys() {
        Upstream u = upstream(1, 2, 3, 4, 2);
        String[] before = owners(u);
        String removed = "10.1.0.3:8080";
        u.remove(removed);
        String[] after = owners(u);
        int own = 0;
        for (int k = 0; k < KEYS; k++) {
            if (before[k].equals(removed)) {
                own++;
                assertTrue(!after[k].equals(removed));
            } else {
                assertEquals(before[k], after[k], "key " + k + " moved although its endpoint stayed");
            }
        }
        assertTrue(own > 0);
    }

    @Test
    void addingAnEndpointMovesKeysOnlyToIt() {
        Upstream u = upstream(1, 2, 3, 4);
        String[] before = owners(u);
        String added = "10.1.0.99:8080";
        u.add(Endpoint.parseBuilder(added).weight(3).build());
        String[] after = owners(u);
        int moved = 0;
        for (int k = 0; k < KEYS; k++) {
            if (!after[k].equals(before[k])) {
                assertEquals(added, after[k], "key " + k + " moved between old endpoints");
                moved++;
            }
        }
        // the new endpoint takes its weighted share (3/13) from everyone: 5 binomial sd again
        double p = 3.0 / 13;
        assertTrue(Math.abs(moved - KEYS * p) <= 5 * Math.sqrt(KEYS * p * (1 - p)), "moved " + moved);
    }

    /** Marking an endpoint down moves only its keys as well, and bringing it back restores them. */
    @Test
    void downAndUpAgainMovesOnlyItsKeysAndRestoresThem() {
        Upstream u = upstream(2, 2, 2);
        String[] before = owners(u);
        u.setState("10.1.0.2:8080", EndpointState.DOWN);
        String[] down = owners(u);
        for (int k = 0; k < KEYS; k++) {
            if (!before[k].equals("10.1.0.2:8080")) {
                assertEquals(before[k], down[k]);
            }
        }
        u.setState("10.1.0.2:8080", EndpointState.UP);
        String[] again = owners(u);
        assertTrue(java.util.Arrays.equals(before, again));
    }
}
