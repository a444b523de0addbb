package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.Admission;
import io.lbkit.proxy.engine.ResponseHeaderRules;
import io.lbkit.proxy.engine.HeaderSink;
import io.lbkit.proxy.engine.ClientOrigin;
import io.lbkit.proxy.engine.RequestHeaderRules;
import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.core.internal.Repeats;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCodec;
import io.lbkit.proxy.engine.ErrorAnswer;
import io.lbkit.proxy.engine.Headers;
import io.lbkit.proxy.engine.Limits;
import io.lbkit.proxy.engine.RequestTarget;
import io.lbkit.proxy.engine.RequestValues;
import io.lbkit.proxy.engine.ForwardedSession;
import io.lbkit.proxy.engine.SessionForwarder;
import io.lbkit.proxy.engine.Targets;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpResponseException;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied request: the retry loop over endpoints, the client-side async I/O and the copy of
 * the chosen response. All callbacks may run on any thread; the response pump is serialized.
 */
final class ProxyExchange implements AsyncListener, WriteListener {

    private static final Logger log = LoggerFactory.getLogger(ProxyExchange.class);
    private static final Throwable RETRY = new CancellationException("lbkit: retrying on another endpoint");

    private final ProxyFilter filter;
    private final HttpClient client;
    private final ProxyConfig config;
    private final Route route;
    private final Upstream upstream;
    private final RetryPolicy policy;
    private final ServletClientRequest view; // the client request as the rules read it
    private final HttpServletRequest req;
    private final HttpServletResponse resp;
    private final PickRequest pick = PickRequest.create();

    private RetryPolicy.Attempts attempts;
    private AsyncContext async;
    private RequestBody body;
    private HttpFields.Mutable forwardHeaders;
    private String clientHost;
    private InetAddress peer;
    private ClientOrigin origin;
    private boolean secure;
    private StickyCodec sticky;
    private Limits.Permit permit;            // the route's limits: released once when the exchange ends
    private String pathAndQuery;             // decoded (container's view): hash keys, target values
    private String backendTarget;            // the client's bytes: what the endpoint receives
    private BufferedBody buffered;           // broadcast routes and form-field targets
    private volatile boolean bufferedReady;
    private String targetId;                 // targeted routes: the only endpoint allowed
    private volatile FanOutExchange fanOut;  // broadcast routes
    private ForwardedSession session;        // session forwarding, or null

    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile boolean clientGone;
    private volatile Attempt current;

    // response pump state, serialized by wip
    private final AtomicInteger wip = new AtomicInteger();
    private volatile Content.Source source;
    private volatile ServletOutputStream out;
    private volatile boolean demanding;
    private boolean eofRead;
    private boolean needFlush;
    private boolean commitBeforeEnd;
    // a chunk whose bytes the servlet output may still hold: released once, by the pump when the
    // output is ready again, or when the async cycle completes (an exchange that ended early)
    private final java.util.concurrent.atomic.AtomicReference<Content.Chunk> written =
            new java.util.concurrent.atomic.AtomicReference<>();

    ProxyExchange(ProxyFilter filter, HttpClient client, Route route, ServletClientRequest view,
                  HttpServletResponse resp) {
        this.filter = filter;
        this.client = client;
        this.config = filter.config();
        this.route = route;
        this.upstream = route.upstream();
        this.policy = route.retryPolicy() != null ? route.retryPolicy() : config.retryPolicy();
        this.view = view;
        this.req = view.servletRequest();
        this.resp = resp;
    }

    // =====================================================================================
    // start: checks on the container thread, then async
    // =====================================================================================

