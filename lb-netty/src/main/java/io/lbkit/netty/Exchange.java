package io.lbkit.netty;

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
import io.lbkit.proxy.engine.Admission;
import io.lbkit.proxy.engine.ClientOrigin;
import io.lbkit.proxy.engine.ErrorAnswer;
import io.lbkit.proxy.engine.ForwardedSession;
import io.lbkit.proxy.engine.Limits;
import io.lbkit.proxy.engine.SessionForwarder;
import io.lbkit.proxy.engine.RequestHeaderRules;
import io.lbkit.proxy.engine.RequestValues;
import io.lbkit.proxy.engine.Targets;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied request on one event loop: the retry loop over endpoints, the request body
 * streamed to the endpoint and the response streamed back, each direction reading only while the
 * other side's writes keep up. Every method runs on the client connection's loop, which also owns
 * the backend connections, so nothing here is shared between threads.
 */
final class Exchange extends BackendOwner {

    private static final Logger log = LoggerFactory.getLogger(Exchange.class);
    /** At most this many attempts per request are retried for a stale kept-alive connection (as the servlet engine). */
    private static final int MAX_STALE_RETRIES = 3;

    /** How the client connection goes on once the exchange is over. */
    enum Next { KEEP_ALIVE, CLOSE, DRAIN }

    private final Engine engine;
    private final ProxyConfig config;
    private final ClientConnection conn;
    private final Channel client;
    private final EventLoop loop;
    private final Route route;
    private final Upstream upstream;
    private final RetryPolicy policy;
    private final NettyClientRequest view;
    private final HttpRequest req;
    private final String target;
    private final ClientOrigin origin;
    private final PickRequest pick;
    private final StickyCodec sticky;
    private final long declaredLength;
    private final boolean chunkedBody;
    private final boolean hasBody;
    private final boolean expectContinue;
    private final boolean clientKeepAlive;
    private HttpHeaders forward;
    private RetryPolicy.Attempts attempts;
    private Limits.Permit permit;      // the route's limits, released when the exchange finishes
    private ScheduledFuture<?> delayTimer;
    private WholeBody whole;          // a body read before the pick (a target read from a form)
    private String targetId;          // a targeted route: the only endpoint allowed
    private FanOutExchange fanOut;    // a broadcast route: the fan-out does the rest
    private ForwardedSession session;  // session forwarding, or null
    private HeldHead held;             // a response head waiting for the session store, or null

    // the client's body
    private boolean continueSent;
    private boolean clientBodyDone;   // the client's last content was read
    private boolean requestComplete;  // the backend request's last content was written
    private boolean bodyConsumed;     // a body byte went to an endpoint: the body cannot be sent again
    private long bodyBytes;
    private boolean readingClient;    // a read of the client's body is outstanding
    private long clientWaitSince;
    private boolean waitBackendWritable;
    private HttpContent pending;      // a body chunk read while no attempt could take it

    // the current attempt
    private int generation;
    private BackendConnection backend;
    private Selection selection;
    private Endpoint endpoint;
    private long attemptStart;
    private long headerNanos;
    private boolean selectionDone;
    private boolean requestSent;
    private boolean reused;
    private int staleRetries;
    private boolean skipInformationalEnd;
    private boolean forwarding;       // the response's head went to the client
    private boolean responseEnded;    // the backend's last content was read
    private int status;
    private boolean backendKeepAlive;
    private boolean allowTrailers;
    private boolean waitClientWritable;
    private long lastBackendActivity;
    private boolean finished;

    private ScheduledFuture<?> readTimer;
    private ScheduledFuture<?> bodyTimer;
    private ScheduledFuture<?> totalTimer;
    private final Runnable readCheck = this::readCheck;
    private final Runnable bodyCheck = this::bodyCheck;
    private final ChannelFutureListener backendWritten = f -> {
        if (f.isSuccess()) {
            lastBackendActivity = System.nanoTime(); // the endpoint takes the body: not idle
        }
    };

