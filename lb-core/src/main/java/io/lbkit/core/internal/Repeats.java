package io.lbkit.core.internal;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Collapses a log line that repeats: the first occurrence is logged at once, later ones within the
 * interval are only counted, and the next line logged after the interval says how many were left
 * out. One instance per kind of line. Lock-free and allocation-free on every call.
 *
 * <pre>{@code
 * long skipped = storeDown.admit();
 * if (skipped >= 0) {
 *     log.warn("the session store failed: {}{}", cause, Repeats.note(skipped));
 * }
 * }</pre>
 *
 * <p>Internal to lbkit: not an API, may change without notice.
 */
public final class Repeats {

    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final AtomicLong nextAt;
    private final AtomicLong suppressed = new AtomicLong();

    /** Logs at most one line per {@code interval}, timed by {@link System#nanoTime()}. */
    public Repeats(Duration interval) {
        this(interval, System::nanoTime);
    }

    /** As {@link #Repeats(Duration)}, timed by {@code nanoClock} (tests inject one). */
    public Repeats(Duration interval, LongSupplier nanoClock) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be > 0, got " + interval);
        }
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
        this.nextAt = new AtomicLong(nanoClock.getAsLong());
    }

    /**
     * One occurrence: -1 when it is to be left out, otherwise the number of occurrences left out
     * since the last line that was logged (0 for none).
     */
    public long admit() {
        long now = nanoClock.getAsLong();
        long next = nextAt.get();
        if (now - next >= 0 && nextAt.compareAndSet(next, now + intervalNanos)) {
            return suppressed.getAndSet(0);
        }
        suppressed.incrementAndGet();
        return -1;
    }

    /** The text to append to a logged line for {@code skipped} left-out occurrences ("" for none). */
    public static String note(long skipped) {
        return skipped <= 0 ? "" : " (and " + skipped + " more like this since the last such line)";
    }
}
