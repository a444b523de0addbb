package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AliasTableTest {

    @Test
    void drawsFollowTheWeights() {
        int[] w = {1, 2, 3, 10, 1, 7};
        long total = 0;
        for (int x : w) {
            total += x;
        }
        AliasTable t = new AliasTable(w);
        Rng rng = Rng.seeded(42);
        int draws = 600_000;
        long[] counts = new long[w.length];
        for (int i = 0; i < draws; i++) {
            counts[t.draw(rng)]++;
        }
        double chi2 = 0;
        for (int i = 0; i < w.length; i++) {
            double expected = (double) draws * w[i] / total;
            chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
        }
        // 5 degrees of freedom: P(chi2 > 25) < 0.0002 for a correct sampler
        assertTrue(chi2 < 25, "chi-square " + chi2);
    }

    @Test
    void equalWeightsAreUniformAndCoverEveryIndex() {
        AliasTable t = new AliasTable(new int[] {4, 4, 4});
        Rng rng = Rng.seeded(7);
        int[] counts = new int[3];
        for (int i = 0; i < 30_000; i++) {
            counts[t.draw(rng)]++;
        }
        for (int c : counts) {
            assertEquals(10_000, c, 500);
        }
    }
}
