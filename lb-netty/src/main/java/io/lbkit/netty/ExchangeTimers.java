package io.lbkit.netty;

import io.lbkit.core.Outcome;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The timers of one {@link Exchange}, all on its loop: the limits' delay, the read timeout (no byte
 * from the endpoint for {@code readTimeout}, nginx {@code proxy_read_timeout}) and the total
 * timeout; the client body timeout is the {@link RequestBodyRelay}'s. The read timeout is watched
 * by the client connection's one read check, which stays scheduled from one exchange to the next
 * ({@link ClientConnection#watchRead}): a request schedules and cancels no timer of its own for it.
 * A check that comes early (there was activity meanwhile) is scheduled again for the rest.
 */
final class ExchangeTimers {

    private final Exchange x;
    private boolean watchingRead;
    private ScheduledFuture<?> totalTimer;
    private ScheduledFuture<?> delayTimer;
    private long lastBackendActivity;

    ExchangeTimers(Exchange x) {
        this.x = x;
    }

    /** Runs {@code then} after the limits' delay: the exchange waits on its loop's timer, holding no thread. */
    void delay(Runnable then, long millis) {
        delayTimer = x.loop.schedule(then, millis, TimeUnit.MILLISECONDS);
    }

    /** The delay's task runs. */
    void delayOver() {
        delayTimer = null;
    }

    /** The attempts start: the total timeout, when one is set. */
    void startTotal() {
        long total = x.config.totalTimeout().toNanos();
        if (total > 0) {
            totalTimer = x.loop.schedule(this::totalTimedOut, total, TimeUnit.NANOSECONDS);
        }
    }

    /** A backend request was sent: the read timeout counts from now. */
    void startRead() {
        long now = System.nanoTime();
        lastBackendActivity = now;
        watchingRead = true;
        x.conn.watchRead(now + x.config.readTimeout().toNanos());
    }

    /** The endpoint sent or took bytes: it is not idle. */
    void backendActive() {
        lastBackendActivity = System.nanoTime();
    }

    /** The exchange is over: every timer is cancelled. */
    void cancelAll() {
        watchingRead = false;
        cancel(totalTimer);
        cancel(delayTimer);
        totalTimer = delayTimer = null;
    }

    static void cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    /**
     * The read check, run by the connection's timer: the nanoseconds until this exchange's read
     * timeout may be due, or 0 when there is nothing to watch (or it timed out, and was failed).
     */
    long readCheck() {
        ResponseRelay response = x.response;
        if (!watchingRead || x.finished || x.backend == null || response.responseEnded) {
            return 0;
        }
        if (response.held != null) {
            lastBackendActivity = System.nanoTime(); // the proxy, not the endpoint, is waiting (for the session store)
        }
        long idle = System.nanoTime() - lastBackendActivity;
        long limit = x.config.readTimeout().toNanos();
        if (idle < limit) {
            return limit - idle;
        }
        watchingRead = false;
        // while the client pauses its body, the endpoint is idle because of the client: the client's stall
        boolean clientStalled = x.body.readingClient && !x.body.clientBodyDone;
        ReadTimeoutException why = new ReadTimeoutException("no byte from the endpoint for "
                + x.config.readTimeout().toMillis() + " ms");
        if (response.forwarding) {
            x.responseFailed(clientStalled ? Outcome.CANCELLED : Outcome.TIMEOUT, why);
        } else {
            x.attemptFailed(Outcome.TIMEOUT, why, clientStalled);
        }
        return 0;
    }

    private void totalTimedOut() {
        totalTimer = null;
        if (x.finished) {
            return;
        }
        ReadTimeoutException why = new ReadTimeoutException("the total timeout of "
                + x.config.totalTimeout().toMillis() + " ms passed");
        if (x.response.forwarding) {
            x.responseFailed(Outcome.TIMEOUT, why);
            return;
        }
        if (x.selection != null && !x.selectionDone) {
            x.completeSelection(Outcome.TIMEOUT, 0);
        }
        x.attempts.finish();
        x.dropBackend();
        Exchange.log.warn("proxy {} {} route={}: total timeout of {} ms; 504", x.req.method(), x.view.path(),
                x.route.name(), x.config.totalTimeout().toMillis());
        x.answer(504);
    }
}
