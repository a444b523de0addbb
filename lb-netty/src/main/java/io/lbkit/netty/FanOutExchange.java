package io.lbkit.netty;

import io.lbkit.core.Outcome;
import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.engine.ClientOrigin;
import io.lbkit.proxy.engine.ErrorAnswer;
import io.lbkit.proxy.engine.FanOutAggregator;
import io.lbkit.proxy.engine.FanOutAnswer;
import io.lbkit.proxy.engine.ForwardedSession;
import io.lbkit.proxy.engine.SessionForwarder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Arrays;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request of a broadcast route on an event loop: the client's body is read whole (bounded by
 * {@link FanOutAggregator#bodyLimit}: over it, 413), then one leg per active endpoint of lb-proxy's
 * {@link FanOutAggregator} (a {@link FanOutLeg}) sends the request on a connection of this loop's {@link BackendPool},
 * each answer is kept (bounded by the aggregator) and reported to it, and the answer it decides is
 * written. Legs still running then run to their end, their bodies discarded and their outcomes
 * recorded, as on the servlet engine. Every method runs on the client connection's loop.
 */
final class FanOutExchange {

    private static final Logger log = LoggerFactory.getLogger(FanOutExchange.class);

    final Engine engine;
    final ProxyConfig config;
    private final ClientConnection conn;
    private final Exchange owner;
    private final Channel client;
    final EventLoop loop;
    final Route route;
    final NettyClientRequest view;
    final ParsedRequest req;
    final String target;
    final ClientOrigin origin;
    private final boolean hasBody;
    private final boolean expectContinue;
    private final boolean clientKeepAlive;
    private final long declaredLength;
    private final long bodyLimit;

    // the client's body
    byte[] body = new byte[0];
    int bodyLength;
    private boolean clientBodyDone;
    private boolean readingClient;
    private boolean continueSent;
    private long clientWaitSince;
    private ScheduledFuture<?> bodyTimer;

    // the legs
    HttpHeaders forward;
    FanOutAggregator aggregator;
    private ScheduledFuture<?> totalTimer;
    private boolean over; // the client side has ended: answered, or gone
    private ForwardedSession session;   // session forwarding, or null
    private FullHttpResponse heldAnswer; // the decided answer, waiting for the session store

    FanOutExchange(Engine engine, ClientConnection conn, Exchange owner, Route route, NettyClientRequest view,
                   String target, ClientOrigin origin) {
        this.engine = engine;
        this.config = engine.config;
        this.conn = conn;
        this.owner = owner;
        this.client = conn.channel();
        this.loop = client.eventLoop();
        this.route = route;
        this.view = view;
        this.req = view.request();
        this.target = target;
        this.origin = origin;
        long declared = req.contentLength;
        this.hasBody = declared > 0 || req.chunked;
        this.expectContinue = req.expectContinue;
        this.clientKeepAlive = req.keepAlive;
        this.declaredLength = declared;
        // held in one array: at most what an array can hold
        this.bodyLimit = Math.min(FanOutAggregator.bodyLimit(config, route), Integer.MAX_VALUE - 8);
    }

    void start() {
        if (declaredLength > bodyLimit) {
            log.warn("proxy {} {} route={}: declared {} bytes, the limit is {}", req.method(), view.path(), route.name(),
                    declaredLength, bodyLimit);
            answerError(413);
        } else if (hasBody) {
            readClientBody();
        } else {
            clientBodyDone = true;
            startLegs();
        }
    }

    // =====================================================================================
    // the client's body, read whole
    // =====================================================================================

    private void readClientBody() {
        if (expectContinue && !continueSent) {
            continueSent = true;
            client.writeAndFlush(Answers.continueResponse(), client.voidPromise());
        }
        readingClient = true;
        clientWaitSince = System.nanoTime();
        if (bodyTimer == null) {
            bodyTimer = loop.schedule(this::bodyCheck, config.clientBodyTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        conn.read();
    }

    /** A message of the client's request body. */
    void clientRead(Object msg) {
        readingClient = false;
        if (!(msg instanceof HttpContent c) || over || clientBodyDone) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            if (c.decoderResult().isFailure()) {
                long skipped = engine.repeats("request body failed").admit();
                if (skipped >= 0) {
                    log.warn("proxy {} {} route={}: the client's request body is malformed ({}); aborting{}",
                            req.method(), view.path(), route.name(), c.decoderResult().cause().toString(),
                            Repeats.note(skipped));
                }
                abortClient();
                return;
            }
            ByteBuf b = c.content();
            int n = b.readableBytes();
            if (bodyLength + (long) n > bodyLimit) {
                log.warn("proxy {} {} route={}: request body larger than {} bytes", req.method(), view.path(),
                        route.name(), bodyLimit);
                answerError(413);
                return;
            }
            if (body.length < bodyLength + n) {
                body = Arrays.copyOf(body, (int) Math.min(bodyLimit, Math.max(bodyLength + n, Math.max(8192,
                        2L * body.length))));
            }
            b.readBytes(body, bodyLength, n);
            bodyLength += n;
            if (c instanceof LastHttpContent) {
                clientBodyDone = true;
                cancel(bodyTimer);
                bodyTimer = null;
            }
        } finally {
            c.release();
        }
        if (clientBodyDone) {
            startLegs();
        } else {
            readClientBody();
        }
    }

    private void bodyCheck() {
        bodyTimer = null;
        if (over || clientBodyDone) {
            return;
        }
        long waited = readingClient ? System.nanoTime() - clientWaitSince : 0;
        long limit = config.clientBodyTimeout().toNanos();
        if (waited < limit) {
            bodyTimer = loop.schedule(this::bodyCheck, limit - waited, TimeUnit.NANOSECONDS);
            return;
        }
        log.info("proxy {} {} route={}: request body timed out: 408", req.method(), view.path(), route.name());
        answerError(408); // before any endpoint was asked
    }

    /** The client went away. */
    void clientGone() {
        if (heldAnswer != null) {
            heldAnswer.release(); // the session store is still saving: nothing more goes out
            heldAnswer = null;
            owner.fanOutEnded(Exchange.Next.CLOSE, null);
            return;
        }
        if (over) {
            return;
        }
        log.debug("proxy {} {}: client went away", req.method(), view.path());
        over = true;
        cancel(bodyTimer);
        bodyTimer = null;
        if (aggregator != null) {
            for (FanOutLeg l : legs) {
                if (l != null) {
                    l.cancel();
                }
            }
        }
        owner.fanOutEnded(Exchange.Next.CLOSE, null);
    }

    // =====================================================================================
    // the legs
    // =====================================================================================

    private FanOutLeg[] legs = new FanOutLeg[0];

    private void startLegs() {
        if (engine.sessions != null && session == null) {
            // session forwarding: the client's session first, before any endpoint is picked
            session = engine.sessions.start(view, origin);
            CompletionStage<Void> loading = session.load();
            if (loading != null) {
                loading.whenComplete((v, x) -> owner.onLoop(() -> sessionLoaded(x)));
                return;
            }
        }
        aggregator = FanOutAggregator.start(config, route, origin.peer());
        if (!aggregator.enough()) {
            log.warn("proxy {} {} route={}: fan-out to {}: {} endpoint(s) available, {} needed", req.method(),
                    view.path(), route.name(), route.upstream().name(), aggregator.active(), aggregator.needed());
            answerError(503);
            return;
        }
        forward = Fields.HEADERS.newHeaders();
        engine.requestRules.apply(view, origin, false, Fields.sink(forward));
        if (session != null) {
            session.addRequestFields(Fields.sink(forward));
        }
        if (hasBody) {
            forward.set(Fields.CONTENT_LENGTH, bodyLength); // the buffered body, even if the client sent it chunked
        }
        long total = FanOutAggregator.totalTimeout(config, route.fanOut()).toNanos();
        if (total > 0) {
            totalTimer = loop.schedule(this::totalTimedOut, total, TimeUnit.NANOSECONDS);
        }
        legs = new FanOutLeg[aggregator.legs().size()];
        for (FanOutAggregator.Leg l : aggregator.legs()) {
            if (l.active()) {
                legs[l.index()] = new FanOutLeg(this, l);
            }
        }
        for (FanOutLeg l : legs) {
            if (l != null) {
                l.start();
            }
        }
    }

    /** The client's session is loaded (or the store failed): the legs go, or the client gets 503. */
    private void sessionLoaded(Throwable failure) {
        if (over) {
            return; // the client went away meanwhile
        }
        if (failure == null) {
            startLegs();
        } else if (SessionForwarder.isStoreFailure(failure)) {
            answerError(503, SessionForwarder.RETRY_AFTER); // logged by the rule; no endpoint is asked
        } else {
            long skipped = engine.repeats("session forwarding failed").admit();
            if (skipped >= 0) {
                log.warn("proxy {} {}: session forwarding failed: {}{}", req.method(), view.path(), failure.toString(),
                        Repeats.note(skipped));
            }
            answerError(502, null);
        }
    }

    private void totalTimedOut() {
        totalTimer = null;
        for (FanOutLeg l : legs) {
            if (l != null && !l.leg.done()) {
                l.failed(Outcome.TIMEOUT, new ReadTimeoutException("the fan-out's total timeout of "
                        + FanOutAggregator.totalTimeout(config, route.fanOut()).toMillis() + " ms passed"));
            }
        }
    }

    /** Reports a leg's end; writes the answer when this decided it. */
    void decided(FanOutAnswer answer) {
        if (!aggregator.running()) {
            cancel(totalTimer);
            totalTimer = null;
        }
        if (answer == null || over) {
            return;
        }
        if (!answer.ok()) {
            log.warn("proxy {} {} route={}: fan-out {} failed: {} answered {}", req.method(), view.path(), route.name(),
                    route.fanOut().aggregation(), answer.chosen().endpoint().id(), answer.status());
        }
        over = true;
        boolean close = !clientKeepAlive || engine.stopping;
        int st = answer.status();
        HttpResponseStatus status = answer.kind() == FanOutAnswer.Kind.ERROR
                ? HttpResponseStatus.valueOf(st, ErrorAnswer.reason(st)) : HttpResponseStatus.valueOf(st);
        boolean head = req.method().equals(HttpMethod.HEAD) && answer.kind() == FanOutAnswer.Kind.RESPONSE;
        boolean noBody = head || st < 200 || st == 204 || st == 304;
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                noBody ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(answer.body(), 0, answer.bodyLength()),
                Fields.HEADERS.newHeaders(), Fields.HEADERS.newHeaders());
        answer.writeHeaders(config, true, Fields.sink(r.headers()));
        if (!noBody) {
            r.headers().setInt(Fields.CONTENT_LENGTH, answer.bodyLength());
        }
        boolean http11 = req.protocolVersion().equals(HttpVersion.HTTP_1_1);
        if (close && http11) {
            r.headers().set(Fields.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (!close && !http11) {
            r.headers().set(Fields.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        Exchange.Next next = close ? Exchange.Next.CLOSE : Exchange.Next.KEEP_ALIVE;
        CompletionStage<Void> saving = session == null ? null : session.save(answer.chosenFields());
        if (saving == null) {
            owner.fanOutEnded(next, r);
            return;
        }
        // the backend's X-New-Session-Data: the answer waits for the store, then gets the new session's cookie
        heldAnswer = r;
        saving.whenComplete((v, x) -> owner.onLoop(() -> sessionSaved(next)));
    }

    private void sessionSaved(Exchange.Next next) {
        FullHttpResponse r = heldAnswer;
        if (r == null) {
            return; // the client went away meanwhile
        }
        heldAnswer = null;
        session.addResponseFields(Fields.sink(r.headers()));
        owner.fanOutEnded(next, r);
    }

    /** Answers with the proxy's own error before any leg's answer (413, 408, 503). */
    private void answerError(int st) {
        answerError(st, null);
    }

    /** {@link #answerError(int)}, with {@code Retry-After} (seconds) unless {@code retryAfter} is null. */
    private void answerError(int st, String retryAfter) {
        if (over) {
            return;
        }
        over = true;
        cancel(bodyTimer);
        bodyTimer = null;
        boolean bodyLeft = hasBody && !clientBodyDone;
        boolean close = ErrorAnswer.closesConnection(st) || bodyLeft || !clientKeepAlive || engine.stopping;
        // a client waiting for 100 Continue sends no body: answer and close; else read and drop what comes
        Exchange.Next next = bodyLeft ? expectContinue && !continueSent ? Exchange.Next.CLOSE : Exchange.Next.DRAIN
                : close ? Exchange.Next.CLOSE : Exchange.Next.KEEP_ALIVE;
        owner.fanOutEnded(next, retryAfter == null ? Answers.error(st, close) : Answers.error(st, close, retryAfter));
    }

    private void abortClient() {
        if (!over) {
            over = true;
            cancel(bodyTimer);
            bodyTimer = null;
            owner.fanOutEnded(Exchange.Next.CLOSE, null);
            client.close();
        }
    }

    static void cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }
}
