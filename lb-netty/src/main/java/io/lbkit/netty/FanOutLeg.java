package io.lbkit.netty;

import io.lbkit.core.Outcome;
import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.engine.FanOutAggregator;
import io.lbkit.proxy.engine.RequestHeaderRules;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One endpoint's request: a connection of this loop's pool, the buffered request written in
 * one go, the response read and handed to the aggregator, the connection given back (or
 * closed) at its end. Owns its connection while it runs.
 */
final class FanOutLeg extends BackendOwner {

    private static final Logger log = LoggerFactory.getLogger(FanOutLeg.class);
    /** At most this many reconnects per leg for a stale kept-alive connection (as a single exchange). */
    private static final int MAX_STALE_RETRIES = 3;

    private final FanOutExchange x;
    final FanOutAggregator.Leg leg;
    private BackendConnection backend;
    private boolean reused;
    private int staleRetries;
    private boolean requestWritten;
    private boolean headSeen;
    private boolean skipInformationalEnd;
    private boolean keepAlive;
    private long lastActivity;
    private ScheduledFuture<?> readTimer;

    FanOutLeg(FanOutExchange x, FanOutAggregator.Leg leg) {
        this.x = x;
        this.leg = leg;
    }

    void start() {
        BackendPool pool = x.engine.pool(x.loop);
        BackendConnection idle = pool.pollIdle(leg.endpoint());
        if (idle != null) {
            send(idle);
            return;
        }
        ChannelFuture f = pool.connect(leg.endpoint());
        if (f == null) {
            // this loop's share of maxConnectionsPerEndpoint is in use: not the endpoint's failure
            log.warn("proxy {} {} route={}: {} has {} connections open; fan-out leg 502", x.req.method(), x.view.path(),
                    x.route.name(), leg.endpoint().id(), x.config.maxConnectionsPerEndpoint());
            x.decided(x.aggregator.legNotSent(leg, 502));
            return;
        }
        f.addListener((ChannelFuture cf) -> connected(cf));
    }

    private void connected(ChannelFuture f) {
        BackendConnection c = f.channel().pipeline().get(BackendConnection.class);
        if (leg.done()) {
            if (f.isSuccess() && c != null) {
                x.engine.pool(x.loop).release(c); // a fresh connection nobody waits for any more
            }
            return;
        }
        if (!f.isSuccess()) {
            failed(BackendFailure.classify(f.cause()), f.cause());
            return;
        }
        send(c);
    }