    Exchange(Engine engine, ClientConnection conn, Route route, NettyClientRequest view, String target,
             ClientOrigin origin, PickRequest pick) {
        this.engine = engine;
        this.config = engine.config;
        this.conn = conn;
        this.client = conn.channel();
        this.loop = client.eventLoop();
        this.route = route;
        this.upstream = route.upstream();
        this.policy = route.retryPolicy() != null ? route.retryPolicy() : config.retryPolicy();
        this.view = view;
        this.req = view.request();
        this.target = target;
        this.origin = origin;
        this.pick = pick;
        this.sticky = engine.sticky(route);
        this.declaredLength = NettyClientRequest.declaredLength(req);
        this.chunkedBody = HttpUtil.isTransferEncodingChunked(req);
        this.hasBody = declaredLength > 0 || chunkedBody;
        this.expectContinue = HttpUtil.is100ContinueExpected(req);
        this.clientKeepAlive = HttpUtil.isKeepAlive(req) && conn.mayKeepAlive();
    }

    // =====================================================================================
    // start and attempts
    // =====================================================================================

    void start() {
        engine.activeExchanges.increment();
        permit = Limits.admit(route, origin);
        if (permit.refused()) {
            long skipped = engine.repeats(permit.reason()).admit();
            if (skipped >= 0) {
                log.warn("proxy {} {} route={}: {} ({}){}", req.method(), view.path(), route.name(), permit.status(),
                        permit.reason(), Repeats.note(skipped));
            }
            answer(permit.status());
            return;
        }
        if (route.fanOut() != null) {
            // a broadcast route: the fan-out does the rest, after the limits' delay as any request
            fanOut = new FanOutExchange(engine, conn, this, route, view, target, origin);
            if (permit.delayMillis() > 0) {
                delayTimer = loop.schedule(this::startFanOut, permit.delayMillis(), TimeUnit.MILLISECONDS);
            } else {
                fanOut.start();
            }
            return;
        }
        if (origin.peer() != null) {
            pick.clientAddress(origin.peer().getAddress());
        }
        if (route.hashKey() != null) {
            // the URI as the servlet engine hashes it: the target's bytes read as UTF-8
            RequestValues.applyHashKey(route.hashKey(), pick, view, NettyClientRequest.utf8(target),
                    new RequestValues.Slice());
        }
        if (sticky != null) {
            String bound = sticky.decode(RequestValues.cookie(view, sticky.settings().name()));
            if (bound != null) {
                pick.preferred(bound);
            }
        }
        forward = Fields.HEADERS.newHeaders();
        engine.requestRules.apply(view, origin, chunkedBody, Fields.sink(forward));
        if (declaredLength >= 0) {
            forward.set(Fields.CONTENT_LENGTH, declaredLength);
        } else if (chunkedBody) {
            forward.set(Fields.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (permit.delayMillis() > 0) {
            // nginx limit_req's delay: the exchange waits on its loop's timer, holding no thread
            delayTimer = loop.schedule(this::proceed, permit.delayMillis(), TimeUnit.MILLISECONDS);
        } else {
            proceed();
        }
    }

    private void startFanOut() {
        delayTimer = null;
        if (!finished) {
            fanOut.start();
        }
    }

    /** After the limits' delay: the target (reading a form body first when it names it), then the attempts. */
    private void proceed() {
        delayTimer = null;
        if (finished) {
            return;
        }
        if (route.target() != null) {
            if (whole == null && hasBody && route.buffersBody(req.headers().get(Fields.CONTENT_TYPE))) {
                long limit = Admission.bodyLimit(config, route);
                whole = new WholeBody(client.alloc(), limit > 0 ? limit : FanOut.DEFAULT_BUFFER_LIMIT,
                        req.headers().get(Fields.CONTENT_TYPE));
                readClientBody(); // proceed() again once it is whole
                return;
            }
            if (!chooseTarget()) {
                return;
            }
        }
        attempts = policy.start(req.method().name(), config.ticker().nanos(), upstream.defaultTries());
        long total = config.totalTimeout().toNanos();
        if (total > 0) {
            totalTimer = loop.schedule(this::totalTimedOut, total, TimeUnit.NANOSECONDS);
        }
        CompletionStage<Void> loading = null;
        if (engine.sessions != null) {
            session = engine.sessions.start(view, origin);
            loading = session.load();
        }
        if (loading == null) {
            attempt(false);
        } else {
            loading.whenComplete((v, x) -> onLoop(() -> sessionLoaded(x)));
        }
    }

    /** The client's session is loaded (or the store failed): the backend request gets it, or the client 503. */
    private void sessionLoaded(Throwable failure) {
        if (finished) {
            return; // the client went away meanwhile, or the total timeout answered
        }
        if (failure == null) {
            session.addRequestFields(Fields.sink(forward));
            attempt(false);
            return;
        }
        attempts.finish();
        if (SessionForwarder.isStoreFailure(failure)) {
            answer(503, SessionForwarder.RETRY_AFTER); // logged by the rule; no backend is contacted
            return;
        }
        long skipped = engine.repeats("session forwarding failed").admit();
        if (skipped >= 0) {
            log.warn("proxy {} {}: session forwarding failed: {}{}", req.method(), view.path(), failure.toString(),
                    Repeats.note(skipped));
        }
        answer(502);
    }

    /** Runs {@code task} on the exchange's loop: at once when called there, else queued onto it. */
    void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("proxy {} {}: the event loop has stopped: {}", req.method(), view.path(), e.toString());
        }
    }

