package io.lbkit.servlet.proxy;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.Selection;
import io.lbkit.core.internal.Repeats;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.engine.Headers;
import io.lbkit.proxy.engine.RequestHeaderRules;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.client.HttpResponseException;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt of a {@link ProxyExchange} against one endpoint: the backend request on Jetty's
 * client ({@link #send}: the client's target, the forwarded headers, the body), the backend
 * response's head ({@link #onHeaders}: relayed to the client, or abandoned for a retry), its body
 * handed to the {@link ClientResponse}, and the attempt's outcome ({@link #onComplete}: recorded on
 * the endpoint's {@link Selection}, then the retry decision of {@link RetryPolicy.Attempts}: the
 * next attempt, an error answer, or an abort).
 *
 * <p>Threads: {@link #send} runs on the thread that picked the endpoint (the container's, the
 * session store's, the scheduler's, or the previous attempt's completion); the listener callbacks
 * run on HTTP client threads, one at a time for this attempt. {@link #request} is volatile: the
 * exchange aborts it from the thread where the client left. The endpoint's selection is completed
 * once ({@link #completeSelection}).
 */
final class BackendAttempt implements Response.Listener {

    private static final Logger log = LoggerFactory.getLogger(BackendAttempt.class);
    static final Throwable RETRY = new CancellationException("lbkit: retrying on another endpoint");

    private final ProxyExchange ex;
    final Selection selection;
    final Endpoint endpoint;
    final long startNanos = System.nanoTime();
    volatile boolean sent; // the request started to go out: see send()
    volatile boolean retrying;
    volatile boolean forwarding;
    private final AtomicBoolean selectionCompleted = new AtomicBoolean();
    long headerNanos = -1;
    Outcome outcome;
    int status;
    volatile Request request; // read by clientFailed on another thread
    Request.Content content;

    BackendAttempt(ProxyExchange ex, Selection selection) {
        this.ex = ex;
        this.selection = selection;
        this.endpoint = selection.endpoint();
    }

    // =====================================================================================
    // the backend request
    // =====================================================================================

    /** Builds the backend request and sends it; a request that cannot be built is answered here. */
    void send() {
        if (ex.rec != null) {
            ex.rec.attemptStarted(endpoint, startNanos);
        }
        try {
            Request r = new BackendRequest(ex.client, endpoint.host(), endpoint.port(), ex.backendTarget)
                    .method(ex.req.getMethod())
                    .version(HttpVersion.HTTP_1_1)
                    .idleTimeout(ex.config.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
            String backendHost = RequestHeaderRules.backendHost(ex.config, ex.clientHost, endpoint.host(), endpoint.port());
            r.headers(h -> {
                h.add(ex.forwardHeaders);
                h.put(HttpHeader.HOST, backendHost);
            });
            long total = ex.config.totalTimeout().toMillis();
            if (total > 0) {
                long spent = TimeUnit.NANOSECONDS.toMillis(ex.config.ticker().nanos() - ex.attempts.startNanos());
                r.timeout(Math.max(1, total - spent), TimeUnit.MILLISECONDS);
            }
            if (ex.body != null) {
                content = ex.body.forAttempt();
                r.body(content);
                if (content.getLength() < 0) {
                    r.trailersSupplier(this::clientTrailers);
                }
            } else if (ex.buffered != null) {
                content = ex.buffered.content();
                r.body(content);
            }
            // sent from the moment the headers are handed to the connection (nginx's
            // u->request_sent, set before its first write): Jetty's commit notice comes only once
            // the write completed, and a reset racing that completion (the endpoint read the
            // request and closed) suppresses it, though the endpoint had the request
            r.onRequestHeaders(x -> {
                sent = true;
                if (ex.rec != null) {
                    ex.rec.connected(System.nanoTime()); // the connection is there (new or kept alive)
                }
            });
            request = r;
            r.send(this);
            if (ex.clientGone) {
                // the client left between this attempt's publication and its request's: clientFailed
                // found no request to abort (both fields are volatile, so one of the two sees the other)
                r.abort(new CancellationException("client gone"));
            }
        } catch (RuntimeException e) {
            // e.g. a request the client cannot encode: never the endpoint's failure
            completeSelection(Outcome.CANCELLED, 0);
            ex.attempts.finish();
            int st = BackendFailures.localFailureStatus(e);
            log.warn("proxy {} {}: cannot build the backend request: {}", ex.req.getMethod(), ex.req.getRequestURI(),
                    e.toString());
            ex.end.error(st == 0 ? 500 : st);
        }
    }

    /** The client's request trailer fields, for the backend request (read once the body ended). */
    private HttpFields clientTrailers() {
        try {
            if (!ex.req.isTrailerFieldsReady()) {
                return null;
            }
            Map<String, String> fields = ex.req.getTrailerFields();
            if (fields == null || fields.isEmpty()) {
                return null;
            }
            HttpFields.Mutable t = HttpFields.build();
            fields.forEach((name, value) -> {
                if (Headers.isForwardableTrailer(name)) {
                    t.add(name, value);
                }
            });
            return t.size() == 0 ? null : t;
        } catch (RuntimeException e) {
            log.debug("proxy {} {}: request trailers unavailable: {}", ex.req.getMethod(), ex.req.getRequestURI(),
                    e.toString());
            return null;
        }
    }

    void completeSelection(Outcome o, int st) {
        if (selectionCompleted.compareAndSet(false, true)) {
            long latency = headerNanos >= 0 ? headerNanos : System.nanoTime() - startNanos;
            selection.complete(o, st, latency);
        }
    }

    // =====================================================================================
    // the backend response
    // =====================================================================================

    /** The backend response's head: too big (502), retried on another endpoint, or relayed to the client. */
    @Override
    public void onHeaders(Response response) {
        headerNanos = System.nanoTime() - startNanos;
        int st = response.getStatus();
        if (ex.rec != null) {
            ex.rec.responseHead(st, startNanos + headerNanos);
        }
        if (ex.clientGone) {
            response.abort(new CancellationException("client gone"));
            return;
        }
        if (BackendFailures.headerBlockBytes(response.getHeaders()) > ex.config.bufferSize()) {
            // nginx: "upstream sent too big header" (proxy_buffer_size), an invalid response: 502
            // rather than a header block the container may fail to write (Jetty: a 500 page)
            log.warn("proxy {} {}: response header from {} larger than {} bytes", ex.req.getMethod(),
                    ex.req.getRequestURI(), endpoint.id(), ex.config.bufferSize());
            response.abort(new HttpResponseException("response header larger than bufferSize", response));
            return;
        }
        RetryPolicy.Decision d = ex.attempts.next(Outcome.RESPONSE, st, true, false, ex.config.ticker().nanos());
        if (d == RetryPolicy.Decision.RETRY && ex.body != null && !RequestBody.stopForRetry(content, RETRY)) {
            // part of the streamed body already went to this endpoint: it cannot be sent again
            // (nginx, proxy_request_buffering off), so this answer is the client's
            ex.attempts.finish();
            d = RetryPolicy.Decision.DONE;
            log.debug("proxy {} {}: {} answered {}; not retried, the request body had started", ex.req.getMethod(),
                    ex.req.getRequestURI(), endpoint.id(), st);
        }
        if (d == RetryPolicy.Decision.RETRY) {
            retrying = true;
            outcome = Outcome.RESPONSE;
            status = st;
            completeSelection(Outcome.RESPONSE, st);
            ex.pick.markTried(selection);
            log.debug("proxy {} {}: {} answered {}, retrying", ex.req.getMethod(), ex.req.getRequestURI(),
                    endpoint.id(), st);
            response.abort(RETRY);
            return;
        }
        forwarding = true;
        try {
            ex.clientResponse.writeHead(this, response);
        } catch (RuntimeException | IOException e) {
            log.warn("proxy {} {}: cannot start the client response: {}", ex.req.getMethod(), ex.req.getRequestURI(),
                    e.toString());
            response.abort(e);
        }
    }

    /** The backend response's body: streamed to the client by the {@link ClientResponse}. */
    @Override
    public void onContentSource(Response response, Content.Source src) {
        if (!forwarding) {
            return; // aborted for a retry
        }
        ex.clientResponse.stream(src);
    }

    // =====================================================================================
    // the outcome and the retry decision
    // =====================================================================================

    @Override
    public void onComplete(Result result) {
        // the client was pausing its body when the attempt ended: the backend connection was
        // idle because of the client, so a backend idle timeout then is the client's too
        boolean clientPausing = ex.body != null && ex.body.waitingForClient();
        if (content != null) {
            content.fail(new CancellationException("attempt over"));
        }
        if (ex.rec != null) {
            // nginx's status for a try without a head: 504 for a timeout, else 502
            ex.rec.attemptEnded(result.getFailure() != null
                    && BackendFailures.classify(result.getFailure(), sent) == Outcome.TIMEOUT ? 504 : 502, System.nanoTime());
        }
        if (retrying) {
            ex.attempt(this);
            return;
        }
        Throwable bodyStall = clientBodyStall(result.getFailure(), clientPausing);
        if (forwarding) {
            endedWhileRelaying(result, bodyStall);
        } else {
            endedBeforeRelaying(result, bodyStall);
        }
    }

    /** The attempt ended after its response head went to the client: complete or abort the client. */
    private void endedWhileRelaying(Result result, Throwable bodyStall) {
        Throwable responseFailure = result.getResponseFailure();
        if (responseFailure == null || ex.clientResponse.received()) {
            // a failure after the whole response came is not the endpoint's
            completeSelection(Outcome.RESPONSE, result.getResponse().getStatus());
            return; // the client response completes the client side
        }
        if (ex.filter.stopping()) {
            // the proxy stopped under the exchange (its client's last bytes may already
            // be out): not the endpoint's fault
            completeSelection(Outcome.CANCELLED, 0);
            ex.end.abort();
            return;
        }
        if (bodyStall != null && !ex.clientGone) {
            // the response had started: nothing to answer, but the endpoint is not to blame
            completeSelection(Outcome.CANCELLED, 0);
            log.info("proxy {} {} route={}: request body timed out after the response started ({}); aborting",
                    ex.req.getMethod(), ex.req.getRequestURI(), ex.route.name(), bodyStall.getMessage());
            ex.end.abort();
            return;
        }
        completeSelection(ex.clientGone ? Outcome.CANCELLED
                : BackendFailures.classify(responseFailure, true) == Outcome.TIMEOUT ? Outcome.TIMEOUT : Outcome.RESET, 0);
        if (!ex.clientGone) {
            log.warn("proxy {} {}: response from {} failed after it started: {}", ex.req.getMethod(),
                    ex.req.getRequestURI(), endpoint.id(), responseFailure.toString());
        }
        ex.end.abort();
    }

    /**
     * The attempt ended with no response relayed: a failure that is not the endpoint's (answered),
     * the client's body (408, 413 or an abort), the proxy stopping (503), or the endpoint's failure:
     * then the retry decision, the next attempt or the give-up status.
     */
    private void endedBeforeRelaying(Result result, Throwable bodyStall) {
        Throwable failure = result.getFailure();
        if (failure == null) {
            failure = new IOException("no response");
        }
        int local = BackendFailures.localFailureStatus(failure);
        if (local != 0 && !ex.clientGone) {
            // lbkit's failure or the request's, not the endpoint's: never recorded against it,
            // never retried on another endpoint (each would fail the same way)
            completeSelection(Outcome.CANCELLED, 0);
            ex.attempts.finish();
            if (local == 500) {
                log.error("proxy {} {} route={}: failed in lbkit before {} answered; 500", ex.req.getMethod(),
                        ex.req.getRequestURI(), ex.route.name(), endpoint.id(), failure);
            } else {
                log.warn("proxy {} {} route={}: not sent to {} ({}); {}", ex.req.getMethod(), ex.req.getRequestURI(),
                        ex.route.name(), endpoint.id(), failure.toString(), local);
            }
            ex.end.error(local);
            return;
        }
        RequestBody body = ex.body;
        Throwable bodyFailure = body == null ? null : body.failure();
        if (!ex.clientGone && bodyStall != null) {
            completeSelection(Outcome.CANCELLED, 0);
            ex.attempts.finish();
            ex.end.bodyTimedOut(bodyStall);
            return;
        }
        if (ex.filter.stopping()) {
            completeSelection(Outcome.CANCELLED, 0);
            ex.attempts.finish();
            ex.end.error(503); // the proxy is stopping: nothing is retried
            return;
        }
        if (ex.clientGone || (bodyFailure != null && !(bodyFailure instanceof RequestBody.TooLargeException))) {
            completeSelection(Outcome.CANCELLED, 0);
            ex.attempts.finish();
            if (!ex.clientGone) {
                // not a departed client: say why the connection is dropped
                long skipped = ex.filter.repeats("request body failed").admit();
                if (skipped >= 0) {
                    log.warn("proxy {} {} route={}: {} after {} bytes; aborting{}", ex.req.getMethod(),
                            ex.req.getRequestURI(), ex.route.name(), clientBodyProblem(), body.bytesRead(),
                            Repeats.note(skipped));
                }
                log.debug("proxy {} {}: request body failure", ex.req.getMethod(), ex.req.getRequestURI(), bodyFailure);
            }
            ex.end.abort();
            return;
        }
        if (bodyFailure instanceof RequestBody.TooLargeException) {
            completeSelection(Outcome.CANCELLED, 0);
            ex.attempts.finish();
            log.warn("proxy {} {}: request body larger than {} bytes", ex.req.getMethod(), ex.req.getRequestURI(),
                    ex.config.maxRequestBodyBytes());
            ex.end.refuseBody();
            return;
        }
        Outcome o = BackendFailures.classify(failure, sent);
        outcome = o;
        status = 0;
        boolean stale = o == Outcome.RESET && ex.staleRetries < BackendFailures.MAX_STALE_RETRIES
                && BackendFailures.reusedConnection(request);
        if (stale) {
            // a kept-alive connection the endpoint had closed (its idle timeout racing this
            // reuse): as nginx, one more try that the endpoint does not pay for. Unlike nginx,
            // which counts it in max_fails, the endpoint is not blamed, and it may be picked
            // again (a fresh connection)
            ex.staleRetries++;
            ex.attempts.extraTry();
            completeSelection(Outcome.CANCELLED, 0);
            log.debug("proxy {} {}: kept-alive connection to {} was closed under the request",
                    ex.req.getMethod(), ex.req.getRequestURI(), endpoint.id());
        } else {
            completeSelection(o, 0);
            ex.pick.markTried(selection);
        }
        if (body != null && body.consumedAny()) {
            ex.attempts.bodyReplayable(false);
        }
        // a stale connection counts as sent too, so a POST is not re-sent
        RetryPolicy.Decision d = ex.attempts.next(o, 0, sent || stale, false, ex.config.ticker().nanos());
        if (d == RetryPolicy.Decision.RETRY) {
            log.debug("proxy {} {}: {} on {}, retrying", ex.req.getMethod(), ex.req.getRequestURI(), o, endpoint.id());
            ex.attempt(this);
            return;
        }
        int st = ex.attempts.statusOnGiveUp();
        log.warn("proxy {} {} route={}: {} on {} ({}), giving up ({}) with {}", ex.req.getMethod(),
                ex.req.getRequestURI(), ex.route.name(), o, endpoint.id(), failure.toString(),
                ex.attempts.giveUpReason(), st);
        ex.end.error(st);
    }

    /**
     * What the client did wrong when its body could not be read: the container reports a cut or
     * malformed body as an early end of input ("Early EOF"), which reads like the proxy's fault.
     */
    private String clientBodyProblem() {
        long declared = ex.req.getContentLengthLong();
        return declared >= 0
                ? "the client sent less than its Content-Length of " + declared + " bytes (or the connection broke)"
                : "the client's chunked request body is malformed or was cut off";
    }

    /**
     * Why the attempt ended because of the client's body: its own timeout, or a backend idle
     * timeout that fired while the client was pausing (the backend had nothing to read or answer);
     * null when the attempt ended for another reason.
     */
    private Throwable clientBodyStall(Throwable failure, boolean clientPausing) {
        Throwable bodyFailure = ex.body == null ? null : ex.body.failure();
        if (bodyFailure instanceof RequestBody.ClientTimeoutException) {
            return bodyFailure;
        }
        if (clientPausing && failure != null && BackendFailures.classify(failure, false) == Outcome.TIMEOUT) {
            return new RequestBody.ClientTimeoutException("no request body byte from the client for the backend's "
                    + "read timeout of " + ex.config.readTimeout().toMillis() + " ms");
        }
        return null;
    }
}
