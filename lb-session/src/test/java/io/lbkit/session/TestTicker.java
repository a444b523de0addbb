package io.lbkit.session;

import io.lbkit.core.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker that moves only when told to. */
final class TestTicker implements Ticker {
    private final AtomicLong now = new AtomicLong(5_000_000_000L);

    @Override
    public long nanos() {
        return now.get();
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }
}
