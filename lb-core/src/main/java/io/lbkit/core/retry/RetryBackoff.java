package io.lbkit.core.retry;

import java.time.Duration;
import java.util.Objects;

/**
 * Envoy's retry back-off: fully jittered exponential back-off
 * ({@code JitteredExponentialBackOffStrategy}). The wait before retry {@code n} is uniform in
 * {@code [0, interval(n))}, where {@code interval(1) = base} and each later interval doubles the
 * previous one until doubling would pass {@code max}, after which it is {@code max}. Defaults: base
 * 25 ms, max 10 × base, so the intervals are 25, 50, 100, 200, 250, 250, ... ms.
 *
 * <p>nginx retries at once, without back-off; use this only when you want Envoy's behaviour. The
 * computation is a pure function of its arguments: pass the random number in, so tests are
 * deterministic. Envoy computes in whole milliseconds ({@code random % interval_ms}); this class
 * computes in nanoseconds, so the waits are the same up to the sub-millisecond part.
 *
 * <p>Immutable and thread-safe.
 */
public final class RetryBackoff {

    /** Envoy's default base interval. */
    public static final Duration DEFAULT_BASE = Duration.ofMillis(25);

    private static final RetryBackoff ENVOY_DEFAULT = builder().build();

    private final long baseNanos;
    private final long maxNanos;

    private RetryBackoff(long baseNanos, long maxNanos) {
        this.baseNanos = baseNanos;
        this.maxNanos = maxNanos;
    }

    /** Envoy's default: base 25 ms, max 250 ms. */
    public static RetryBackoff envoyDefault() {
        return ENVOY_DEFAULT;
    }

    /** A builder with Envoy's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The base interval. */
    public Duration base() {
        return Duration.ofNanos(baseNanos);
    }

    /** The largest interval. */
    public Duration max() {
        return Duration.ofNanos(maxNanos);
    }

    /**
     * The upper bound (exclusive) of the wait before retry {@code retryNumber}: base for the first
     * retry, doubled per retry, then capped at max (Envoy: doubled while below max / 2, else max).
     *
     * @throws IllegalArgumentException when {@code retryNumber < 1}
     */
    public long intervalNanos(int retryNumber) {
        if (retryNumber < 1) {
            throw new IllegalArgumentException("retryNumber must be >= 1, got " + retryNumber);
        }
        long interval = baseNanos;
        for (int i = 1; i < retryNumber; i++) {
            if (interval < maxNanos / 2) {
                interval *= 2;
            } else {
                return maxNanos;
            }
        }
        return interval;
    }

    /**
     * The wait before retry {@code retryNumber} (1 for the first retry, that is the second
     * attempt): {@code floor(random × interval(retryNumber))}, in {@code [0, interval)}.
     *
     * @param random a uniform random number in {@code [0, 1)}, such as
     *               {@code ThreadLocalRandom.current().nextDouble()}
     * @throws IllegalArgumentException when {@code retryNumber < 1} or {@code random} is not in [0, 1)
     */
    public long backoffNanos(int retryNumber, double random) {
        if (!(random >= 0.0 && random < 1.0)) {
            throw new IllegalArgumentException("random must be in [0, 1), got " + random);
        }
        long interval = intervalNanos(retryNumber);
        long wait = (long) (random * interval);
        return Math.min(wait, interval - 1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RetryBackoff b && b.baseNanos == baseNanos && b.maxNanos == maxNanos;
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseNanos, maxNanos);
    }

    @Override
    public String toString() {
        return "RetryBackoff[base=" + base() + ", max=" + max() + "]";
    }

    /**
     * Builds a {@link RetryBackoff}. Values are checked by {@link #build()}, which throws
     * {@link IllegalArgumentException} naming the field and the bad value.
     */
    public static final class Builder {
        private Duration base = DEFAULT_BASE;
        private Duration max;

        private Builder() {
        }

        /** Envoy {@code base_interval}: greater than zero, default 25 ms. */
        public Builder base(Duration base) {
            this.base = Objects.requireNonNull(base, "base");
            return this;
        }

        /** Envoy {@code max_interval}: at least base, default 10 × base. */
        public Builder max(Duration max) {
            this.max = Objects.requireNonNull(max, "max");
            return this;
        }

        /** Checks the settings and builds the back-off. */
        public RetryBackoff build() {
            if (base.isNegative() || base.isZero()) {
                throw new IllegalArgumentException("base must be > 0, got " + base);
            }
            long baseNanos = nanos("base", base);
            long maxNanos;
            if (max == null) {
                if (baseNanos > Long.MAX_VALUE / 10) {
                    throw new IllegalArgumentException("base is too large, got " + base);
                }
                maxNanos = baseNanos * 10;
            } else {
                maxNanos = nanos("max", max);
                if (maxNanos < baseNanos) {
                    throw new IllegalArgumentException("max must be >= base (" + base + "), got " + max);
                }
            }
            return new RetryBackoff(baseNanos, maxNanos);
        }

        private static long nanos(String field, Duration d) {
            try {
                return d.toNanos();
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(field + " is too large, got " + d);
            }
        }
    }
}
