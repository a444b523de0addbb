package io.lbkit.core;

/**
 * Envoy's least request: draw {@code choiceCount} distinct candidates at random and keep the one
 * with the fewest requests in flight (Envoy's behaviour with equal weights). With unequal weights
 * the draws are weighted and the candidate with the smallest {@code active^bias / weight} wins,
 * the first drawn on ties, so that with no load the shares follow the weights and under load the
 * in-flight counts follow them too (Envoy instead runs an EDF schedule over
 * {@code weight / (active+1)^bias}; both converge to weight-proportional load). Bias 0 ignores
 * load. O(choiceCount) per pick. Ineligible draws are redrawn (at most 20), then round robin.
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
    boolean readsInFlight() {
        return true;
    }

    @Override
    Picker newPicker(Candidates c) {
        return new TwoChoicePicker(c, rng, choices) {
            private final boolean uniform = uniformWeights(c.weights);

            @Override
            double score(int i, long now, boolean slowStart) {
                Member mm = m[i];
                double active = mm.inFlight();
                if (uniform && !slowStart) {
                    return -active;
                }
                if (bias == 0.0) {
                    return 0; // load ignored: the weighted draw alone decides
                }
                double wi = slowStart ? c.weightNow(mm, w[i], now) : w[i];
                return bias == 1.0 ? -active / wi : -Math.pow(active, bias) / wi;
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
