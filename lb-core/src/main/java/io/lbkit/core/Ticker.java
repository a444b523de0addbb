package io.lbkit.core;

/**
 * A source of monotonic time in nanoseconds. Every time-dependent rule in lbkit (fail_timeout,
 * slow start, EWMA decay, rate limits, retry budgets) reads time through a {@code Ticker}, so tests
 * inject a manual one instead of sleeping.
 */
@FunctionalInterface
public interface Ticker {

    /** Current time in nanoseconds from an arbitrary origin; only differences are meaningful. */
    long nanos();

    /** The system ticker, {@link System#nanoTime()}. */
    static Ticker system() {
        return System::nanoTime;
    }
}