    void start() throws IOException {
        if (headerBytes() > config.maxRequestHeaderBytes()) {
            answerNow(431, "request header fields too large");
            return;
        }
        long length = req.getContentLengthLong();
        Admission.Refusal refusal = Admission.check(config, route, view, length);
        if (refusal != null) {
            if (refusal.bodyTooLarge()) {
                refuseDeclaredBody(length, Admission.bodyLimit(config, route));
            } else {
                if (refusal.status() == 405) {
                    resp.setHeader("Allow", Admission.ALLOW);
                }
                answerNow(refusal.status(), refusal.reason());
            }
            return;
        }
        String host = req.getHeader("Host");
        String te = req.getHeader("Transfer-Encoding");
        String q = req.getQueryString();
        pathAndQuery = q == null ? req.getRequestURI() : req.getRequestURI() + "?" + q;
        backendTarget = RequestTarget.fromDecoded(req.getRequestURI(), q);
        if (backendTarget == null) {
            // bytes the container could not decode were replaced: forwarding would change them
            answerNow(400, "the request target is not valid UTF-8");
            return;
        }
        long limit = Admission.bodyLimit(config, route);
        // nginx: a request without Host (HTTP/1.0) stands for the server's name; the proxy's own
        // address is never sent on (it may be an internal one)
        origin = ClientOrigin.of(config, view, req.getRemoteAddr(), req.getScheme(), host, req.getServerPort());
        peer = origin.peer();
        secure = origin.secure();
        clientHost = origin.host();

        Limits.Permit admitted = Limits.admit(route, origin);
        if (admitted.refused()) {
            answerNow(admitted.status(), admitted.reason());
            return;
        }
        permit = admitted;

        async = req.startAsync(req, resp);
        async.setTimeout(0); // the proxy's own timeouts apply
        async.addListener(this);
        boolean hasBody = length > 0 || (length < 0 && te != null);
        if (hasBody && route.buffersBody(req.getContentType())) {
            ServletInputStream in = req.getInputStream();
            buffered = new BufferedBody(in, limit > 0 ? limit : FanOut.DEFAULT_BUFFER_LIMIT, req.getContentType(),
                    client.getScheduler(), config.ticker(), config.clientBodyTimeout());
            in.setReadListener(buffered);
            hasBody = false;
        }
        if (hasBody) {
            ServletInputStream in = req.getInputStream();
            body = new RequestBody(in, limit, length, req.getContentType(), config.bufferSize(),
                    client.getScheduler(), config.ticker(), config.clientBodyTimeout());
            in.setReadListener(body);
        }
        if (peer != null) {
            pick.clientAddress(peer.getAddress());
        }
        if (route.hashKey() != null) {
            RequestValues.applyHashKey(route.hashKey(), pick, view, pathAndQuery, new RequestValues.Slice());
        }
        sticky = filter.sticky(route);
        if (sticky != null) {
            String bound = sticky.decode(RequestValues.cookie(view, sticky.settings().name()));
            if (bound != null) {
                pick.preferred(bound);
            }
        }
        forwardHeaders = requestHeaders();
        CompletionStage<?> loading = loadSession();
        if (admitted.delayMillis() > 0) {
            client.getScheduler().schedule(() -> afterSessionLoad(loading), admitted.delayMillis(), TimeUnit.MILLISECONDS);
        } else {
            afterSessionLoad(loading);
        }
    }

    /** Starts loading the client's session (session forwarding); null when there is nothing to wait for. */
    private CompletionStage<?> loadSession() {
        SessionForwarder rule = filter.sessions();
        if (rule == null) {
            return null;
        }
        try {
            session = rule.start(view, origin);
            return session.load();
        } catch (RuntimeException e) { // async has started: answer through the stage, never hang
            return CompletableFuture.failedFuture(e);
        }
    }

    private void afterSessionLoad(CompletionStage<?> stage) {
        if (stage == null) {
            begin();
        } else {
            stage.whenComplete((v, x) -> {
                if (x == null) {
                    session.addRequestFields(ServletFields.sink(forwardHeaders));
                    begin();
                } else if (SessionForwarder.isStoreFailure(x)) {
                    // logged by the rule: the backend would act on a request without its session
                    log.debug("proxy {} {}: session store unavailable: 503", req.getMethod(), req.getRequestURI());
                    sendError(503, true);
                } else {
                    long skipped = filter.repeats("session forwarding failed").admit();
                    if (skipped >= 0) {
                        log.warn("proxy {} {}: session forwarding failed: {}{}", req.getMethod(), req.getRequestURI(),
                                x.toString(), Repeats.note(skipped));
                    }
                    sendError(502);
                }
            });
        }
    }

    private void begin() {
        if (buffered != null && !bufferedReady) {
            buffered.whenDone(() -> {
                bufferedReady = true;
                begin();
            }, this::bufferFailed);
            return;
        }
        if (route.fanOut() != null) {
            FanOutExchange f = new FanOutExchange(this);
            fanOut = f;
            f.run();
            return;
        }
        if (route.target() != null && !resolveTarget()) {
            return;
        }
        attempts = policy.start(req.getMethod(), config.ticker().nanos(), upstream.defaultTries());
        attempt(null);
    }

    // =====================================================================================
    // attempts
    // =====================================================================================

    private void attempt(Attempt previous) {
        if (clientGone) {
            attempts.finish();
            finishQuietly();
            return;
        }
        Selection s = upstream.pick(pick);
        if (targetId != null) {
            s = Targets.strict(s, targetId); // never another endpoint
        }
        if (!s.found()) {
            int status;
            if (previous == null) {
                attempts.finish();
                status = 503;
                long skipped = filter.repeats("no endpoint").admit();
                if (skipped >= 0) {
                    log.warn("proxy {} {} route={}: no endpoint available in upstream {} ({}){}", req.getMethod(),
                            req.getRequestURI(), route.name(), upstream.name(), s.reason(), Repeats.note(skipped));
                }
            } else {
                // a retry was allowed but nothing eligible is left (the others down, banned or at
                // their cap): nginx's "no live upstreams", 502 whatever the last failure was
                status = attempts.noEndpoint();
                log.warn("proxy {} {} route={}: no endpoint of {} left to retry on, last {} on {}", req.getMethod(),
                        req.getRequestURI(), route.name(), upstream.name(), previous.outcome,
                        previous.endpoint.id());
            }
            sendError(status);
            return;
        }
        Attempt a = new Attempt(s);
        current = a;
        a.send();
    }