    /** The endpoint a targeted request names; answers 400 / 404 and returns false when there is none. */
    private boolean chooseTarget() {
        Targets.Choice c = Targets.choose(route, view, NettyClientRequest.utf8(target),
                whole == null ? null : whole.formText());
        if (c.endpointId() == null) {
            log.warn("proxy {} {} route={}: {} ({}) in {}", req.method(), view.path(), route.name(), c.reason(),
                    route.target(), upstream.name());
            answer(c.status());
            return false;
        }
        targetId = c.endpointId();
        pick.preferred(targetId);
        return true;
    }

    private void attempt(boolean retry) {
        generation++;
        backend = null;
        selectionDone = false;
        requestSent = false;
        reused = false;
        headerNanos = -1;
        skipInformationalEnd = false;
        Selection s = upstream.pick(pick);
        if (targetId != null) {
            s = Targets.strict(s, targetId); // never another endpoint
        }
        if (!s.found()) {
            int st;
            if (!retry) {
                attempts.finish();
                st = 503;
                long skipped = engine.repeats("no endpoint").admit();
                if (skipped >= 0) {
                    log.warn("proxy {} {} route={}: no endpoint available in upstream {} ({}){}", req.method(), view.path(),
                            route.name(), upstream.name(), s.reason(), Repeats.note(skipped));
                }
            } else {
                // nginx's "no live upstreams": 502 whatever the last failure was
                st = attempts.noEndpoint();
                log.warn("proxy {} {} route={}: no endpoint of {} left to retry on", req.method(), view.path(),
                        route.name(), upstream.name());
            }
            answer(st);
            return;
        }
        selection = s;
        endpoint = s.endpoint();
        attemptStart = System.nanoTime();
        BackendPool pool = engine.pool(loop);
        BackendConnection idle = pool.pollIdle(endpoint);
        if (idle != null) {
            send(idle);
            return;
        }
        ChannelFuture f = pool.connect(endpoint);
        if (f == null) {
            // this loop's share of maxConnectionsPerEndpoint is in use: not the endpoint's failure
            completeSelection(Outcome.CANCELLED, 0);
            attempts.finish();
            log.warn("proxy {} {} route={}: {} has {} connections open; 502", req.method(), view.path(), route.name(),
                    endpoint.id(), config.maxConnectionsPerEndpoint());
            answer(502);
            return;
        }
        int gen = generation;
        f.addListener((ChannelFuture cf) -> connected(gen, cf));
    }

