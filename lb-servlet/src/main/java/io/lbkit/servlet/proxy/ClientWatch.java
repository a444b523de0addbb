package io.lbkit.servlet.proxy;

import io.lbkit.core.Ticker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Times the pauses of a client's request body (nginx {@code client_body_timeout}): a pause starts
 * when the proxy begins waiting for the next bytes ({@link #waiting()}) and ends when they come
 * ({@link #received()}); one that lasts the timeout fails the body with
 * {@link RequestBody.ClientTimeoutException}. Time during which the proxy itself holds the body
 * back (the backend is slow to take it) is not a pause. One timer at a time, re-armed only while
 * the body is waited for, cancelled by {@link #stop()} (the body ended), so that a finished body
 * is not kept reachable by a pending timer.
 */
final class ClientWatch {

    private static final long NOT_WAITING = Long.MIN_VALUE;

    private final Scheduler scheduler;
    private final Ticker ticker;
    private final long timeoutNanos;
    private final Consumer<RequestBody.ClientTimeoutException> onTimeout;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** When the current pause started, or {@link #NOT_WAITING}: one field, read once per check. */
    private volatile long since = NOT_WAITING;
    private volatile boolean stopped;
    private volatile Scheduler.Task task;

    ClientWatch(Scheduler scheduler, Ticker ticker, Duration timeout,
                Consumer<RequestBody.ClientTimeoutException> onTimeout) {
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.timeoutNanos = timeout.toNanos();
        this.onTimeout = onTimeout;
    }

    /** The proxy starts waiting for the client's next bytes (call before publishing the wait). */
    void waiting() {
        since = ticker.nanos();
        if (!stopped && scheduled.compareAndSet(false, true)) {
            arm(timeoutNanos);
        }
    }

    /** The client's bytes (or its end, or an error) arrived: the pause is over. */
    void received() {
        since = NOT_WAITING;
    }

    /** The body ended (read, refused, failed, or the exchange is over): no more timers. */
    void stop() {
        stopped = true;
        since = NOT_WAITING;
        Scheduler.Task t = task;
        if (t != null) {
            t.cancel();
        }
    }

    /** True while a pause is being timed. */
    boolean isWaiting() {
        return since != NOT_WAITING;
    }

    private void arm(long delayNanos) {
        task = scheduler.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
        if (stopped) {
            task.cancel();
        }
    }

    private void check() {
        scheduled.set(false);
        long start = since;
        if (stopped || start == NOT_WAITING) {
            return; // the next waiting() arms the timer again
        }
        long paused = ticker.nanos() - start;
        if (paused >= timeoutNanos) {
            stop();
            onTimeout.accept(new RequestBody.ClientTimeoutException("no request body byte from the client for "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms"));
            return;
        }
        if (scheduled.compareAndSet(false, true)) {
            arm(timeoutNanos - paused);
        }
    }
}
