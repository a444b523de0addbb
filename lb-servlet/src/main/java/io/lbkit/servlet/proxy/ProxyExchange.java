package io.lbkit.servlet.proxy;

import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.core.internal.Repeats;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCodec;
import io.lbkit.proxy.engine.AccessRecord;
import io.lbkit.proxy.engine.UpstreamChoice;
import io.lbkit.proxy.engine.Admission;
import io.lbkit.proxy.engine.ClientOrigin;
import io.lbkit.proxy.engine.ForwardedSession;
import io.lbkit.proxy.engine.HeaderSink;
import io.lbkit.proxy.engine.Limits;
import io.lbkit.proxy.engine.RequestTarget;
import io.lbkit.proxy.engine.RequestValues;
import io.lbkit.proxy.engine.SessionForwarder;
import io.lbkit.proxy.engine.Targets;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Enumeration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpFields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied request on the servlet engine: its per-request state and its steps, in the order
 * {@link #start} reads. The client request is admitted (lb-proxy's {@link Admission}, the request
 * target, {@link ClientOrigin}, the route's {@link Limits}), async starts and the client body is
 * read ({@link RequestBody} streamed, or {@link BufferedBody}); the endpoint choice's inputs and the
 * backend request's headers are prepared and the session loaded ({@link SessionForwarder}); then
 * the request goes to the backend: to every endpoint of a broadcast route ({@link FanOutExchange}),
 * or by attempts ({@link #attempt}, each a {@link BackendAttempt}: the backend request, the backend
 * response, the retry decision) until one backend response is relayed by the
 * {@link ClientResponse}. {@link ClientEnd} ends the client side once, whichever end comes first.
 * The rules are lb-proxy's; this package only moves bytes between the servlet container and
 * Jetty's client.
 *
 * <p>Threads: all callbacks may run on any thread. {@link #start} runs on the container thread;
 * the later steps on whichever thread completed the one before (the session store's, the
 * scheduler's after a limits delay, the body reader's, an HTTP client thread after an attempt);
 * the {@link AsyncListener} callbacks on container threads. The fields {@link #start} sets are
 * written on the container thread before the steps that read them begin; {@code attempts},
 * {@code targetId} and {@code staleRetries} are touched by one step at a time (the attempts follow
 * each other); what another thread reads at any moment ({@code clientGone}, {@code current},
 * {@code fanOut}, {@code bufferedReady}) is volatile. The response pump is serialized
 * ({@link ClientResponse}); the end is one compare-and-set ({@link ClientEnd}).
 */
final class ProxyExchange implements AsyncListener {

    private static final Logger log = LoggerFactory.getLogger(ProxyExchange.class);

    final ProxyFilter filter;
    final HttpClient client;
    final ProxyConfig config;
    final Route route;
    private final Upstream upstream;
    private final RetryPolicy policy;
    final ServletClientRequest view; // the client request as the rules read it
    final HttpServletRequest req;
    final HttpServletResponse resp;
    final PickRequest pick = PickRequest.create();
    final ClientResponse clientResponse;     // relays the backend response an attempt forwards
    final ClientEnd end;                     // the client side's one end

    RetryPolicy.Attempts attempts;
    AsyncContext async;
    RequestBody body;                        // a streamed client body, or null
    HttpFields.Mutable forwardHeaders;       // the backend request's fields, but Host
    String clientHost;
    private InetAddress peer;
    private ClientOrigin origin;
    boolean secure;
    StickyCodec sticky;
    Limits.Permit permit;                    // the route's limits: released once when the exchange ends
    private String pathAndQuery;             // decoded (container's view): hash keys, target values
    String backendTarget;                    // the client's bytes: what the endpoint receives
    BufferedBody buffered;                   // broadcast routes and form-field targets
    private volatile boolean bufferedReady;
    private String targetId;                 // targeted routes: the only endpoint allowed
    private volatile FanOutExchange fanOut;  // broadcast routes
    ForwardedSession session;                // session forwarding, or null
    int staleRetries;                        // touched by one attempt's completion at a time

    volatile boolean clientGone;
    final AccessRecord rec;                  // the access log's and meters' record, or null
    final java.util.concurrent.atomic.AtomicBoolean logged = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile BackendAttempt current;

    ProxyExchange(ProxyFilter filter, HttpClient client, Route route, ServletClientRequest view,
                  HttpServletResponse resp) {
        this.filter = filter;
        this.client = client;
        this.config = filter.config();
        this.route = route;
        this.upstream = UpstreamChoice.of(route, view); // the route's, or its canary's
        this.policy = route.retryPolicy() != null ? route.retryPolicy() : config.retryPolicy();
        this.view = view;
        this.req = view.servletRequest();
        this.resp = resp;
        this.clientResponse = new ClientResponse(this);
        this.end = new ClientEnd(this);
        this.rec = ExchangeLog.begin(filter.status, config, view);
        if (rec != null) {
            rec.routed(route.name(), upstream.name());
        }
    }

    // =====================================================================================
    // the steps
    // =====================================================================================

    /**
     * The exchange, step by step. On the container thread: admit the client request, start async
     * and read its body, prepare the endpoint choice and the backend request's fields, load the
     * session; then, once the session is there and the limits' delay passed,
     * {@link #sendToBackend()}.
     */
    void start() throws IOException {
        if (!admitClientRequest()) {
            return;
        }
        startAsync();
        readClientBody();
        prepareEndpointChoice();
        forwardHeaders = backendRequestHeaders();
        CompletionStage<?> loading = loadSession();
        afterSharedLimits(loading); // then afterLimitsDelay, afterSessionLoad, sendToBackend
    }

    /**
     * Once the client body is buffered (when the route buffers it): fan out, or choose the target
     * endpoint and run the first attempt. The attempts then follow each other ({@link #attempt}).
     */
    private void sendToBackend() {
        if (buffered != null && !bufferedReady) {
            buffered.whenDone(() -> {
                bufferedReady = true;
                sendToBackend();
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

    /**
     * Picks an endpoint and sends the next attempt to it; answers 503 when none is available, or
     * (after {@code previous}) nginx's "no live upstreams" status when none is left to retry on.
     */
    void attempt(BackendAttempt previous) {
        if (clientGone) {
            attempts.finish();
            end.quietly();
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
            end.error(status);
            return;
        }
        BackendAttempt a = new BackendAttempt(this, s);
        current = a;
        a.send();
    }

    // =====================================================================================
    // the client request (container thread)
    // =====================================================================================

    /**
     * The checks before anything is sent: the header block's size (431), lb-proxy's
     * {@link Admission} (400/405/413/414/501), the request target (400), the client's
     * {@link ClientOrigin}, the route's {@link Limits}. Answers and returns false on a refusal.
     */
    private boolean admitClientRequest() throws IOException {
        if (headerBytes() > config.maxRequestHeaderBytes()) {
            end.answerNow(431, "request header fields too large");
            return false;
        }
        long length = req.getContentLengthLong();
        Admission.Refusal refusal = Admission.check(config, route, view, length);
        if (refusal != null) {
            if (refusal.bodyTooLarge()) {
                end.refuseDeclaredBody(length, Admission.bodyLimit(config, route));
            } else {
                if (refusal.status() == 405) {
                    resp.setHeader("Allow", Admission.ALLOW);
                }
                end.answerNow(refusal.status(), refusal.reason());
            }
            return false;
        }
        String host = req.getHeader("Host");
        String q = req.getQueryString();
        pathAndQuery = q == null ? req.getRequestURI() : req.getRequestURI() + "?" + q;
        backendTarget = RequestTarget.fromDecoded(req.getRequestURI(), q);
        if (backendTarget == null) {
            // bytes the container could not decode were replaced: forwarding would change them
            end.answerNow(400, "the request target is not valid UTF-8");
            return false;
        }
        // nginx: a request without Host (HTTP/1.0) stands for the server's name; the proxy's own
        // address is never sent on (it may be an internal one)
        origin = ClientOrigin.of(config, view, req.getRemoteAddr(), req.getScheme(), host, req.getServerPort());
        peer = origin.peer();
        secure = origin.secure();
        clientHost = origin.host();

        Limits.Permit admitted = Limits.admit(config, route, origin, view);
        if (admitted.refused()) {
            if (rec != null) {
                rec.refused(admitted.reason(), admitted.status());
            }
            end.answerNow(admitted.status(), admitted.reason());
            return false;
        }
        permit = admitted;
        return true;
    }

    private void startAsync() {
        async = req.startAsync(req, resp);
        async.setTimeout(0); // the proxy's own timeouts apply
        async.addListener(this);
    }

    /**
     * The client body's reader: buffered whole when the route needs it before the send (broadcast
     * routes, form-field targets), else streamed to each attempt.
     */
    private void readClientBody() throws IOException {
        long length = req.getContentLengthLong();
        long limit = Admission.bodyLimit(config, route);
        boolean hasBody = length > 0 || (length < 0 && req.getHeader("Transfer-Encoding") != null);
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
    }

    /** What the balancer picks by: the client's address, the route's hash key, the sticky cookie. */
    private void prepareEndpointChoice() {
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
    }

    /** The size of the client's header block as sent: each field's name, ": ", value and CRLF. */
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

    // =====================================================================================
    // the backend request's fields, the session, the limits' delay
    // =====================================================================================

    /** The backend request's header fields but Host, by lb-proxy's {@code RequestHeaderRules}. */
    private HttpFields.Mutable backendRequestHeaders() {
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
        ExchangeLog.requestId(this, origin, h);
        return h;
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

    /** Awaits a shared rate limit's decision (its store's answer, on the store's thread), if the route has one. */
    private void afterSharedLimits(CompletionStage<?> loading) {
        CompletionStage<Limits.Permit> decided = permit.decided();
        if (decided == null) {
            afterLimitsDelay(loading);
            return;
        }
        decided.whenComplete((p, x) -> {
            if (clientGone) {
                end.quietly();
            } else if (p.refused()) {
                end.refuse(p.status(), p.reason());
            } else {
                afterLimitsDelay(loading);
            }
        });
    }

    /** Awaits the session load now, or on the scheduler once the route's rate limit's delay has passed. */
    private void afterLimitsDelay(CompletionStage<?> loading) {
        if (permit.delayMillis() > 0) {
            client.getScheduler().schedule(() -> afterSessionLoad(loading), permit.delayMillis(), TimeUnit.MILLISECONDS);
        } else {
            afterSessionLoad(loading);
        }
    }

    /** Adds the loaded session's fields and goes on, or answers 503 (store down) or 502. */
    private void afterSessionLoad(CompletionStage<?> stage) {
        if (stage == null) {
            sendToBackend();
        } else {
            stage.whenComplete((v, x) -> {
                if (x == null) {
                    session.addRequestFields(ServletFields.sink(forwardHeaders));
                    sendToBackend();
                } else if (SessionForwarder.isStoreFailure(x)) {
                    // logged by the rule: the backend would act on a request without its session
                    log.debug("proxy {} {}: session store unavailable: 503", req.getMethod(), req.getRequestURI());
                    end.error(503, true);
                } else {
                    long skipped = filter.repeats("session forwarding failed").admit();
                    if (skipped >= 0) {
                        log.warn("proxy {} {}: session forwarding failed: {}{}", req.getMethod(), req.getRequestURI(),
                                x.toString(), Repeats.note(skipped));
                    }
                    end.error(502);
                }
            });
        }
    }

    // =====================================================================================
    // buffered bodies, targeted routing
    // =====================================================================================

    private void bufferFailed(Throwable t) {
        if (t instanceof RequestBody.ClientTimeoutException) {
            end.bodyTimedOut(t);
        } else if (t instanceof RequestBody.TooLargeException) {
            log.warn("proxy {} {} route={}: {}", req.getMethod(), req.getRequestURI(), route.name(), t.getMessage());
            end.refuseBody();
        } else {
            clientFailed(t);
        }
    }

    /** Finds the target endpoint; answers 400 / 404 and returns false when there is none. */
    private boolean resolveTarget() {
        Targets.Choice c = Targets.choose(route, upstream, view, pathAndQuery, buffered == null ? null : buffered.formText());
        if (c.endpointId() == null) {
            log.warn("proxy {} {} route={}: {} ({}) in {}", req.getMethod(), req.getRequestURI(), route.name(),
                    c.reason(), route.target(), upstream.name());
            end.error(c.status());
            return false;
        }
        targetId = c.endpointId();
        pick.preferred(targetId);
        return true;
    }

    // =====================================================================================
    // the client going away; AsyncListener (container threads)
    // =====================================================================================

    /** The client went away or its side failed: aborts what runs towards the backends, ends quietly. */
    void clientFailed(Throwable t) {
        clientGone = true;
        log.debug("proxy {} {}: client went away: {}", req.getMethod(), req.getRequestURI(), t.toString());
        BackendAttempt a = current;
        if (a != null && a.request != null) {
            a.request.abort(t);
        }
        FanOutExchange f = fanOut;
        if (f != null) {
            f.abort(t);
        }
        end.quietly();
    }

    @Override
    public void onComplete(AsyncEvent event) {
        ExchangeLog.end(this);
        clientResponse.releaseWritten(); // the response is done: nothing writes from the chunk any more
        if (body != null) {
            body.exchangeOver(); // no timer keeps the exchange reachable, no backend waits for more body
        }
        if (buffered != null) {
            buffered.stopWatch();
        }
        end.abandonDrain();
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
    // for FanOutExchange
    // =====================================================================================

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
        return end.claim();
    }

    /** Answers with an error status (see {@link ClientEnd#error}). */
    void fail(int status) {
        end.error(status);
    }

    /** Ends the exchange after a claimed response was written. */
    void completeAsync() {
        end.completeAsync();
    }

    /** Aborts a claimed response whose writing failed. */
    void abortClaimed() {
        end.abortClaimed();
    }
}
