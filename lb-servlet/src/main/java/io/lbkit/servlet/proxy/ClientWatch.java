package io.lbkit.servlet.proxy;

import io.lbkit.core.Ticker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Times the pauses of a client's request body (nginx {@code client_body_timeout}): a pause starts
 * when the proxy begins waiting for the next bytes ({@link #waiting()}) and ends with them; one
 * that lasts the timeout fails the body with {@link RequestBody.ClientTimeoutException}. Time
 * during which the proxy itself holds the body back (the backend is slow to take it) is not a
 * pause. One timer at a time per body, re-armed only while the body is waited for.
 */
final class ClientWatch {

    private final Scheduler scheduler;
    private final Ticker ticker;
    private final long timeoutNanos;
    private final BooleanSupplier isWaiting;
    private final Consumer<RequestBody.ClientTimeoutException> onTimeout;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile long since;

    /**
     * @param isWaiting true while the body is unfinished and the proxy waits for the client
     *                  (checked when the timer fires; must already be true when {@link #waiting()} runs)
     */
    ClientWatch(Scheduler scheduler, Ticker ticker, Duration timeout, BooleanSupplier isWaiting,
                Consumer<RequestBody.ClientTimeoutException> onTimeout) {
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.timeoutNanos = timeout.toNanos();
        this.isWaiting = isWaiting;
        this.onTimeout = onTimeout;
    }

    /** The proxy starts waiting for the client's next bytes. */
    void waiting() {
        since = ticker.nanos();
        if (scheduled.compareAndSet(false, true)) {
            scheduler.schedule(this::check, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void check() {
        scheduled.set(false);
        if (!isWaiting.getAsBoolean()) {
            return; // the next waiting() arms the timer again
        }
        long paused = ticker.nanos() - since;
        if (paused >= timeoutNanos) {
            onTimeout.accept(new RequestBody.ClientTimeoutException("no request body byte from the client for "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms"));
            return;
        }
        if (scheduled.compareAndSet(false, true)) {
            scheduler.schedule(this::check, timeoutNanos - paused, TimeUnit.NANOSECONDS);
        }
    }
}