    /** One attempt against one endpoint. */
    private final class Attempt implements Response.Listener {
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

        Attempt(Selection selection) {
            this.selection = selection;
            this.endpoint = selection.endpoint();
        }

        void send() {
            try {
                Request r = new BackendRequest(client, endpoint.host(), endpoint.port(), backendTarget)
                        .method(req.getMethod())
                        .version(HttpVersion.HTTP_1_1)
                        .idleTimeout(config.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
                String backendHost = RequestHeaderRules.backendHost(config, clientHost, endpoint.host(), endpoint.port());
                r.headers(h -> {
                    h.add(forwardHeaders);
                    h.put(HttpHeader.HOST, backendHost);
                });
                long total = config.totalTimeout().toMillis();
                if (total > 0) {
                    long spent = TimeUnit.NANOSECONDS.toMillis(config.ticker().nanos() - attempts.startNanos());
                    r.timeout(Math.max(1, total - spent), TimeUnit.MILLISECONDS);
                }
                if (body != null) {
                    content = body.forAttempt();
                    r.body(content);
                    if (content.getLength() < 0) {
                        r.trailersSupplier(ProxyExchange.this::requestTrailers);
                    }
                } else if (buffered != null) {
                    content = buffered.content();
                    r.body(content);
                }
                // sent from the moment the headers are handed to the connection (nginx's
                // u->request_sent, set before its first write): Jetty's commit notice comes only once
                // the write completed, and a reset racing that completion (the endpoint read the
                // request and closed) suppresses it, though the endpoint had the request
                r.onRequestHeaders(x -> sent = true);
                request = r;
                r.send(this);
                if (clientGone) {
                    // the client left between this attempt's publication and its request's: clientFailed
                    // found no request to abort (both fields are volatile, so one of the two sees the other)
                    r.abort(new CancellationException("client gone"));
                }
            } catch (RuntimeException e) {
                // e.g. a request the client cannot encode: never the endpoint's failure
                completeSelection(Outcome.CANCELLED, 0);
                attempts.finish();
                int st = localFailureStatus(e);
                log.warn("proxy {} {}: cannot build the backend request: {}", req.getMethod(), req.getRequestURI(),
                        e.toString());
                sendError(st == 0 ? 500 : st);
            }
        }

        void completeSelection(Outcome o, int st) {
            if (selectionCompleted.compareAndSet(false, true)) {
                long latency = headerNanos >= 0 ? headerNanos : System.nanoTime() - startNanos;
                selection.complete(o, st, latency);
            }
        }

        @Override
        public void onHeaders(Response response) {
            headerNanos = System.nanoTime() - startNanos;
            int st = response.getStatus();
            if (clientGone) {
                response.abort(new CancellationException("client gone"));
                return;
            }
            if (headerBlockBytes(response.getHeaders()) > config.bufferSize()) {
                // nginx: "upstream sent too big header" (proxy_buffer_size), an invalid response: 502
                // rather than a header block the container may fail to write (Jetty: a 500 page)
                log.warn("proxy {} {}: response header from {} larger than {} bytes", req.getMethod(),
                        req.getRequestURI(), endpoint.id(), config.bufferSize());
                response.abort(new HttpResponseException("response header larger than bufferSize", response));
                return;
            }
            RetryPolicy.Decision d = attempts.next(Outcome.RESPONSE, st, true, false, config.ticker().nanos());
            if (d == RetryPolicy.Decision.RETRY && body != null && !RequestBody.stopForRetry(content, RETRY)) {
                // part of the streamed body already went to this endpoint: it cannot be sent again
                // (nginx, proxy_request_buffering off), so this answer is the client's
                attempts.finish();
                d = RetryPolicy.Decision.DONE;
                log.debug("proxy {} {}: {} answered {}; not retried, the request body had started", req.getMethod(),
                        req.getRequestURI(), endpoint.id(), st);
            }
            if (d == RetryPolicy.Decision.RETRY) {
                retrying = true;
                outcome = Outcome.RESPONSE;
                status = st;
                completeSelection(Outcome.RESPONSE, st);
                pick.markTried(selection);
                log.debug("proxy {} {}: {} answered {}, retrying", req.getMethod(), req.getRequestURI(), endpoint.id(), st);
                response.abort(RETRY);
                return;
            }
            forwarding = true;
            try {
                startClientResponse(this, response);
            } catch (RuntimeException | IOException e) {
                log.warn("proxy {} {}: cannot start the client response: {}", req.getMethod(), req.getRequestURI(),
                        e.toString());
                response.abort(e);
            }
        }

        @Override
        public void onContentSource(Response response, Content.Source src) {
            if (!forwarding) {
                return; // aborted for a retry
            }
            source = src;
            pump();
        }

        @Override
        public void onComplete(Result result) {
            // the client was pausing its body when the attempt ended: the backend connection was
            // idle because of the client, so a backend idle timeout then is the client's too
            boolean clientPausing = body != null && body.waitingForClient();
            if (content != null) {
                content.fail(new CancellationException("attempt over"));
            }
            if (retrying) {
                attempt(this);
                return;
            }
            Throwable responseFailure = result.getResponseFailure();
            Throwable bodyStall = clientBodyStall(result.getFailure(), clientPausing);
            if (forwarding) {
                if (responseFailure == null || responseReceived) {
                    // a failure after the whole response came is not the endpoint's
                    completeSelection(Outcome.RESPONSE, result.getResponse().getStatus());
                    return; // the pump completes the client side
                }
                if (filter.stopping()) {
                    // the proxy stopped under the exchange (its client's last bytes may already
                    // be out): not the endpoint's fault
                    completeSelection(Outcome.CANCELLED, 0);
                    abortClient();
                    return;
                }
                if (bodyStall != null && !clientGone) {
                    // the response had started: nothing to answer, but the endpoint is not to blame
                    completeSelection(Outcome.CANCELLED, 0);
                    log.info("proxy {} {} route={}: request body timed out after the response started ({}); aborting",
                            req.getMethod(), req.getRequestURI(), route.name(), bodyStall.getMessage());
                    abortClient();
                    return;
                }
                completeSelection(clientGone ? Outcome.CANCELLED
                        : classify(responseFailure, true) == Outcome.TIMEOUT ? Outcome.TIMEOUT : Outcome.RESET, 0);
                if (!clientGone) {
                    log.warn("proxy {} {}: response from {} failed after it started: {}", req.getMethod(),
                            req.getRequestURI(), endpoint.id(), responseFailure.toString());
                }
                abortClient();
                return;
            }
            Throwable failure = result.getFailure();
            if (failure == null) {
                failure = new IOException("no response");
            }
            int local = localFailureStatus(failure);
            if (local != 0 && !clientGone) {
                // lbkit's failure or the request's, not the endpoint's: never recorded against it,
                // never retried on another endpoint (each would fail the same way)
                completeSelection(Outcome.CANCELLED, 0);
                attempts.finish();
                if (local == 500) {
                    log.error("proxy {} {} route={}: failed in lbkit before {} answered; 500", req.getMethod(),
                            req.getRequestURI(), route.name(), endpoint.id(), failure);
                } else {
                    log.warn("proxy {} {} route={}: not sent to {} ({}); {}", req.getMethod(), req.getRequestURI(),
                            route.name(), endpoint.id(), failure.toString(), local);
                }
                sendError(local);
                return;
            }
            Throwable bodyFailure = body == null ? null : body.failure();
            if (!clientGone && bodyStall != null) {
                completeSelection(Outcome.CANCELLED, 0);
                attempts.finish();
                clientBodyTimedOut(bodyStall);
                return;
            }
            if (filter.stopping()) {
                completeSelection(Outcome.CANCELLED, 0);
                attempts.finish();
                sendError(503); // the proxy is stopping: nothing is retried
                return;
            }
            if (clientGone || (bodyFailure != null && !(bodyFailure instanceof RequestBody.TooLargeException))) {
                completeSelection(Outcome.CANCELLED, 0);
                attempts.finish();
                if (!clientGone) {
                    // not a departed client: say why the connection is dropped
                    long skipped = filter.repeats("request body failed").admit();
                    if (skipped >= 0) {
                        log.warn("proxy {} {} route={}: {} after {} bytes; aborting{}", req.getMethod(), req.getRequestURI(),
                                route.name(), clientBodyProblem(), body.bytesRead(), Repeats.note(skipped));
                    }
                    log.debug("proxy {} {}: request body failure", req.getMethod(), req.getRequestURI(), bodyFailure);
                }
                abortClient();
                return;
            }
            if (bodyFailure instanceof RequestBody.TooLargeException) {
                completeSelection(Outcome.CANCELLED, 0);
                attempts.finish();
                log.warn("proxy {} {}: request body larger than {} bytes", req.getMethod(), req.getRequestURI(),
                        config.maxRequestBodyBytes());
                refuseBody();
                return;
            }
            Outcome o = classify(failure, sent);
            outcome = o;
            status = 0;
            boolean stale = o == Outcome.RESET && staleRetries < MAX_STALE_RETRIES && reusedConnection(request);
            if (stale) {
                // a kept-alive connection the endpoint had closed (its idle timeout racing this
                // reuse): as nginx, one more try that the endpoint does not pay for. Unlike nginx,
                // which counts it in max_fails, the endpoint is not blamed, and it may be picked
                // again (a fresh connection)
                staleRetries++;
                attempts.extraTry();
                completeSelection(Outcome.CANCELLED, 0);
                log.debug("proxy {} {}: kept-alive connection to {} was closed under the request",
                        req.getMethod(), req.getRequestURI(), endpoint.id());
            } else {
                completeSelection(o, 0);
                pick.markTried(selection);
            }
            if (body != null && body.consumedAny()) {
                attempts.bodyReplayable(false);
            }
            // a stale connection counts as sent too, so a POST is not re-sent
            RetryPolicy.Decision d = attempts.next(o, 0, sent || stale, false, config.ticker().nanos());
            if (d == RetryPolicy.Decision.RETRY) {
                log.debug("proxy {} {}: {} on {}, retrying", req.getMethod(), req.getRequestURI(), o, endpoint.id());
                attempt(this);
                return;
            }
            int st = attempts.statusOnGiveUp();
            log.warn("proxy {} {} route={}: {} on {} ({}), giving up ({}) with {}", req.getMethod(), req.getRequestURI(),
                    route.name(), o, endpoint.id(), failure.toString(), attempts.giveUpReason(), st);
            sendError(st);
        }
    }

