package io.lbkit.core;

/**
 * Peak EWMA (Finagle, Linkerd): each endpoint's cost is a latency average that jumps up to any
 * slower sample at once and decays toward faster ones with time constant {@code decay}; the
 * picker draws {@code choiceCount} candidates (power of two choices) and keeps the smallest
 * {@code cost × (in flight + 1) / weight}. Before an endpoint has a sample its cost is
 * {@code defaultRtt}. Samples come from successful responses.
 */
final class PeakEwmaPolicy extends BalancingPolicy {

    private final Rng rng;
    private final int choices;
    private final double decayNanos;
    private final double defaultRttNanos;

    PeakEwmaPolicy(Rng rng, int choices, long decayNanos, long defaultRttNanos) {
        super("peak-ewma");
        this.rng = rng;
        this.choices = choices;
        this.decayNanos = decayNanos;
        this.defaultRttNanos = defaultRttNanos;
    }

    @Override
    double peakDecayNanos() {
        return decayNanos;
    }

    @Override
    boolean readsInFlight() {
        return true;
    }

    @Override
    Picker newPicker(Candidates c) {
        return new TwoChoicePicker(c, rng, choices) {
            @Override
            double score(int i, long now, boolean slowStart) {
                Member mm = m[i];
                double cost = mm.peakCost(now, decayNanos, defaultRttNanos);
                return -(cost * (mm.inFlight() + 1.0)) / w[i];
            }

            @Override
            boolean needsTime() {
                return true;
            }
        };
    }
}
