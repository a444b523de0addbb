package io.lbkit.core.retry;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's retry budget ({@code circuit_breakers.thresholds.retry_budget}): limits concurrent
 * retries to a share of the requests in flight, so that retries cannot multiply the load on an
 * upstream that is already failing.
 *
 * <p>A new retry is allowed while the retries in progress are fewer than
 * {@code max(floor(budgetPercent / 100 × activeRequests), minRetryConcurrency)}, exactly Envoy's
 * {@code RetryBudgetImpl::max()} / {@code canCreate()}. With the defaults (20 %, minimum 3) and 100
 * requests in flight, up to 20 retries run at once; with 10 requests, up to 3.
 *
 * <pre>{@code
 * RetryBudget budget = RetryBudget.envoyDefault();          // shared by every request of an upstream
 * budget.requestStarted();
 * try {
 *     ... attempt fails, policy says retry ...
 *     if (budget.tryAcquireRetry()) {
 *         try { retry(); } finally { budget.retryFinished(); }
 *     } else {
 *         giveUp();                                          // Envoy: upstream_rq_retry_overflow
 *     }
 * } finally {
 *     budget.requestFinished();
 * }
 * }</pre>
 * {@link RetryPolicy.Attempts} does this bookkeeping itself when started with a budget.
 *
 * <p>Thread-safe and allocation-free: active requests are a {@link LongAdder} (cheap under
 * contention), retries an {@link AtomicInteger} updated by compare-and-set so that the check and
 * the increment are one atomic step. Callers must balance every {@code requestStarted} with one
 * {@code requestFinished} and every successful {@code tryAcquireRetry} with one
 * {@code retryFinished}.
 */
public final class RetryBudget {

    /** Envoy's default {@code budget_percent}. */
    public static final double DEFAULT_BUDGET_PERCENT = 20.0;

    /** Envoy's default {@code min_retry_concurrency}. */
    public static final int DEFAULT_MIN_RETRY_CONCURRENCY = 3;

    private final double budgetPercent;
    private final int minRetryConcurrency;
    private final LongAdder activeRequests = new LongAdder();
    private final AtomicInteger activeRetries = new AtomicInteger();
    private final LongAdder overflows = new LongAdder();

    private RetryBudget(Builder b) {
        this.budgetPercent = b.budgetPercent;
        this.minRetryConcurrency = b.minRetryConcurrency;
    }

    /** A budget with Envoy's defaults: 20 % of active requests, at least 3 concurrent retries. */
    public static RetryBudget envoyDefault() {
        return builder().build();
    }

    /** A builder with Envoy's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Counts a request as active (Envoy: active plus pending requests). */
    public void requestStarted() {
        activeRequests.increment();
    }

    /** Counts a request as finished. */
    public void requestFinished() {
        activeRequests.decrement();
    }

    /**
     * Takes a retry slot if the budget allows one more concurrent retry. A {@code true} answer must
     * be balanced by {@link #retryFinished()} when the retry ends.
     *
     * @return whether the retry may go ahead; {@code false} counts as an overflow
     */
    public boolean tryAcquireRetry() {
        long limit = maxRetries();
        for (;;) {
            int current = activeRetries.get();
            if (current >= limit) {
                overflows.increment();
                return false;
            }
            if (activeRetries.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    /**
     * Releases a retry slot taken by {@link #tryAcquireRetry()}.
     *
     * @throws IllegalStateException when no slot is held
     */
    public void retryFinished() {
        for (;;) {
            int current = activeRetries.get();
            if (current <= 0) {
                throw new IllegalStateException("retryFinished() without a matching tryAcquireRetry()");
            }
            if (activeRetries.compareAndSet(current, current - 1)) {
                return;
            }
        }
    }

    /**
     * How many retries may be in progress at once right now:
     * {@code max(floor(budgetPercent / 100 × activeRequests), minRetryConcurrency)}.
     */
    public long maxRetries() {
        long active = Math.max(0L, activeRequests.sum());
        return Math.max((long) (budgetPercent / 100.0 * active), minRetryConcurrency);
    }

    /** Requests currently active (a momentary sum). */
    public long activeRequests() {
        return Math.max(0L, activeRequests.sum());
    }

    /** Retries currently in progress. */
    public int activeRetries() {
        return activeRetries.get();
    }

    /** How many retries were refused so far (Envoy's {@code upstream_rq_retry_overflow}). */
    public long overflowCount() {
        return overflows.sum();
    }

    /** The share of active requests that may be retries, in percent. */
    public double budgetPercent() {
        return budgetPercent;
    }

    /** The number of concurrent retries always allowed, however few requests are active. */
    public int minRetryConcurrency() {
        return minRetryConcurrency;
    }

    @Override
    public String toString() {
        return "RetryBudget[" + budgetPercent + "%, min " + minRetryConcurrency + ", requests="
                + activeRequests() + ", retries=" + activeRetries() + "]";
    }

    /**
     * Builds a {@link RetryBudget}. Values are checked by {@link #build()}, which throws
     * {@link IllegalArgumentException} naming the field and the bad value.
     */
    public static final class Builder {
        private double budgetPercent = DEFAULT_BUDGET_PERCENT;
        private int minRetryConcurrency = DEFAULT_MIN_RETRY_CONCURRENCY;

        private Builder() {
        }

        /** Envoy {@code budget_percent}: 0 to 100, default 20. */
        public Builder budgetPercent(double percent) {
            this.budgetPercent = percent;
            return this;
        }

        /** Envoy {@code min_retry_concurrency}: at least 0, default 3. */
        public Builder minRetryConcurrency(int min) {
            this.minRetryConcurrency = min;
            return this;
        }

        /** Checks the settings and builds the budget. */
        public RetryBudget build() {
            if (!(budgetPercent >= 0.0 && budgetPercent <= 100.0)) {
                throw new IllegalArgumentException("budgetPercent must be 0..100, got " + budgetPercent);
            }
            if (minRetryConcurrency < 0) {
                throw new IllegalArgumentException("minRetryConcurrency must be >= 0, got " + minRetryConcurrency);
            }
            return new RetryBudget(this);
        }
    }
}
