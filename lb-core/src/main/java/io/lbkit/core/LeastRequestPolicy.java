package io.lbkit.core;

/**
 * Envoy's least request: draw {@code choiceCount} candidates uniformly at random (distinct when
 * there are enough eligible ones) and keep the best. With equal weights, the best has the fewest
 * requests in flight; with unequal weights, the largest {@code weight / (active + 1)^bias}
 * (bias 1.0 by default). O(choiceCount) per pick. Ineligible draws are redrawn (at most 20 draws),
 * then round robin.
 */
final class LeastRequestPolicy extends BalancingPolicy {

    private final Rng rng;
    private final int choices;
    private final double bias;

    LeastRequestPolicy(Rng rng, int choices, double bias) {
        super("least-request");
        this.rng = rng;
        this.choices = choices;
        this.bias = bias;
    }

    @Override
    Picker newPicker(Candidates c) {
        return new TwoChoicePicker(c, rng, choices) {
            private final boolean uniform = uniformWeights(c.weights);

            @Override
            double score(int i, long now, boolean slowStart) {
                Member mm = m[i];
                double active = mm.inFlight + 1.0;
                if (uniform && !slowStart) {
                    return -active;
                }
                double wi = slowStart ? c.weightNow(mm, w[i], now) : w[i];
                if (bias == 1.0) {
                    return wi / active;
                }
                return bias == 0.0 ? wi : wi / Math.pow(active, bias);
            }
        };
    }

    static boolean uniformWeights(int[] w) {
        for (int x : w) {
            if (x != w[0]) {
                return false;
            }
        }
        return true;
    }
}