    private void send(BackendConnection c) {
        backend = c;
        c.owner = this;
        reused = c.responses > 0;
        requestWritten = false;
        // the same fields for every leg but Host (the encoder wrote the previous leg's already)
        x.forward.set(Fields.HOST, RequestHeaderRules.backendHost(x.config, x.origin.host(), leg.endpoint().host(),
                leg.endpoint().port()));
        Channel ch = c.channel;
        ch.write(new DefaultHttpRequest(HttpVersion.HTTP_1_1, x.req.method(), x.target, x.forward, false), ch.voidPromise());
        LastHttpContent last = x.bodyLength == 0 ? LastHttpContent.EMPTY_LAST_CONTENT
                : new DefaultLastHttpContent(Unpooled.wrappedBuffer(x.body, 0, x.bodyLength)); // shared, not copied
        ch.writeAndFlush(last).addListener(w -> {
            if (w.isSuccess() && backend == c) {
                requestWritten = true;
                lastActivity = System.nanoTime(); // the endpoint took the body: not idle
            }
        });
        lastActivity = System.nanoTime();
        if (readTimer == null) {
            readTimer = x.loop.schedule(this::readCheck, x.config.readTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        ch.read();
    }

    @Override
    void backendRead(BackendConnection c, Object msg) {
        if (c != backend || leg.done()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        lastActivity = System.nanoTime();
        if (msg instanceof ParsedResponse r) {
            if (r.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                failed(Outcome.INVALID_RESPONSE, r.decoderResult().cause());
                return;
            }
            if (r.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                skipInformationalEnd = true; // 100 Continue, 103: the final answer follows
                ReferenceCountUtil.release(msg);
                return;
            }
            headSeen = true;
            keepAlive = r.keepAlive;
            leg.head(r.status().code(), r.protocolVersion().text(), r.headers());
        }
        if (msg instanceof HttpContent content) {
            content(content);
        } else if (!(msg instanceof ParsedResponse)) {
            ReferenceCountUtil.release(msg); // raw bytes after a protocol switch nobody asked for
            failed(Outcome.INVALID_RESPONSE, null);
        }
    }

    private void content(HttpContent c) {
        boolean ended = c instanceof LastHttpContent;
        if (!headSeen) {
            c.release(); // the end of an informational answer
            skipInformationalEnd = false;
            return;
        }
        if (c.decoderResult().isFailure()) {
            Throwable cause = c.decoderResult().cause();
            c.release();
            failed(Outcome.RESET, cause);
            return;
        }
        boolean kept;
        try {
            ByteBuf b = c.content();
            kept = !b.isReadable() || leg.content(b.nioBuffer());
        } finally {
            c.release();
        }
        if (!kept) {
            log.warn("proxy {} {}: fan-out response from {} larger than {} bytes", x.req.method(), x.view.path(),
                    leg.endpoint().id(), x.route.fanOut().maxResponseBytes());
            drop();
            x.decided(x.aggregator.legTooLarge(leg));
            return;
        }
        if (ended) {
            BackendConnection b = backend;
            b.responses++;
            backend = null;
            cancel(readTimer);
            readTimer = null;
            if (keepAlive && requestWritten && !x.engine.stopping) {
                x.engine.pool(x.loop).release(b);
            } else {
                b.discard();
            }
            x.decided(x.aggregator.legResponded(leg));
        }
    }

    @Override
    void backendReadComplete(BackendConnection c) {
        if (c == backend && !leg.done()) {
            c.channel.read(); // the answer is kept whole (bounded): read on
        }
    }

    @Override
    void backendWritable(BackendConnection c) {
        // the request is written in one go: nothing waits for writability
    }

    @Override
    void backendFailed(BackendConnection c, Throwable cause) {
        if (c != backend || leg.done()) {
            return;
        }
        Outcome o = BackendFailure.classify(cause);
        if (o == Outcome.RESET && reused && !headSeen && staleRetries < MAX_STALE_RETRIES && !x.engine.stopping) {
            // a kept-alive connection the endpoint had closed (its idle timeout racing this
            // reuse): one more connection that the endpoint does not pay for, as a single exchange
            staleRetries++;
            drop();
            skipInformationalEnd = false;
            ChannelFuture f = x.engine.pool(x.loop).connect(leg.endpoint());
            if (f != null) {
                f.addListener((ChannelFuture cf) -> connected(cf));
                return;
            }
        }
        failed(o, cause);
    }

    private void readCheck() {
        readTimer = null;
        if (leg.done() || backend == null) {
            return;
        }
        long idle = System.nanoTime() - lastActivity;
        long limit = x.config.readTimeout().toNanos();
        if (idle < limit) {
            readTimer = x.loop.schedule(this::readCheck, limit - idle, TimeUnit.NANOSECONDS);
            return;
        }
        failed(Outcome.TIMEOUT, new ReadTimeoutException("no byte from the endpoint for "
                + x.config.readTimeout().toMillis() + " ms"));
    }

    /** The leg ends without a (complete) response. */
    void failed(Outcome o, Throwable cause) {
        if (leg.done()) {
            return;
        }
        drop();
        long skipped = x.engine.repeats("fan-out leg failed").admit();
        if (skipped >= 0) {
            log.warn("proxy {} {} route={}: fan-out to {} failed: {}{}", x.req.method(), x.view.path(), x.route.name(),
                    leg.endpoint().id(), cause == null ? o.toString() : cause.toString(), Repeats.note(skipped));
        }
        x.decided(x.aggregator.legFailed(leg, o));
    }

    /** The client went away: the leg ends CANCELLED, the endpoint is not blamed. */
    void cancel() {
        if (!leg.done()) {
            drop();
            x.decided(x.aggregator.legFailed(leg, Outcome.CANCELLED));
        }
    }

    private void drop() {
        cancel(readTimer);
        readTimer = null;
        BackendConnection c = backend;
        backend = null;
        headSeen = false;
        if (c != null) {
            c.discard();
        }
    }

    private void cancel(ScheduledFuture<?> f) {
        FanOutExchange.cancel(f);
    }
}
