package io.lbkit.netty;

import io.lbkit.proxy.engine.LocalAnswer;
import io.lbkit.proxy.engine.SessionApiHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request the server answers itself, with no backend: the session API mounted at a path ahead
 * of the routes ({@link NettyProxyServer.Builder#sessionApi}). It asks the handler about the head
 * (a refusal is answered before any body is read), reads the body into memory up to the handler's
 * limit (413 beyond, the rest drained), calls the handler, and when the handler's stage completes
 * (on a store thread for Redis) hops back to the connection's loop to write the answer. Everything
 * else runs on that loop; the body is copied out of each buffer, which is released at once.
 */
final class LocalExchange {

    private static final Logger log = LoggerFactory.getLogger(LocalExchange.class);

    private final Engine engine;
    private final ClientConnection conn;
    private final EventLoop loop;
    private final SessionApiHandler api;
    private final String mountPath;
    private final NettyClientRequest view;
    private final boolean head;
    private final boolean keepAlive;
    private final boolean hasBody;
    private final boolean expectContinue;
    private byte[] body = new byte[0];
    private int length;
    private boolean bodyDone;
    private boolean ended;
    private long lastRead;
    private ScheduledFuture<?> bodyTimer;

    LocalExchange(Engine engine, ClientConnection conn, SessionApiHandler api, String mountPath, NettyClientRequest view,
                  ParsedRequest request) {
        this.engine = engine;
        this.conn = conn;
        this.loop = conn.channel().eventLoop();
        this.api = api;
        this.mountPath = mountPath;
        this.view = view;
        this.head = request.method().equals(HttpMethod.HEAD);
        this.keepAlive = request.keepAlive;
        this.hasBody = request.contentLength > 0 || request.chunked;
        this.expectContinue = request.expectContinue;
    }

    /** Decides on the head, then reads the body (the connection hands each message to {@link #clientRead}). */
    void start() {
        engine.activeExchanges.increment();
        LocalAnswer refusal = api.refusal(view, mountPath);
        if (refusal != null) {
            // the body is left unread: drop what comes and close; a client waiting for 100 sends none
            end(response(refusal, !hasBody && keepAlive), hasBody ? expectContinue ? Exchange.Next.CLOSE
                    : Exchange.Next.DRAIN : keepAlive ? Exchange.Next.KEEP_ALIVE : Exchange.Next.CLOSE);
            return;
        }
        if (expectContinue) {
            conn.channel().writeAndFlush(Answers.continueResponse(), conn.channel().voidPromise());
        }
        lastRead = System.nanoTime();
        bodyTimer = loop.schedule(this::bodyCheck, engine.config.clientBodyTimeout().toNanos(), TimeUnit.NANOSECONDS);
        conn.read();
    }

    /** A message of the request body. */
    void clientRead(Object msg) {
        try {
            if (ended || bodyDone || !(msg instanceof HttpContent c)) {
                return;
            }
            if (c.decoderResult().isFailure()) {
                log.info("session API {}: the request body is malformed: 400", mountPath);
                end(Answers.error(400, true), Exchange.Next.CLOSE);
                return;
            }
            lastRead = System.nanoTime();
            if (!append(c.content())) {
                end(response(api.bodyTooLarge(), false), Exchange.Next.DRAIN);
                return;
            }
            if (msg instanceof LastHttpContent) {
                bodyDone = true;
                call();
            } else {
                conn.read();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** The connection closed: nothing more is written. */
    void clientGone() {
        if (!ended) {
            ended = true;
            cancelTimer();
            engine.activeExchanges.decrement();
        }
    }

    private boolean append(ByteBuf content) {
        int n = content.readableBytes();
        if (length + n > api.maxBodyBytes()) {
            return false;
        }
        if (length + n > body.length) {
            body = Arrays.copyOf(body, Math.min(api.maxBodyBytes(), Math.max(length + n, Math.max(256, body.length * 2))));
        }
        content.readBytes(body, length, n);
        length += n;
        return true;
    }

    /** Calls the handler; its answer is written on this loop, whichever thread completes it. */
    private void call() {
        cancelTimer();
        byte[] whole = length == body.length ? body : Arrays.copyOf(body, length);
        body = null;
        api.handle(view, mountPath, whole).whenComplete((answer, failure) -> {
            if (loop.inEventLoop()) {
                answered(answer, failure);
            } else {
                loop.execute(() -> answered(answer, failure));
            }
        });
    }

    private void answered(LocalAnswer answer, Throwable failure) {
        if (ended) {
            return; // the client left meanwhile
        }
        boolean keep = keepAlive && !engine.stopping; // a stopping server says it closes
        Exchange.Next next = keep ? Exchange.Next.KEEP_ALIVE : Exchange.Next.CLOSE;
        if (answer == null) {
            log.error("session API {}: no answer", mountPath, failure);
            end(Answers.error(500, !keep), next);
            return;
        }
        end(response(answer, keep), next);
    }

    private void bodyCheck() {
        bodyTimer = null;
        if (ended || bodyDone) {
            return;
        }
        long limit = engine.config.clientBodyTimeout().toNanos();
        long waited = System.nanoTime() - lastRead;
        if (waited < limit) {
            bodyTimer = loop.schedule(this::bodyCheck, limit - waited, TimeUnit.NANOSECONDS);
            return;
        }
        log.info("session API {}: request body timed out: 408", mountPath);
        end(Answers.error(408, true), Exchange.Next.CLOSE);
    }

    private void cancelTimer() {
        if (bodyTimer != null) {
            bodyTimer.cancel(false);
            bodyTimer = null;
        }
    }

    private void end(HttpResponse response, Exchange.Next next) {
        if (ended) {
            return;
        }
        ended = true;
        cancelTimer();
        engine.activeExchanges.decrement();
        conn.localEnded(next, response);
    }

    /** The answer as a full response; no body for HEAD (its length still said), {@code Connection: close} unless {@code keep}. */
    private FullHttpResponse response(LocalAnswer a, boolean keep) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(a.status()),
                head || a.body().length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(a.body()));
        for (Map.Entry<String, String> h : a.headers().entrySet()) {
            r.headers().set(h.getKey(), h.getValue());
        }
        if (a.status() != 204 && a.status() != 304) {
            r.headers().setInt(Fields.CONTENT_LENGTH, a.body().length);
        }
        if (!keep) {
            r.headers().set(Fields.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }
}