    /**
     * What the client did wrong when its body could not be read: the container reports a cut or
     * malformed body as an early end of input ("Early EOF"), which reads like the proxy's fault.
     */
    private String clientBodyProblem() {
        long declared = req.getContentLengthLong();
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
        Throwable bodyFailure = body == null ? null : body.failure();
        if (bodyFailure instanceof RequestBody.ClientTimeoutException) {
            return bodyFailure;
        }
        if (clientPausing && failure != null && classify(failure, false) == Outcome.TIMEOUT) {
            return new RequestBody.ClientTimeoutException("no request body byte from the client for the backend's "
                    + "read timeout of " + config.readTimeout().toMillis() + " ms");
        }
        return null;
    }

    /**
     * The status for a failure that is not the endpoint's, or 0 when it may be: what failed is
     * lbkit building or sending the request, not the endpoint or the network. A request the client
     * made that cannot be encoded (an {@link IllegalArgumentException}) is the client's error, 400;
     * the client's request queue being full is the proxy's overload, 503; any other unchecked
     * failure that no I/O caused is a bug in lbkit, 500. I/O failures, timeouts, invalid responses
     * and cancellations are the endpoint's or the exchange's, and keep their usual handling.
     */
    static int localFailureStatus(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IOException || c instanceof TimeoutException || c instanceof HttpException
                    || c instanceof HttpResponseException || c instanceof CancellationException) {
                return 0;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        if (t instanceof java.util.concurrent.RejectedExecutionException) {
            return 503;
        }
        if (t instanceof IllegalArgumentException) {
            return 400;
        }
        if (t instanceof NullPointerException || t instanceof ClassCastException
                || t instanceof IndexOutOfBoundsException || t instanceof ArithmeticException
                || t instanceof UnsupportedOperationException || t instanceof Error) {
            return 500;
        }
        return 0;
    }

