package io.lbkit.core.limit;

import io.lbkit.core.Ticker;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link Ticker} that moves only when told to. */
final class ManualTicker implements Ticker {
    private final AtomicLong nanos;

    ManualTicker(long startNanos) {
        this.nanos = new AtomicLong(startNanos);
    }

    @Override
    public long nanos() {
        return nanos.get();
    }

    void setMillis(long millis) {
        nanos.set(millis * 1_000_000L);
    }

    void advanceMillis(long millis) {
        nanos.addAndGet(millis * 1_000_000L);
    }

    void advanceNanos(long n) {
        nanos.addAndGet(n);
    }
}
