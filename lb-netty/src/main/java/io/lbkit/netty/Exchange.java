package io.lbkit.netty;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.core.internal.Repeats;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCodec;
import io.lbkit.proxy.engine.AccessRecord;
import io.lbkit.proxy.engine.AddedHeaderRules;
import io.lbkit.proxy.engine.UpstreamChoice;
import io.lbkit.proxy.engine.ClientOrigin;
import io.lbkit.proxy.engine.ErrorAnswer;
import io.lbkit.proxy.engine.ForwardedSession;
import io.lbkit.proxy.engine.Limits;
import io.lbkit.proxy.engine.SessionForwarder;
import io.lbkit.proxy.engine.RequestHeaderRules;
import io.lbkit.proxy.engine.Targets;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponse;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied request on one event loop: the retry loop over endpoints, the request body
 * streamed to the endpoint and the response streamed back, each direction reading only while the
 * other side's writes keep up. Every method runs on the client connection's loop, which also owns
 * the backend connections, so nothing here is shared between threads.
 *
 * <p>This class holds the steps and the attempt loop; each step's name says its side. {@link #start}
 * (client request: the limits, the pick's preferences and the backend request's header fields
 * through {@link ClientRequestSteps}, or the fan-out of a broadcast route), {@link #proceed} (the
 * target, the attempts, the session load), {@link #attempt} / {@link #connected} / {@link #send}
 * (backend request; its body and the client body timeout through {@link RequestBodyRelay}), the
 * backend response and then the client response through {@link ResponseRelay} (a {@link HeldHead}
 * while the session store saves), the retry policy's verdicts through {@link AttemptOutcomes}, the
 * limits' delay, the read and the total timeout through {@link ExchangeTimers}, then
 * {@link #answer} or {@link #finish}. The two relays and the timers are created once per exchange
 * and run on its loop; each is also a listener or task the exchange would otherwise allocate, so
 * the split adds no object per request.
 */
final class Exchange extends BackendOwner {

    static final Logger log = LoggerFactory.getLogger(Exchange.class);

    /** How the client connection goes on once the exchange is over. */
    enum Next { KEEP_ALIVE, CLOSE, DRAIN }

    final Engine engine;
    final ProxyConfig config;
    final ClientConnection conn;
    final Channel client;
    final EventLoop loop;
    final Route route;
    final Upstream upstream;
    private final RetryPolicy policy;
    final NettyClientRequest view;
    final ParsedRequest req;
    final String target;
    final ClientOrigin origin;
    final PickRequest pick;
    final StickyCodec sticky;
    final long declaredLength;
    final boolean chunkedBody;
    final boolean hasBody;
    final boolean expectContinue;
    final boolean clientKeepAlive;
    final RequestBodyRelay body = new RequestBodyRelay(this);
    final ResponseRelay response = new ResponseRelay(this);
    final ExchangeTimers timers = new ExchangeTimers(this);
    final AccessRecord rec;            // the access log's record of this request, or null
    HeadWriter forward;                // the backend request's fields but Host, the same for each attempt
    RetryPolicy.Attempts attempts;
    private Limits.Permit permit;      // the route's limits, released when the exchange finishes
    private String targetId;          // a targeted route: the only endpoint allowed
    private FanOutExchange fanOut;    // a broadcast route: the fan-out does the rest
    ForwardedSession session;          // session forwarding, or null
    boolean finished;

    // the current attempt
    private int generation;
    BackendConnection backend;
    Selection selection;
    Endpoint endpoint;
    long attemptStart;
    long headerNanos;
    boolean selectionDone;
    boolean requestSent;
    boolean reused;
    int staleRetries;

    Exchange(Engine engine, ClientConnection conn, Route route, NettyClientRequest view, String target,
             ClientOrigin origin, PickRequest pick) {
        this.engine = engine;
        this.config = engine.config;
        this.conn = conn;
        this.client = conn.channel();
        this.loop = client.eventLoop();
        this.route = route;
        this.upstream = UpstreamChoice.of(route, view); // the route's, or its canary's
        this.policy = route.retryPolicy() != null ? route.retryPolicy() : config.retryPolicy();
        this.view = view;
        this.req = view.request();
        this.target = target;
        this.origin = origin;
        this.pick = pick;
        this.sticky = engine.sticky(route);
        this.declaredLength = req.contentLength;
        this.chunkedBody = req.chunked;
        this.hasBody = declaredLength > 0 || chunkedBody;
        this.expectContinue = req.expectContinue;
        this.clientKeepAlive = req.keepAlive && conn.mayKeepAlive();
        this.rec = conn.rec.record;
        if (rec != null) {
            rec.routed(route.name(), upstream.name());
        }
    }

    // =====================================================================================
    // the steps: client request, then attempts (backend request, backend response), then the
    // client response; the request body relay, the response relay and the timers do the rest
    // =====================================================================================

    /** Client request: the route's limits, then the fan-out, or the pick's preferences and the header fields. */
    void start() {
        engine.activeExchanges.increment();
        response.requestStarted(); // limit_rate's start
        permit = ClientRequestSteps.admit(this);
        if (permit.decided() != null) { // a shared limit: its store decides, then back on this loop
            permit.decided().whenComplete((p, x) -> onLoop(this::sharedLimitDecided));
            return;
        }
        admitted();
    }

    private void sharedLimitDecided() {
        if (!finished) { // else the client went away while the shared limit decided
            ClientRequestSteps.logRefusal(this, permit);
            admitted();
        }
    }

    /** The limits have decided: a refusal, or the fan-out, or the pick's preferences and the header fields. */
    private void admitted() {
        if (permit.refused()) {
            answer(permit.status());
            return;
        }
        if (route.fanOut() != null) {
            startBroadcast();
            return;
        }
        ClientRequestSteps.pickPreferences(this);
        forward = ClientRequestSteps.backendHeaders(this);
        ClientRequestSteps.requestId(this);
        if (permit.delayMillis() > 0) {
            // nginx limit_req's delay: the exchange waits on its loop's timer, holding no thread
            timers.delay(this::proceed, permit.delayMillis());
        } else {
            proceed();
        }
    }

    /** A broadcast route: the fan-out does the rest, after the limits' delay as any request. */
    private void startBroadcast() {
        fanOut = new FanOutExchange(engine, conn, this, route, view, target, origin);
        if (permit.delayMillis() > 0) {
            timers.delay(this::startFanOut, permit.delayMillis());
        } else {
            fanOut.start();
        }
    }

    private void startFanOut() {
        timers.delayOver();
        if (!finished) {
            fanOut.start();
        }
    }

    /** After the limits' delay: the target (reading a form body first when it names it), then the attempts. */
    void proceed() {
        timers.delayOver();
        if (finished) {
            return;
        }
        if (route.target() != null) {
            if (body.readWholeFirst()) {
                return; // proceed() again once it is whole
            }
            if (!chooseTarget()) {
                return;
            }
        }
        attempts = policy.start(req.method().name(), config.ticker().nanos(), upstream.defaultTries());
        timers.startTotal();
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
            session.addRequestFields(forward);
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
        Targets.Choice c = ClientRequestSteps.target(this);
        if (c.endpointId() == null) {
            answer(c.status());
            return false;
        }
        targetId = c.endpointId();
        pick.preferred(targetId);
        return true;
    }

    void attempt(boolean retry) {
        generation++;
        backend = null;
        selectionDone = false;
        requestSent = false;
        reused = false;
        headerNanos = -1;
        response.skipInformationalEnd = false;
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
        if (rec != null) {
            rec.attemptStarted(endpoint, attemptStart);
        }
        BackendPool pool = conn.pool;
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
                conn.pool.release(c); // a fresh connection nobody waits for any more
            }
            return;
        }
        if (!f.isSuccess()) {
            attemptFailed(classify(f.cause()), f.cause(), false);
            return;
        }
        send(c);
    }

    /** Backend request: the head on {@code c}, then its body (the request body relay); the response is read. */
    private void send(BackendConnection c) {
        backend = c;
        c.owner = this;
        reused = c.responses > 0;
        if (rec != null) {
            rec.connected(System.nanoTime());
        }
        // the request line, Host (the endpoint's), then the same fields for every attempt, as bytes
        HeadWriter head = conn.requestHead.request(req.method(), target);
        head.field(Fields.HOST, RequestHeaderRules.backendHost(config, origin.host(), endpoint.host(), endpoint.port()));
        head.fieldsOf(forward);
        c.encoder.request(req.method(), body.chunkedToBackend() ? BodyEncoder.Body.CHUNKED : BodyEncoder.Body.RAW);
        c.channel.write(head.finish(), c.channel.voidPromise());
        requestSent = true;
        timers.startRead();
        body.toAttempt(c);
        c.channel.read();
    }

    // =====================================================================================
    // connection events, passed on to the relays
    // =====================================================================================

    /** A message of the client's request body (the connection reads one per {@code read()}). */
    void clientRead(Object msg) {
        if (fanOut != null) {
            fanOut.clientRead(msg);
            return;
        }
        body.clientRead(msg);
    }

    void clientWritable() {
        response.clientWritable();
    }

    @Override
    void backendRead(BackendConnection c, Object msg) {
        response.backendRead(c, msg);
    }

    @Override
    void backendReadComplete(BackendConnection c) {
        response.backendReadComplete(c);
    }

    @Override
    void backendWritable(BackendConnection c) {
        body.backendWritable(c);
    }

    // =====================================================================================
    // failures
    // =====================================================================================

    @Override
    void backendFailed(BackendConnection c, Throwable cause) {
        if (c != backend || finished) {
            return;
        }
        if (response.forwarding) {
            responseFailed(classify(cause) == Outcome.TIMEOUT ? Outcome.TIMEOUT : Outcome.RESET, cause);
        } else {
            attemptFailed(classify(cause), cause, false);
        }
    }

    /** The attempt ended before its response head: retry per the policy, or answer. */
    void attemptFailed(Outcome o, Throwable cause, boolean clientStalled) {
        AttemptOutcomes.failedBeforeHead(this, o, cause, clientStalled);
    }

    /** The response had started: nothing to answer, the client connection is cut. */
    void responseFailed(Outcome o, Throwable cause) {
        AttemptOutcomes.failedAfterHead(this, o, cause);
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

    void cancelAttempt() {
        if (selection != null) {
            completeSelection(Outcome.CANCELLED, 0);
        }
        dropBackend();
    }

    // =====================================================================================
    // ends
    // =====================================================================================

    /** Answers with the proxy's own error before any of the response went out. */
    void answer(int st) {
        answer(st, null);
    }

    /** {@link #answer(int)}, with {@code Retry-After} (seconds) unless {@code retryAfter} is null. */
    private void answer(int st, String retryAfter) {
        if (finished) {
            return;
        }
        if (response.forwarding) {
            cancelAttempt(); // the response had started: the client sees it cut, never a second answer
            abortClient();
            return;
        }
        boolean bodyLeft = hasBody && !body.clientBodyDone;
        boolean close = ErrorAnswer.closesConnection(st) || bodyLeft || !clientKeepAlive || engine.stopping;
        Next next = bodyLeft ? Next.DRAIN : close ? Next.CLOSE : Next.KEEP_ALIVE;
        finish(next, retryAfter == null ? Answers.error(st, close) : Answers.error(st, close, retryAfter));
    }

    void abortClient() {
        if (!finished) {
            finish(Next.CLOSE);
            client.close();
        }
    }

    void finish(Next next) {
        finish(next, null);
    }

    /** The fan-out of a broadcast route is over for the client: {@code answer} (or null) goes out, then {@code next}. */
    void fanOutEnded(Next next, HttpResponse answer) {
        finish(next, answer);
    }

    private void finish(Next next, HttpResponse answer) {
        finished = true;
        timers.cancelAll();
        body.release();
        response.release();
        if (permit != null) {
            permit.release(); // the route's concurrency slot, once, however the exchange ended
        }
        if (backend != null && !body.requestComplete) {
            dropBackend(); // the request to it is unfinished: it cannot carry another
        }
        engine.activeExchanges.decrement();
        if (answer != null) { // the proxy's own answer (or a fan-out's): the added fields its status takes
            AddedHeaderRules.apply(config, route, answer.status().code(), origin.scheme(),
                    Fields.sink(answer.headers()));
        }
        conn.exchangeEnded(next, answer);
    }

    void dropBackend() {
        BackendConnection c = backend;
        backend = null;
        body.waitBackendWritable = false;
        response.waitClientWritable = false;
        if (c != null) {
            c.discard();
        }
    }

    void completeSelection(Outcome o, int st) {
        if (!selectionDone && selection != null) {
            selectionDone = true;
            long latency = headerNanos >= 0 ? headerNanos : System.nanoTime() - attemptStart;
            selection.complete(o, st, latency);
        }
    }

    /** See {@link BackendFailure#classify}. */
    static Outcome classify(Throwable t) {
        return BackendFailure.classify(t);
    }
}