    static Outcome classify(Throwable t, boolean committed) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof SocketTimeoutException) {
                return Outcome.TIMEOUT;
            }
            if (c instanceof ConnectException || c instanceof NoRouteToHostException
                    || c instanceof UnknownHostException || c instanceof UnresolvedAddressException) {
                return Outcome.CONNECT_FAILURE;
            }
            if (c instanceof HttpResponseException || c instanceof HttpException) {
                return Outcome.INVALID_RESPONSE;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return Outcome.RESET;
    }

    // =====================================================================================
    // the client response
    // =====================================================================================

    private void startClientResponse(Attempt a, Response r) throws IOException {
        HttpFields h = r.getHeaders();
        resp.setStatus(r.getStatus());
        Set<String> conn = Headers.connectionTokens(h.getValuesList(HttpHeader.CONNECTION));
        List<String> vias = null;
        boolean jetty = ClientAbort.isJetty(resp);
        for (HttpField f : h) {
            String name = f.getName();
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals("via")) {
                if (vias == null) {
                    vias = new ArrayList<>(2);
                }
                vias.add(f.getValue());
            } else if (ResponseHeaderRules.copied(name, lower, conn) && !(jetty && lower.equals("date"))
                    && (session == null || !filter.sessions().hidesResponseField(name))) {
                resp.addHeader(name, f.getValue()); // Jetty always writes its own Date
            }
        }
        String via = ResponseHeaderRules.via(config, vias, r.getVersion() == null ? null : r.getVersion().asString());
        if (via != null) {
            resp.setHeader("Via", via);
        }
        long cl = h.getLongField(HttpHeader.CONTENT_LENGTH);
        if (cl >= 0 && r.getStatus() != 204 && r.getStatus() >= 200) {
            // a 204 has no content whatever its Content-Length says (RFC 9110 section 8.6); passing
            // the field on would make the container wait for bytes that never come
            resp.setContentLengthLong(cl);
        }
        String declaredTrailers = h.get(HttpHeader.TRAILER);
        int st = r.getStatus();
        boolean mayHaveBody = st >= 200 && st != 204 && st != 304 && !"HEAD".equals(req.getMethod());
        // a response without a body whose length the backend did not give: commit it before the end,
        // or the container adds "Content-Length: 0" (Jetty does), which on a 304 or a HEAD answer
        // states a representation length of 0 (RFC 9110 sections 8.6, 9.3.2)
        commitBeforeEnd = !mayHaveBody && cl < 0;
        if (cl < 0 && mayHaveBody && jetty && "HTTP/1.1".equals(req.getProtocol())) {
            // Jetty answers a client that sent Connection: close with a body delimited by the close;
            // a backend failure mid-body would then look like a complete response. Chunked framing
            // (nginx keeps it too) leaves the last chunk missing, so the client sees the cut
            resp.setHeader("Transfer-Encoding", "chunked");
        }
        if (cl < 0 && mayHaveBody && (declaredTrailers != null || RequestHeaderRules.acceptsTrailers(view))
                && !"HTTP/1.0".equals(req.getProtocol())) {
            if (declaredTrailers != null) {
                resp.setHeader("Trailer", declaredTrailers);
            }
            try {
                resp.setTrailerFields(() -> responseTrailers(r));
            } catch (IllegalStateException e) {
                log.debug("proxy {} {}: the container takes no trailer fields: {}", req.getMethod(),
                        req.getRequestURI(), e.toString());
            }
        }
        ResponseHeaderRules.addTierFields(config, a.endpoint.id(), sticky, secure, new HeaderSink() {
            @Override
            public void add(String name, String value) {
                resp.addHeader(name, value);
            }

            @Override
            public void set(String name, String value) {
                resp.setHeader(name, value);
            }
        });
        CompletionStage<?> saving = session == null ? null : session.save(ServletFields.of(h));
        if (saving == null) {
            openOutput();
        } else {
            saving.whenComplete((v, x) -> {
                try {
                    if (!finished.get()) {
                        session.addResponseFields(ServletFields.sink(resp));
                        openOutput();
                    }
                } catch (IOException | RuntimeException e) {
                    clientFailed(e);
                }
            });
        }
    }

    private void openOutput() throws IOException {
        ServletOutputStream o = resp.getOutputStream();
        out = o;
        o.setWriteListener(this);
    }

    @Override
    public void onWritePossible() {
        pump();
    }

    @Override
    public void onError(Throwable t) {
        clientFailed(t);
    }

    private void pump() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        do {
            try {
                pumpOnce();
            } catch (Throwable t) {
                clientFailed(t);
            }
        } while (wip.decrementAndGet() != 0);
    }

    private void pumpOnce() throws IOException {
        Content.Source src = source;
        ServletOutputStream o = out;
        if (src == null || o == null || finished.get()) {
            return;
        }
        while (true) {
            if (!o.isReady()) {
                return; // onWritePossible resumes
            }
            releaseWritten(); // the output is done with the last chunk's bytes
            if (eofRead) {
                if (needFlush || commitBeforeEnd) {
                    needFlush = false;
                    commitBeforeEnd = false;
                    o.flush();
                    continue;
                }
                responseReceived = true;
                completeClient();
                return;
            }
            if (demanding) {
                return;
            }
            Content.Chunk c = src.read();
            if (c == null) {
                if (needFlush) {
                    needFlush = false; // nothing more right now: push what we have (SSE, slow streams)
                    o.flush();
                    continue;
                }
                demanding = true;
                src.demand(() -> {
                    demanding = false;
                    pump();
                });
                return;
            }
            if (Content.Chunk.isFailure(c)) {
                if (c.isLast()) {
                    return; // the attempt's onComplete aborts the client
                }
                continue; // transient failure (idle timeout of a read): Jetty fails the exchange itself
            }
            ByteBuffer bb = c.getByteBuffer();
            int n = bb.remaining();
            boolean last = c.isLast();
            if (n > 0) {
                if (bb.hasArray()) {
                    // no copy: the output may keep a reference to the array until it is ready
                    // again, so the chunk is released only then (releaseWritten)
                    written.set(c);
                    o.write(bb.array(), bb.arrayOffset() + bb.position(), n);
                } else {
                    byte[] copy = new byte[n];
                    bb.get(copy);
                    c.release();
                    o.write(copy, 0, n);
                }
                needFlush = true;
            } else {
                c.release();
            }
            if (last) {
                eofRead = true;
            }
        }
    }

    private void releaseWritten() {
        Content.Chunk c = written.getAndSet(null);
        if (c != null) {
            c.release();
        }
    }

    /** The size of a header block as sent: each field's name, ": ", value and CRLF. */
    static long headerBlockBytes(HttpFields h) {
        long n = 0;
        for (int i = 0; i < h.size(); i++) {
            HttpField f = h.getField(i);
            n += f.getName().length() + (f.getValue() == null ? 0 : f.getValue().length()) + 4;
        }
        return n;
    }

    /** At most this many attempts per request are retried for a stale kept-alive connection. */
    static final int MAX_STALE_RETRIES = 3;
    private int staleRetries; // touched by one attempt's completion at a time

    /** Whether the request went out on a pooled connection that had already carried a response. */
    static boolean reusedConnection(Request r) {
        return r != null && r.getConnection() instanceof org.eclipse.jetty.io.Connection c && c.getMessagesIn() > 0;
    }

    /** The drain after a refused body, once one started (else null). */
    private volatile Lingering lingering;

    /** The backend's whole response was read and handed to the client. */
    private volatile boolean responseReceived;

    private void completeClient() {
        if (finished.compareAndSet(false, true)) {
            releaseLimits();
            async.complete();
        }
    }

    private void clientFailed(Throwable t) {
        clientGone = true;
        log.debug("proxy {} {}: client went away: {}", req.getMethod(), req.getRequestURI(), t.toString());
        Attempt a = current;
        if (a != null && a.request != null) {
            a.request.abort(t);
        }
        FanOutExchange f = fanOut;
        if (f != null) {
            f.abort(t);
        }
        finishQuietly();
    }

    // AsyncListener
    @Override
    public void onComplete(AsyncEvent event) {
        releaseWritten(); // the response is done: nothing writes from the chunk any more
        if (body != null) {
            body.exchangeOver(); // no timer keeps the exchange reachable, no backend waits for more body
        }
        if (buffered != null) {
            buffered.stopWatch();
        }
        Lingering l = lingering;
        if (l != null) {
            l.abandon(); // already over if the drain ended it; else its timer must not fire later
        }
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        clientFailed(new TimeoutException("async timeout"));
    }

    @Override
    public void onError(AsyncEvent event) {
        Throwable t = event.getThrowable();
        clientFailed(t == null ? new IOException("client error") : t);
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
    }

    // =====================================================================================
    // error answers
    // =====================================================================================

    /** Answers before async started (container thread). */
    private void answerNow(int status, String why) throws IOException {
        long skipped = filter.repeats(why).admit();
        if (skipped >= 0) {
            log.warn("proxy {} {}: {} ({}){}", req.getMethod(), req.getRequestURI(), status, why, Repeats.note(skipped));
        }
        writeErrorBody(status);
    }

    private void writeErrorBody(int status) throws IOException {
        writeErrorBody(status, true);
    }

    /**
     * @param withLength false when the input is still to be drained: once the declared length is
     *                   written the response counts as closed, and Tomcat then closes the input too
     */
    private void writeErrorBody(int status, boolean withLength) throws IOException {
        byte[] b = ErrorAnswer.body(status);
        resp.setStatus(status);
        resp.setContentType(ErrorAnswer.CONTENT_TYPE);
        if (withLength) {
            resp.setContentLength(b.length);
        }
        if (ErrorAnswer.closesConnection(status) || bodyLeftUnread()) {
            resp.setHeader("Connection", "close");
        }
        resp.getOutputStream().write(b);
    }

    /** The client's body is not read to its end: the connection cannot carry another request. */
    private boolean bodyLeftUnread() {
        return (body != null && !body.finished()) || (buffered != null && !buffered.isDone());
    }

    /**
     * A declared body over the limit: 413 before anything is sent anywhere. Unless the client
     * waits for {@code 100 Continue} (then no body comes), the body is drained after the answer
     * ({@link Lingering}) so the client, still sending, reads the 413 instead of a reset.
     */
    private void refuseDeclaredBody(long length, long limit) throws IOException {
        if (req.getHeader("Expect") != null) {
            answerNow(413, "request body too large");
            return;
        }
        log.warn("proxy {} {}: 413 (declared body of {} bytes, the limit is {})", req.getMethod(), req.getRequestURI(),
                length, limit);
        async = req.startAsync(req, resp);
        async.setTimeout(0);
        finished.set(true);
        writeErrorBody(413, false);
        resp.flushBuffer();
        ServletInputStream in = req.getInputStream();
        Lingering l = new Lingering(in, new byte[8192], this::completeAsync);
        lingering = l;
        async.addListener(this); // onComplete abandons the drain if the container ends the exchange
        in.setReadListener(l);
        l.start(client.getScheduler());
    }

    /**
     * A body refused while it streamed (413): answers, then drains the rest before the exchange
     * completes ({@link Lingering}), so the client reads the 413 instead of a reset.
     */
    private void refuseBody() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        releaseLimits();
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
        } else if (buffered != null) {
            buffered.linger(l);
        }
        l.start(client.getScheduler());
    }

    /**
     * The client stopped sending its body (nginx {@code client_body_timeout}): 408 and the
     * connection closes (the rest of the body will not be read), or an abort if the response began.
     */
    private void clientBodyTimedOut(Throwable why) {
        log.info("proxy {} {} route={}: request body timed out ({}): 408", req.getMethod(), req.getRequestURI(),
                route.name(), why.getMessage());
        sendError(408); // with Connection: close (writeErrorBody)
    }

    /** Answers with an error status after async started, or aborts if the response began. */
    private void sendError(int status) {
        sendError(status, false);
    }

    /** {@link #sendError(int)}, with {@code Retry-After} when the client may try again in a moment. */
    private void sendError(int status, boolean retryAfter) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        releaseLimits();
        try {
            if (resp.isCommitted() || out != null) {
                ClientAbort.abort(resp);
            } else {
                if (retryAfter) {
                    resp.setHeader("Retry-After", SessionForwarder.RETRY_AFTER);
                }
                writeErrorBody(status);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot send {}: {}", status, e.toString());
        } finally {
            try {
                async.complete();
            } catch (RuntimeException e) {
                log.debug("async complete failed: {}", e.toString());
            }
        }
    }

    private void abortClient() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        releaseLimits();
        try {
            if (!clientGone) {
                ClientAbort.abort(resp);
            }
        } finally {
            try {
                async.complete();
            } catch (RuntimeException e) {
                log.debug("async complete failed: {}", e.toString());
            }
        }
    }

    private void finishQuietly() {
        if (finished.compareAndSet(false, true)) {
            releaseLimits();
            try {
                async.complete();
            } catch (RuntimeException e) {
                log.debug("async complete failed: {}", e.toString());
            }
        }
    }

    private void releaseLimits() {
        Limits.Permit p = permit;
        if (p != null) {
            p.release(); // once, whichever end comes first
        }
    }

    // =====================================================================================
    // request headers
    // =====================================================================================

    private long headerBytes() {
        long n = 0;
        Enumeration<String> names = req.getHeaderNames();
        while (names.hasMoreElements()) {
            String name = names.nextElement();
            Enumeration<String> values = req.getHeaders(name);
            while (values.hasMoreElements()) {
                String v = values.nextElement();
                n += name.length() + (v == null ? 0 : v.length()) + 4;
            }
        }
        return n;
    }

    /** The client's request trailer fields, for the backend request (read once the body ended). */
    private HttpFields requestTrailers() {
        try {
            if (!req.isTrailerFieldsReady()) {
                return null;
            }
            Map<String, String> fields = req.getTrailerFields();
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
            log.debug("proxy {} {}: request trailers unavailable: {}", req.getMethod(), req.getRequestURI(), e.toString());
            return null;
        }
    }

    /** The backend's response trailer fields, for the client (asked for when the response ends). */
    private static Map<String, String> responseTrailers(Response r) {
        HttpFields t = r.getTrailers();
        if (t == null || t.size() == 0) {
            return Map.of();
        }
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (HttpField f : t) {
            if (Headers.isForwardableTrailer(f.getName())) {
                out.merge(f.getName(), f.getValue(), (x, y) -> x + ", " + y);
            }
        }
        return out;
    }

    private HttpFields.Mutable requestHeaders() {
        HttpFields.Mutable h = HttpFields.build();
        filter.requestHeaderRules().apply(view, origin, body != null && req.getContentLengthLong() < 0,
                new HeaderSink() {
                    @Override
                    public void add(String name, String value) {
                        h.add(name, value);
                    }

                    @Override
                    public void set(String name, String value) {
                        h.put(name, value);
                    }
                });
        return h;
    }

    // =====================================================================================
    // buffered bodies, targeted routing, fan-out
    // =====================================================================================

    private void bufferFailed(Throwable t) {
        if (t instanceof RequestBody.ClientTimeoutException) {
            clientBodyTimedOut(t);
        } else if (t instanceof RequestBody.TooLargeException) {
            log.warn("proxy {} {} route={}: {}", req.getMethod(), req.getRequestURI(), route.name(), t.getMessage());
            refuseBody();
        } else {
            clientFailed(t);
        }
    }

    /** Finds the target endpoint; answers 400 / 404 and returns false when there is none. */
    private boolean resolveTarget() {
        Targets.Choice c = Targets.choose(route, view, pathAndQuery, buffered == null ? null : buffered.formText());
        if (c.endpointId() == null) {
            log.warn("proxy {} {} route={}: {} ({}) in {}", req.getMethod(), req.getRequestURI(), route.name(),
                    c.reason(), route.target(), upstream.name());
            sendError(c.status());
            return false;
        }
        targetId = c.endpointId();
        pick.preferred(targetId);
        return true;
    }

    // accessors for FanOutExchange
    HttpClient client() { return client; }
    ProxyConfig config() { return config; }
    Route route() { return route; }
    HttpServletRequest request() { return req; }
    HttpServletResponse response() { return resp; }
    AsyncContext async() { return async; }
    HttpFields forwardHeaders() { return forwardHeaders; }
    String clientHost() { return clientHost; }
    String pathAndQuery() { return pathAndQuery; }

    /** The target as the client sent it, as a {@link RequestTarget} byte string. */
    String backendTarget() { return backendTarget; }
    InetAddress peer() { return peer; }
    BufferedBody buffered() { return buffered; }
    ProxyFilter filter() { return filter; }
    /** The exchange's session (session forwarding), or null. */
    ForwardedSession session() { return session; }
    boolean clientGone() { return clientGone; }

    /** Takes over the client response (returns false when it is already finished). */
    boolean claimFinish() {
        if (!finished.compareAndSet(false, true)) {
            return false;
        }
        releaseLimits();
        return true;
    }

    /** Answers with an error status (see {@link #sendError}). */
    void fail(int status) {
        sendError(status);
    }

    /** Ends the exchange after a claimed response was written. */
    void completeAsync() {
        try {
            async.complete();
        } catch (RuntimeException e) {
            log.debug("async complete failed: {}", e.toString());
        }
    }

    /** Aborts a claimed response whose writing failed. */
    void abortClaimed() {
        if (!clientGone) {
            ClientAbort.abort(resp);
        }
        completeAsync();
    }
}
