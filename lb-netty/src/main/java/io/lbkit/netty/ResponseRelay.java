package io.lbkit.netty;

import io.lbkit.core.Outcome;
import io.lbkit.proxy.engine.ResponseRate;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The backend response of one {@link Exchange} on its way to the client response: the head
 * (informational heads skipped, the status through the exchange's retry decision, then the client's
 * head from {@link ClientHead}, held as a {@link HeldHead} while the session store saves the
 * backend's session patch), the body relayed with back-pressure (the endpoint is read only while
 * the client's socket takes the writes; what came is flushed at the end of each read), trailers
 * filtered, and the end. Runs on the exchange's loop. It is also the listener of the response's
 * last write, so it costs the exchange no object beyond itself.
 */
final class ResponseRelay implements ChannelFutureListener {

    private final Exchange x;
    boolean skipInformationalEnd;
    boolean forwarding;               // the response's head went to the client
    boolean responseEnded;            // the backend's last content was read
    private int status;
    private boolean backendKeepAlive;
    private boolean allowTrailers;
    private boolean clientCloses;     // the client response says Connection: close
    boolean waitClientWritable;
    HeldHead held;                    // a response head waiting for the session store, or null
    private long startMillis;         // limit_rate: the request's start (nginx r->start_sec)
    private ResponseRate pace;        // limit_rate: the response's pace, or null
    private long pacedBytes;          // limit_rate: body bytes written since the last account
    private ScheduledFuture<?> paceTimer;

    ResponseRelay(Exchange x) {
        this.x = x;
    }

    /** The request started: a route with {@code limitRate} counts its allowance from now, as nginx. */
    void requestStarted() {
        if (x.route.limitRate() > 0) {
            startMillis = nowMillis();
        }
    }

    private long nowMillis() {
        return Math.floorDiv(x.config.ticker().nanos(), 1_000_000L);
    }

    /** Backend response: a decoded message from the current attempt's connection {@code c}. */
    void backendRead(BackendConnection c, Object msg) {
        if (c != x.backend || x.finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        x.timers.backendActive();
        if (msg instanceof ParsedResponse r) {
            if (!backendResponseHead(r)) {
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            if (held != null) {
                held.add(content); // the head waits for the session store: what came with it waits too
            } else {
                clientResponseContent(content);
            }
        } else if (!(msg instanceof ParsedResponse)) {
            // raw bytes after a protocol switch the request never asked for (Upgrade is not forwarded)
            ReferenceCountUtil.release(msg);
            if (forwarding) {
                x.responseFailed(Outcome.INVALID_RESPONSE, null);
            } else {
                x.attemptFailed(Outcome.INVALID_RESPONSE, null, false);
            }
        }
    }

    /** Backend response: the head; false when it is not forwarded (informational, broken, or retried). */
    private boolean backendResponseHead(ParsedResponse r) {
        if (r.decoderResult().isFailure()) {
            x.attemptFailed(Outcome.INVALID_RESPONSE, r.decoderResult().cause(), false);
            return false;
        }
        int st = r.status().code();
        if (r.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            skipInformationalEnd = true; // 100 Continue, 103: the final answer follows
            return false;
        }
        if (AttemptOutcomes.retriedOnStatus(x, st)) {
            return false;
        }
        clientResponseHead(r, st);
        return true;
    }

    /** Client response: the head, written now or held until the session store saved the backend's patch. */
    private void clientResponseHead(ParsedResponse r, int st) {
        status = st;
        forwarding = true;
        if (x.rec != null) {
            x.rec.status(st);
        }
        backendKeepAlive = r.keepAlive;
        ClientHead head = ClientHead.of(x.engine, x.conn.responseHead, r, x.view, x.clientKeepAlive, x.endpoint.id(),
                x.sticky, x.origin.secure(), x.route, x.origin.scheme());
        allowTrailers = head.trailers;
        clientCloses = head.closes;
        pace = ResponseRate.start(x.route, startMillis); // null without limit_rate
        if (head.closes) {
            x.conn.closeAfterExchange();
        }
        CompletionStage<Void> saving = x.session == null ? null : x.session.save(Fields.of(r.headers()));
        if (saving != null) {
            held = new HeldHead(head.head, head.body); // and the backend is not read until the store is done
            saving.whenComplete((v, t) -> x.onLoop(this::sessionSaved));
            return;
        }
        x.conn.encoder.body(head.body);
        x.client.write(head.head.finish(), x.client.voidPromise());
    }

    /** The backend's session patch is stored: the held head goes out with the new session's cookie. */
    private void sessionSaved() {
        if (x.finished) {
            return; // the client went away meanwhile (or the backend failed): finish released what was held
        }
        HeldHead h = held;
        held = null;
        x.session.addResponseFields(h.head);
        x.conn.encoder.body(h.body);
        x.client.write(h.head.finish(), x.client.voidPromise());
        HttpContent c;
        while ((c = h.poll()) != null) {
            if (x.finished) {
                c.release();
            } else {
                clientResponseContent(c);
            }
        }
        if (!x.finished && !responseEnded) {
            backendReadComplete(x.backend); // flush, and read on as the client takes the bytes
        }
    }

    /** Client response: a piece of the backend's body (the last one with its filtered trailers). */
    private void clientResponseContent(HttpContent c) {
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
            x.responseFailed(Outcome.RESET, cause);
            return;
        }
        if (x.rec != null) {
            x.rec.bodyBytes(c.content().readableBytes());
        }
        if (pace != null) {
            pacedBytes += c.content().readableBytes();
        }
        if (c instanceof LastHttpContent last) {
            responseEnded = true;
            if (x.rec != null) {
                x.rec.attemptEnded(status, System.nanoTime());
            }
            x.backend.responses++;
            Fields.filterTrailers(last.trailingHeaders(), allowTrailers);
            x.conn.rec.answered(x.clientKeepAlive && !clientCloses && (x.body.clientBodyDone || !x.hasBody));
            x.client.writeAndFlush(c).addListener(this);
        } else {
            x.client.write(c, x.client.voidPromise());
        }
    }

    /** The end of a backend read: what came is flushed to the client; the backend is read on if the client keeps up. */
    void backendReadComplete(BackendConnection c) {
        if (c != x.backend || x.finished || responseEnded || held != null) {
            return; // a held head: nothing goes to the client and the backend is not read
        }
        if (forwarding) {
            x.client.flush(); // what came is passed on now: each SSE event as it arrives
            if (pace != null && paced()) {
                return; // limit_rate: the endpoint is read again when the pace allows
            }
        }
        if (x.client.isWritable()) {
            c.channel.read();
        } else {
            waitClientWritable = true; // the client reads slowly: the endpoint waits
        }
    }

    /**
     * limit_rate: accounts what this read sent and, when the pace says wait (after the send, or
     * before the next), sets the loop's timer; true when it did.
     */
    private boolean paced() {
        long wait = pace.sent(pacedBytes);
        pacedBytes = 0;
        if (wait == 0) {
            wait = pace.waitMillis(nowMillis());
        }
        if (wait == 0) {
            return false;
        }
        paceTimer = x.loop.schedule(this::paceOver, wait, TimeUnit.MILLISECONDS);
        return true;
    }

    /** limit_rate's timer: the endpoint is read on once the pace allows it and the client takes writes. */
    private void paceOver() {
        paceTimer = null;
        if (x.finished || responseEnded || x.backend == null) {
            return;
        }
        long wait = pace.waitMillis(nowMillis());
        if (wait > 0) {
            paceTimer = x.loop.schedule(this::paceOver, wait, TimeUnit.MILLISECONDS);
        } else if (x.client.isWritable()) {
            x.backend.channel.read();
        } else {
            waitClientWritable = true;
        }
    }

    /** The client's socket takes writes again: the waiting backend is read on. */
    void clientWritable() {
        if (waitClientWritable && x.client.isWritable() && x.backend != null && !x.finished) {
            waitClientWritable = false;
            x.backend.channel.read();
        }
    }

    /**
     * Client response: its last write completed; the attempt and the exchange end, the backend
     * connection goes back to the pool (or is closed).
     */
    @Override
    public void operationComplete(ChannelFuture f) {
        if (x.finished) {
            return;
        }
        if (!f.isSuccess()) {
            x.clientGone();
            return;
        }
        x.completeSelection(Outcome.RESPONSE, status);
        x.attempts.finish();
        BackendConnection c = x.backend;
        x.backend = null;
        if (backendKeepAlive && x.body.requestComplete && !x.engine.stopping) {
            x.conn.pool.release(c);
        } else {
            c.discard();
        }
        x.finish(x.body.clientBodyDone || !x.hasBody ? Exchange.Next.KEEP_ALIVE : Exchange.Next.DRAIN);
    }

    /** The exchange is over: a held head's body pieces are released. */
    void release() {
        if (paceTimer != null) {
            paceTimer.cancel(false);
            paceTimer = null;
        }
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
