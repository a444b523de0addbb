package io.lbkit.servlet.proxy;

import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.engine.AddedHeaderRules;
import io.lbkit.proxy.engine.ErrorAnswer;
import io.lbkit.proxy.engine.Limits;
import io.lbkit.proxy.engine.SessionForwarder;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the client side of a {@link ProxyExchange} ends, exactly once, whichever end comes first:
 * the relayed response complete ({@link #complete}), an error answer ({@link #error}, with the
 * error page of lb-proxy's {@link ErrorAnswer}), an abort once the response began or when the
 * client is gone ({@link #abort}, {@link #quietly}), a fan-out answer written by its own exchange
 * ({@link #claim}), or a refused body answered with 413 and then drained ({@link #refuseBody},
 * {@link Lingering}). Each end releases the route's limits permit and completes the async cycle.
 *
 * <p>Threads: the answers before async started ({@link #answerNow}, {@link #refuseDeclaredBody})
 * run on the container thread; every other end may come from any thread (HTTP client, container,
 * session store, scheduler) and takes the end with one compare-and-set on {@code finished}, so
 * only the first writes to the response.
 */
final class ClientEnd {

    private static final Logger log = LoggerFactory.getLogger(ClientEnd.class);

    private final ProxyExchange ex;
    private final HttpServletRequest req;
    private final HttpServletResponse resp;
    private final AtomicBoolean finished = new AtomicBoolean();

    /** The drain after a refused body, once one started (else null). */
    private volatile Lingering lingering;

    ClientEnd(ProxyExchange ex) {
        this.ex = ex;
        this.req = ex.req;
        this.resp = ex.resp;
    }

    /** Whether the client side has ended (or is ending). */
    boolean finished() {
        return finished.get();
    }

    /** The relayed response was written to its end. */
    void complete() {
        if (finished.compareAndSet(false, true)) {
            releaseLimits();
            ExchangeLog.end(ex); // before the client can send its next request
            ex.async.complete();
        }
    }

    /** Ends without writing anything more (the client is gone). */
    void quietly() {
        if (finished.compareAndSet(false, true)) {
            releaseLimits();
            completeAsync();
        }
    }

    /** Aborts the client's connection (a response that began cannot be answered any more). */
    void abort() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        releaseLimits();
        try {
            if (!ex.clientGone) {
                ClientAbort.abort(resp);
            }
        } finally {
            completeAsync();
        }
    }

    /** A refusal decided after async started (a shared rate limit's): logged as {@link #answerNow}, then {@link #error(int)}. */
    void refuse(int status, String why) {
        long skipped = ex.filter.repeats(why).admit();
        if (skipped >= 0) {
            log.warn("proxy {} {}: {} ({}){}", req.getMethod(), req.getRequestURI(), status, why, Repeats.note(skipped));
        }
        error(status);
    }

    /** Answers with an error status after async started, or aborts if the response began. */
    void error(int status) {
        error(status, false);
    }

    /** {@link #error(int)}, with {@code Retry-After} when the client may try again in a moment. */
    void error(int status, boolean retryAfter) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        releaseLimits();
        try {
            if (resp.isCommitted() || ex.clientResponse.started()) {
                ClientAbort.abort(resp);
            } else {
                if (retryAfter) {
                    resp.setHeader("Retry-After", SessionForwarder.RETRY_AFTER);
                }
                writeErrorBody(status, true);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot send {}: {}", status, e.toString());
        } finally {
            completeAsync();
        }
    }

    /**
     * The client stopped sending its body (nginx {@code client_body_timeout}): 408 and the
     * connection closes (the rest of the body will not be read), or an abort if the response began.
     */
    void bodyTimedOut(Throwable why) {
        log.info("proxy {} {} route={}: request body timed out ({}): 408", req.getMethod(), req.getRequestURI(),
                ex.route.name(), why.getMessage());
        error(408); // with Connection: close (writeErrorBody)
    }

    /**
     * A body refused while it streamed (413): answers, then drains the rest before the exchange
     * completes ({@link Lingering}), so the client reads the 413 instead of a reset.
     */
    void refuseBody() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        releaseLimits();
        RequestBody body = ex.body;
        Lingering l;
        try {
            writeErrorBody(413, false);
            resp.flushBuffer();
            ServletInputStream in = req.getInputStream();
            l = new Lingering(in, body != null ? body.scratch() : new byte[8192], this::completeAsync);
        } catch (IOException | RuntimeException e) {
            log.debug("cannot send 413: {}", e.toString());
            completeAsync();
            return;
        }
        lingering = l;
        if (body != null) {
            body.linger(l);
        } else if (ex.buffered != null) {
            ex.buffered.linger(l);
        }
        l.start(ex.client.getScheduler());
    }

    /** Takes over the client response (returns false when it is already finished). */
    boolean claim() {
        if (!finished.compareAndSet(false, true)) {
            return false;
        }
        releaseLimits();
        return true;
    }

    /** Ends the async cycle (after a claimed response was written, or any end above). */
    void completeAsync() {
        ExchangeLog.end(ex);
        try {
            ex.async.complete();
        } catch (RuntimeException e) {
            log.debug("async complete failed: {}", e.toString());
        }
    }

    /** Aborts a claimed response whose writing failed. */
    void abortClaimed() {
        if (!ex.clientGone) {
            ClientAbort.abort(resp);
        }
        completeAsync();
    }

    /** The async cycle completed: a drain still running must not fire its timer later. */
    void abandonDrain() {
        Lingering l = lingering;
        if (l != null) {
            l.abandon(); // already over if the drain ended it; else its timer must not fire later
        }
    }

    private void releaseLimits() {
        Limits.Permit p = ex.permit;
        if (p != null) {
            p.release(); // once, whichever end comes first
        }
    }

    // =====================================================================================
    // answers before async started (container thread)
    // =====================================================================================

    /** Answers before async started (container thread). */
    void answerNow(int status, String why) throws IOException {
        long skipped = ex.filter.repeats(why).admit();
        if (skipped >= 0) {
            log.warn("proxy {} {}: {} ({}){}", req.getMethod(), req.getRequestURI(), status, why, Repeats.note(skipped));
        }
        writeErrorBody(status, true);
    }

    /**
     * A declared body over the limit: 413 before anything is sent anywhere. Unless the client
     * waits for {@code 100 Continue} (then no body comes), the body is drained after the answer
     * ({@link Lingering}) so the client, still sending, reads the 413 instead of a reset.
     */
    void refuseDeclaredBody(long length, long limit) throws IOException {
        if (req.getHeader("Expect") != null) {
            answerNow(413, "request body too large");
            return;
        }
        log.warn("proxy {} {}: 413 (declared body of {} bytes, the limit is {})", req.getMethod(), req.getRequestURI(),
                length, limit);
        ex.async = req.startAsync(req, resp);
        ex.async.setTimeout(0);
        finished.set(true);
        writeErrorBody(413, false);
        resp.flushBuffer();
        ServletInputStream in = req.getInputStream();
        Lingering l = new Lingering(in, new byte[8192], this::completeAsync);
        lingering = l;
        ex.async.addListener(ex); // onComplete abandons the drain if the container ends the exchange
        in.setReadListener(l);
        l.start(ex.client.getScheduler());
    }

    /**
     * @param withLength false when the input is still to be drained: once the declared length is
     *                   written the response counts as closed, and Tomcat then closes the input too
     */
    private void writeErrorBody(int status, boolean withLength) throws IOException {
        byte[] b = ErrorAnswer.body(status);
        resp.setStatus(status);
        resp.setContentType(ErrorAnswer.CONTENT_TYPE);
        AddedHeaderRules.apply(ex.config, ex.route, status, req.getScheme(), ServletFields.sink(resp));
        if (withLength) {
            resp.setContentLength(b.length);
        }
        if (ErrorAnswer.closesConnection(status) || bodyLeftUnread()) {
            resp.setHeader("Connection", "close");
        }
        resp.getOutputStream().write(b);
        if (ex.rec != null) {
            ex.rec.bodyBytes(b.length);
        }
    }

    /** The client's body is not read to its end: the connection cannot carry another request. */
    private boolean bodyLeftUnread() {
        RequestBody body = ex.body;
        BufferedBody buffered = ex.buffered;
        return (body != null && !body.finished()) || (buffered != null && !buffered.isDone());
    }
}
