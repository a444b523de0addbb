package io.lbkit.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Slow start with Envoy's formula: a new or recovered endpoint's weight is
 * {@code weight × max(minWeightPercent/100, timeFactor^(1/aggression))} with
 * {@code timeFactor = max(t, 1 s) / window}, until {@code window} has passed.
 *
 * <p>Applies to round-robin, least-conn, least-request, random and random-two (Envoy applies it to
 * round robin and least request; nginx Plus to round robin and least_conn). The hashing policies
 * ignore it, since a changing weight would move keys.
 *
 * @param window           how long the ramp lasts
 * @param aggression       1.0 = linear; larger values ramp faster early on
 * @param minWeightPercent the floor of the ramp, in percent (Envoy default 10)
 */
public record SlowStart(Duration window, double aggression, double minWeightPercent) {

    private static final long ONE_SECOND = 1_000_000_000L;

    public SlowStart {
        Objects.requireNonNull(window, "window");
        if (window.isZero() || window.isNegative()) {
            throw new IllegalArgumentException("slowStart.window must be > 0, got " + window);
        }
        if (!(aggression > 0) || Double.isInfinite(aggression)) {
            throw new IllegalArgumentException("slowStart.aggression must be > 0, got " + aggression);
        }
        if (!(minWeightPercent >= 0 && minWeightPercent <= 100)) {
            throw new IllegalArgumentException(
                    "slowStart.minWeightPercent must be 0..100, got " + minWeightPercent);
        }
    }

    /** Envoy defaults (aggression 1.0, minimum 10%) with the given window. */
    public static SlowStart of(Duration window) {
        return new SlowStart(window, 1.0, 10.0);
    }

    /** The ramp factor in [min, 1] for an endpoint ramping since {@code since}. */
    public double factor(long since, long now) {
        if (since == Long.MIN_VALUE) {
            return 1.0;
        }
        long w = window.toNanos();
        long t = now - since;
        if (t >= w) {
            return 1.0;
        }
        double timeFactor = (double) Math.max(t, ONE_SECOND) / w;
        double f = aggression == 1.0 ? timeFactor : Math.pow(timeFactor, 1.0 / aggression);
        return Math.min(1.0, Math.max(minWeightPercent / 100.0, f));
    }

    /** Weights are ramped in hundredths, so that even weight 1 can start at a fraction of itself. */
    static final int SCALE = 100;

    /**
     * {@code weight × SCALE} ramped by {@link #factor}, at least 1: weights during slow start are
     * compared in hundredths, every endpoint's (ramping or not) scaled alike.
     */
    long rampedWeight(int weight, long since, long now) {
        if (since == Long.MIN_VALUE) {
            return (long) weight * SCALE;
        }
        return Math.max(1, Math.round(weight * (double) SCALE * factor(since, now)));
    }
}