    private void connected(int gen, ChannelFuture f) {
        BackendConnection c = f.channel().pipeline().get(BackendConnection.class);
        if (gen != generation || finished) {
            if (f.isSuccess() && c != null) {
                engine.pool(loop).release(c); // a fresh connection nobody waits for any more
            }
            return;
        }
        if (!f.isSuccess()) {
            attemptFailed(classify(f.cause()), f.cause(), false);
            return;
        }
        send(c);
    }

    private void send(BackendConnection c) {
        backend = c;
        c.owner = this;
        reused = c.responses > 0;
        // the same fields for every attempt but Host (the encoder has written the previous attempt's already)
        forward.set(Fields.HOST, RequestHeaderRules.backendHost(config, origin.host(), endpoint.host(), endpoint.port()));
        c.channel.write(new DefaultHttpRequest(HttpVersion.HTTP_1_1, req.method(), target, forward, false),
                c.channel.voidPromise());
        requestSent = true;
        lastBackendActivity = System.nanoTime();
        if (readTimer == null) {
            readTimer = loop.schedule(readCheck, config.readTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        HttpContent p = pending;
        if (whole != null) {
            requestComplete = true; // read before the pick: sent again as it is to each attempt
            c.channel.writeAndFlush(whole.forAttempt()).addListener(backendWritten);
        } else if (p != null) {
            pending = null;
            forwardBody(p); // read while the previous attempt ended; nothing of it reached an endpoint
        } else if (!hasBody || clientBodyDone) {
            requestComplete = true;
            c.channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, c.channel.voidPromise());
        } else {
            c.channel.flush();
            readClientBody();
        }
        c.channel.read();
    }

    // =====================================================================================
    // the request body: client -> endpoint
    // =====================================================================================

    private void readClientBody() {
        if (expectContinue && !continueSent) {
            continueSent = true; // the endpoint is connected and asks for the body: as Jetty, 100 now
            client.writeAndFlush(Answers.continueResponse(), client.voidPromise());
        }
        readingClient = true;
        clientWaitSince = System.nanoTime();
        if (bodyTimer == null) {
            bodyTimer = loop.schedule(bodyCheck, config.clientBodyTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        conn.read();
    }

    /** A message of the client's request body (the connection reads one per {@code read()}). */
    void clientRead(Object msg) {
        if (fanOut != null) {
            fanOut.clientRead(msg);
            return;
        }
        readingClient = false;
        if (!(msg instanceof HttpContent c) || finished || clientBodyDone) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (c.decoderResult().isFailure()) {
            c.release();
            long skipped = engine.repeats("request body failed").admit();
            if (skipped >= 0) {
                log.warn("proxy {} {} route={}: the client's request body is malformed ({}); 400{}", req.method(),
                        view.path(), route.name(), c.decoderResult().cause().toString(), Repeats.note(skipped));
            }
            // the attempt ends unfinished (the endpoint sees a cut body, never a valid request) and is not
            // the endpoint's failure; 400 unless the response had started (then the client is cut)
            cancelAttempt();
            answer(400);
            return;
        }
        if (whole != null && !whole.done()) {
            collect(c);
            return;
        }
        bodyBytes += c.content().readableBytes();
        long limit = config.maxRequestBodyBytes();
        if (limit > 0 && bodyBytes > limit) {
            c.release();
            log.warn("proxy {} {}: request body larger than {} bytes", req.method(), view.path(), limit);
            cancelAttempt();
            answer(413);
            return;
        }
        if (c instanceof LastHttpContent) {
            clientBodyDone = true;
        }
        if (backend == null || !backend.channel.isActive()) {
            pending = c; // the attempt is between endpoints: the next one takes it
            return;
        }
        forwardBody(c);
    }

    /** A part of a body read whole before the pick. */
    private void collect(HttpContent c) {
        if (!whole.add(c)) {
            log.warn("proxy {} {} route={}: request body larger than {} bytes", req.method(), view.path(), route.name(),
                    whole.limit());
            answer(413);
            return;
        }
        if (!whole.done()) {
            readClientBody();
            return;
        }
        clientBodyDone = true;
        forward.remove(Fields.TRANSFER_ENCODING);
        forward.remove(Fields.TRAILER);
        forward.set(Fields.CONTENT_LENGTH, whole.length());
        proceed();
    }

    private void forwardBody(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (c.content().isReadable()) {
            bodyConsumed = true;
        }
        if (last) {
            requestComplete = true;
            Fields.filterTrailers(((LastHttpContent) c).trailingHeaders(), chunkedBody);
        }
        Channel ch = backend.channel;
        ch.writeAndFlush(c).addListener(backendWritten);
        if (!last) {
            if (ch.isWritable()) {
                readClientBody();
            } else {
                waitBackendWritable = true; // the endpoint's socket is full: the client waits
            }
        }
    }

    void backendWritable(BackendConnection c) {
        if (c == backend && waitBackendWritable && c.channel.isWritable()) {
            waitBackendWritable = false;
            readClientBody();
        }
    }

    // =====================================================================================
    // the response: endpoint -> client
    // =====================================================================================

    void backendRead(BackendConnection c, Object msg) {
        if (c != backend || finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        lastBackendActivity = System.nanoTime();
        if (msg instanceof HttpResponse r) {
            if (!responseHead(r)) {
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            if (held != null) {
                held.add(content); // the head waits for the session store: what came with it waits too
            } else {
                responseContent(content);
            }
        } else if (!(msg instanceof HttpResponse)) {
            // raw bytes after a protocol switch the request never asked for (Upgrade is not forwarded)
            ReferenceCountUtil.release(msg);
            if (forwarding) {
                responseFailed(Outcome.INVALID_RESPONSE, null);
            } else {
                attemptFailed(Outcome.INVALID_RESPONSE, null, false);
            }
        }
    }

    /** The head of the backend's response; false when it is not forwarded. */
    private boolean responseHead(HttpResponse r) {
        if (r.decoderResult().isFailure()) {
            attemptFailed(Outcome.INVALID_RESPONSE, r.decoderResult().cause(), false);
            return false;
        }
        int st = r.status().code();
        if (r.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            skipInformationalEnd = true; // 100 Continue, 103: the final answer follows
            return false;
        }
        headerNanos = System.nanoTime() - attemptStart;
        RetryPolicy.Decision d = attempts.next(Outcome.RESPONSE, st, true, false, config.ticker().nanos());
        if (d == RetryPolicy.Decision.RETRY && bodyConsumed) {
            // part of the streamed body went to this endpoint and cannot be sent again: its answer is the client's
            attempts.finish();
            d = RetryPolicy.Decision.DONE;
        }
        if (d == RetryPolicy.Decision.RETRY) {
            completeSelection(Outcome.RESPONSE, st);
            pick.markTried(selection);
            log.debug("proxy {} {}: {} answered {}, retrying", req.method(), view.path(), endpoint.id(), st);
            dropBackend();
            attempt(true);
            return false;
        }
        status = st;
        forwarding = true;
        backendKeepAlive = HttpUtil.isKeepAlive(r);
        ClientHead head = ClientHead.of(engine, r, view, clientKeepAlive, endpoint.id(), sticky, origin.secure());
        allowTrailers = head.trailers;
        if (head.closes) {
            conn.closeAfterExchange();
        }
        CompletionStage<Void> saving = session == null ? null : session.save(Fields.of(r.headers()));
        if (saving != null) {
            held = new HeldHead(head.response); // and the backend is not read until the store is done
            saving.whenComplete((v, x) -> onLoop(this::sessionSaved));
            return true;
        }
        client.write(head.response, client.voidPromise());
        return true;
    }

    /** The backend's session patch is stored: the held head goes out with the new session's cookie. */
    private void sessionSaved() {
        if (finished) {
            return; // the client went away meanwhile (or the backend failed): finish released what was held
        }
        HeldHead h = held;
        held = null;
        session.addResponseFields(Fields.responseSink(h.response.headers()));
        client.write(h.response, client.voidPromise());
        HttpContent c;
        while ((c = h.poll()) != null) {
            if (finished) {
                c.release();
            } else {
                responseContent(c);
            }
        }
        if (!finished && !responseEnded) {
            backendReadComplete(backend); // flush, and read on as the client takes the bytes
        }
    }

    private void responseContent(HttpContent c) {
        if (skipInformationalEnd && !forwarding) {
            skipInformationalEnd = false;
            c.release();
            return;
        }
        if (!forwarding) {
            c.release();
            return;
        }
        if (c.decoderResult().isFailure()) {
            Throwable cause = c.decoderResult().cause();
            c.release();
            responseFailed(Outcome.RESET, cause);
            return;
        }
        if (c instanceof LastHttpContent last) {
            responseEnded = true;
            backend.responses++;
            Fields.filterTrailers(last.trailingHeaders(), allowTrailers);
            client.writeAndFlush(c).addListener(this::responseWritten);
        } else {
            client.write(c, client.voidPromise());
        }
    }

    void backendReadComplete(BackendConnection c) {
        if (c != backend || finished || responseEnded || held != null) {
            return; // a held head: nothing goes to the client and the backend is not read
        }
        if (forwarding) {
            client.flush(); // what came is passed on now: each SSE event as it arrives
        }
        if (client.isWritable()) {
            c.channel.read();
        } else {
            waitClientWritable = true; // the client reads slowly: the endpoint waits
        }
    }

    void clientWritable() {
        if (waitClientWritable && client.isWritable() && backend != null && !finished) {
            waitClientWritable = false;
            backend.channel.read();
        }
    }

    private void responseWritten(io.netty.util.concurrent.Future<? super Void> f) {
        if (finished) {
            return;
        }
        if (!f.isSuccess()) {
            clientGone();
            return;
        }
        completeSelection(Outcome.RESPONSE, status);
        attempts.finish();
        BackendConnection c = backend;
        backend = null;
        if (backendKeepAlive && requestComplete && !engine.stopping) {
            engine.pool(loop).release(c);
        } else {
            c.discard();
        }
        finish(clientBodyDone || !hasBody ? Next.KEEP_ALIVE : Next.DRAIN);
    }

    // =====================================================================================
    // failures
    // =====================================================================================

    void backendFailed(BackendConnection c, Throwable cause) {
        if (c != backend || finished) {
            return;
        }
        if (forwarding) {
            responseFailed(classify(cause) == Outcome.TIMEOUT ? Outcome.TIMEOUT : Outcome.RESET, cause);
        } else {
            attemptFailed(classify(cause), cause, false);
        }
    }

    /** The attempt ended before its response head: retry per the policy, or answer. */
    private void attemptFailed(Outcome o, Throwable cause, boolean clientStalled) {
        if (finished) {
            return;
        }
        dropBackend();
        if (clientStalled) {
            completeSelection(Outcome.CANCELLED, 0);
            attempts.finish();
            log.info("proxy {} {} route={}: request body timed out: 408", req.method(), view.path(), route.name());
            answer(408);
            return;
        }
        if (engine.stopping) {
            completeSelection(Outcome.CANCELLED, 0);
            attempts.finish();
            answer(503); // the proxy is stopping: nothing is retried
            return;
        }
        boolean stale = o == Outcome.RESET && reused && staleRetries < MAX_STALE_RETRIES;
        if (stale) {
            // a kept-alive connection the endpoint had closed (its idle timeout racing this reuse):
            // one more try that the endpoint does not pay for, as the servlet engine
            staleRetries++;
            attempts.extraTry();
            completeSelection(Outcome.CANCELLED, 0);
        } else {
            completeSelection(o, 0);
            pick.markTried(selection);
        }
        if (bodyConsumed) {
            attempts.bodyReplayable(false);
        }
        RetryPolicy.Decision d = attempts.next(o, 0, requestSent || stale, false, config.ticker().nanos());
        if (d == RetryPolicy.Decision.RETRY) {
            log.debug("proxy {} {}: {} on {}, retrying", req.method(), view.path(), o, endpoint.id());
            attempt(true);
            return;
        }
        int st = attempts.statusOnGiveUp();
        log.warn("proxy {} {} route={}: {} on {} ({}), giving up ({}) with {}", req.method(), view.path(), route.name(), o,
                endpoint.id(), cause == null ? "" : cause.toString(), attempts.giveUpReason(), st);
        answer(st);
    }

    /** The response had started: nothing to answer, the client connection is cut. */
    private void responseFailed(Outcome o, Throwable cause) {
        completeSelection(o, 0);
        attempts.finish();
        log.warn("proxy {} {}: response from {} failed after it started: {}", req.method(), view.path(), endpoint.id(),
                cause == null ? o.toString() : cause.toString());
        dropBackend();
        abortClient();
    }

    /** The client went away: the attempt ends CANCELLED, the endpoint is not blamed. */
    void clientGone() {
        if (fanOut != null && !finished) {
            fanOut.clientGone();
            return;
        }
        if (finished) {
            return;
        }
        log.debug("proxy {} {}: client went away", req.method(), view.path());
        cancelAttempt();
        if (attempts != null) {
            attempts.finish();
        }
        dropBackend();
        finish(Next.CLOSE);
    }

    private void cancelAttempt() {
        if (selection != null) {
            completeSelection(Outcome.CANCELLED, 0);
        }
        dropBackend();
    }

    private void readCheck() {
        readTimer = null;
        if (finished || backend == null || responseEnded) {
            return;
        }
        if (held != null) {
            lastBackendActivity = System.nanoTime(); // the proxy, not the endpoint, is waiting (for the session store)
        }
        long idle = System.nanoTime() - lastBackendActivity;
        long limit = config.readTimeout().toNanos();
        if (idle < limit) {
            readTimer = loop.schedule(readCheck, limit - idle, TimeUnit.NANOSECONDS);
            return;
        }
        // while the client pauses its body, the endpoint is idle because of the client: the client's stall
        boolean clientStalled = readingClient && !clientBodyDone;
        ReadTimeoutException why = new ReadTimeoutException("no byte from the endpoint for "
                + config.readTimeout().toMillis() + " ms");
        if (forwarding) {
            responseFailed(clientStalled ? Outcome.CANCELLED : Outcome.TIMEOUT, why);
        } else {
            attemptFailed(Outcome.TIMEOUT, why, clientStalled);
        }
    }

    private void bodyCheck() {
        bodyTimer = null;
        if (finished || clientBodyDone) {
            return;
        }
        long waited = readingClient ? System.nanoTime() - clientWaitSince : 0;
        long limit = config.clientBodyTimeout().toNanos();
        if (waited < limit) {
            bodyTimer = loop.schedule(bodyCheck, limit - waited, TimeUnit.NANOSECONDS);
            return;
        }
        if (attempts == null) {
            log.info("proxy {} {} route={}: request body timed out: 408", req.method(), view.path(), route.name());
            answer(408); // the body was read whole before the pick
            return;
        }
        if (forwarding) {
            log.info("proxy {} {} route={}: request body timed out after the response started; aborting", req.method(),
                    view.path(), route.name());
            cancelAttempt();
            abortClient();
        } else {
            attemptFailed(Outcome.CANCELLED, null, true);
        }
    }

    private void totalTimedOut() {
        totalTimer = null;
        if (finished) {
            return;
        }
        ReadTimeoutException why = new ReadTimeoutException("the total timeout of "
                + config.totalTimeout().toMillis() + " ms passed");
        if (forwarding) {
            responseFailed(Outcome.TIMEOUT, why);
            return;
        }
        if (selection != null && !selectionDone) {
            completeSelection(Outcome.TIMEOUT, 0);
        }
        attempts.finish();
        dropBackend();
        log.warn("proxy {} {} route={}: total timeout of {} ms; 504", req.method(), view.path(), route.name(),
                config.totalTimeout().toMillis());
        answer(504);
    }

    // =====================================================================================
    // ends
    // =====================================================================================

    /** Answers with the proxy's own error before any of the response went out. */
    private void answer(int st) {
        answer(st, null);
    }

    /** {@link #answer(int)}, with {@code Retry-After} (seconds) unless {@code retryAfter} is null. */
    private void answer(int st, String retryAfter) {
        if (finished) {
            return;
        }
        if (forwarding) {
            cancelAttempt(); // the response had started: the client sees it cut, never a second answer
            abortClient();
            return;
        }
        boolean bodyLeft = hasBody && !clientBodyDone;
        boolean close = ErrorAnswer.closesConnection(st) || bodyLeft || !clientKeepAlive || engine.stopping;
        Next next = bodyLeft ? Next.DRAIN : close ? Next.CLOSE : Next.KEEP_ALIVE;
        finish(next, retryAfter == null ? Answers.error(st, close) : Answers.error(st, close, retryAfter));
    }

    private void abortClient() {
        if (!finished) {
            finish(Next.CLOSE);
            client.close();
        }
    }

    private void finish(Next next) {
        finish(next, null);
    }

    /** The fan-out of a broadcast route is over for the client: {@code answer} (or null) goes out, then {@code next}. */
    void fanOutEnded(Next next, HttpResponse answer) {
        finish(next, answer);
    }

    private void finish(Next next, HttpResponse answer) {
        finished = true;
        cancel(readTimer);
        cancel(bodyTimer);
        cancel(totalTimer);
        cancel(delayTimer);
        readTimer = bodyTimer = totalTimer = delayTimer = null;
        if (pending != null) {
            pending.release();
            pending = null;
        }
        if (held != null) {
            held.release();
            held = null;
        }
        if (whole != null) {
            whole.release();
        }
        if (permit != null) {
            permit.release(); // the route's concurrency slot, once, however the exchange ended
        }
        if (backend != null && !requestComplete) {
            dropBackend(); // the request to it is unfinished: it cannot carry another
        }
        engine.activeExchanges.decrement();
        conn.exchangeEnded(next, answer);
    }

    private static void cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    private void dropBackend() {
        BackendConnection c = backend;
        backend = null;
        waitBackendWritable = false;
        waitClientWritable = false;
        if (c != null) {
            c.discard();
        }
    }

    private void completeSelection(Outcome o, int st) {
        if (!selectionDone && selection != null) {
            selectionDone = true;
            long latency = headerNanos >= 0 ? headerNanos : System.nanoTime() - attemptStart;
            selection.complete(o, st, latency);
        }
    }

    // =====================================================================================
    // helpers
    // =====================================================================================

    static Outcome classify(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConnectTimeoutException || c instanceof ReadTimeoutException) {
                return Outcome.TIMEOUT;
            }
            if (c instanceof ConnectException || c instanceof NoRouteToHostException
                    || c instanceof UnknownHostException) {
                return Outcome.CONNECT_FAILURE;
            }
            if (c instanceof io.netty.handler.codec.DecoderException
                    || c instanceof io.netty.handler.codec.TooLongFrameException) {
                return Outcome.INVALID_RESPONSE;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return Outcome.RESET;
    }

    /** No byte from the endpoint for {@code readTimeout} (nginx {@code proxy_read_timeout}), or the total timeout. */
    static final class ReadTimeoutException extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        ReadTimeoutException(String message) {
            super(message, null);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
