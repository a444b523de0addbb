package io.lbkit.netty;

import io.lbkit.core.Outcome;
import io.lbkit.core.retry.RetryPolicy;

/**
 * What the retry policy makes of an {@link Exchange}'s attempt once its outcome is known: a
 * response head (its status may send the request to another endpoint), a failure before the head
 * (retry or answer, a stale kept-alive connection retried once more without blaming the endpoint),
 * a failure after it (the client is cut). Static, on the exchange's loop: no object per request.
 */
final class AttemptOutcomes {

    /** At most this many attempts per request are retried for a stale kept-alive connection (as the servlet engine). */
    private static final int MAX_STALE_RETRIES = 3;

    private AttemptOutcomes() {
    }

    /** Backend response: its head's status through the retry policy; true when another endpoint is tried instead. */
    static boolean retriedOnStatus(Exchange x, int st) {
        x.headerNanos = System.nanoTime() - x.attemptStart;
        if (x.rec != null) {
            x.rec.responseHead(st, x.attemptStart + x.headerNanos);
        }
        RetryPolicy.Decision d = x.attempts.next(Outcome.RESPONSE, st, true, false, x.config.ticker().nanos());
        if (d == RetryPolicy.Decision.RETRY && x.body.bodyConsumed) {
            // part of the streamed body went to this endpoint and cannot be sent again: its answer is the client's
            x.attempts.finish();
            d = RetryPolicy.Decision.DONE;
        }
        if (d != RetryPolicy.Decision.RETRY) {
            return false;
        }
        x.completeSelection(Outcome.RESPONSE, st);
        if (x.rec != null) {
            x.rec.attemptEnded(st, System.nanoTime());
        }
        x.pick.markTried(x.selection);
        Exchange.log.debug("proxy {} {}: {} answered {}, retrying", x.req.method(), x.view.path(), x.endpoint.id(), st);
        x.dropBackend();
        x.attempt(true);
        return true;
    }

    /** The attempt ended before its response head: retry per the policy, or answer. */
    static void failedBeforeHead(Exchange x, Outcome o, Throwable cause, boolean clientStalled) {
        if (x.finished) {
            return;
        }
        x.dropBackend();
        if (x.rec != null) {
            x.rec.attemptEnded(o == Outcome.TIMEOUT ? 504 : 502, System.nanoTime()); // nginx's status for the try
        }
        if (clientStalled) {
            x.completeSelection(Outcome.CANCELLED, 0);
            x.attempts.finish();
            Exchange.log.info("proxy {} {} route={}: request body timed out: 408", x.req.method(), x.view.path(),
                    x.route.name());
            x.answer(408);
            return;
        }
        if (x.engine.stopping) {
            x.completeSelection(Outcome.CANCELLED, 0);
            x.attempts.finish();
            x.answer(503); // the proxy is stopping: nothing is retried
            return;
        }
        boolean stale = o == Outcome.RESET && x.reused && x.staleRetries < MAX_STALE_RETRIES;
        if (stale) {
            // a kept-alive connection the endpoint had closed (its idle timeout racing this reuse):
            // one more try that the endpoint does not pay for, as the servlet engine
            x.staleRetries++;
            x.attempts.extraTry();
            x.completeSelection(Outcome.CANCELLED, 0);
        } else {
            x.completeSelection(o, 0);
            x.pick.markTried(x.selection);
        }
        if (x.body.bodyConsumed) {
            x.attempts.bodyReplayable(false);
        }
        RetryPolicy.Decision d = x.attempts.next(o, 0, x.requestSent || stale, false, x.config.ticker().nanos());
        if (d == RetryPolicy.Decision.RETRY) {
            Exchange.log.debug("proxy {} {}: {} on {}, retrying", x.req.method(), x.view.path(), o, x.endpoint.id());
            x.attempt(true);
            return;
        }
        int st = x.attempts.statusOnGiveUp();
        Exchange.log.warn("proxy {} {} route={}: {} on {} ({}), giving up ({}) with {}", x.req.method(), x.view.path(),
                x.route.name(), o, x.endpoint.id(), cause == null ? "" : cause.toString(), x.attempts.giveUpReason(),
                st);
        x.answer(st);
    }

    /** The response had started: nothing to answer, the client connection is cut. */
    static void failedAfterHead(Exchange x, Outcome o, Throwable cause) {
        if (x.rec != null) {
            x.rec.attemptEnded(0, System.nanoTime());
        }
        x.completeSelection(o, 0);
        x.attempts.finish();
        Exchange.log.warn("proxy {} {}: response from {} failed after it started: {}", x.req.method(), x.view.path(),
                x.endpoint.id(), cause == null ? o.toString() : cause.toString());
        x.dropBackend();
        x.abortClient();
    }
}
