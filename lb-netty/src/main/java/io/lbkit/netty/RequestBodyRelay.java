package io.lbkit.netty;

import io.lbkit.core.Outcome;
import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.engine.Admission;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The client request's body on its way to the backend request of one {@link Exchange}: read one
 * message at a time and only while the endpoint's socket takes the writes (back-pressure), a chunk
 * read while no attempt could take it kept for the next attempt, a body that names the target read
 * whole before the pick, {@code 100 Continue} sent when an endpoint asks for the body, and the
 * request-body limit (413) and the client body timeout (408). Runs on the exchange's loop. It is
 * also the listener of the body writes (each one the endpoint takes is backend activity for the
 * read timeout) and the body timeout's task, so it costs the exchange no object beyond itself.
 */
final class RequestBodyRelay implements ChannelFutureListener, Runnable {

    private final Exchange x;
    private boolean continueSent;
    boolean clientBodyDone;           // the client's last content was read
    boolean requestComplete;          // the backend request's last content was written
    boolean bodyConsumed;             // a body byte went to an endpoint: the body cannot be sent again
    private long bodyBytes;
    boolean readingClient;            // a read of the client's body is outstanding
    long clientWaitSince;
    boolean waitBackendWritable;
    private HttpContent pending;      // a body chunk read while no attempt could take it
    private WholeBody whole;          // a body read before the pick (a target read from a form)
    private ScheduledFuture<?> bodyTimer;

    RequestBodyRelay(Exchange x) {
        this.x = x;
    }

    /**
     * Client request: starts reading the body whole when the route's target may be in it (a form);
     * the exchange proceeds once it is. False when nothing is to be read first.
     */
    boolean readWholeFirst() {
        if (whole != null || !x.hasBody || !x.route.buffersBody(x.view.header("Content-Type"))) {
            return false;
        }
        long limit = Admission.bodyLimit(x.config, x.route);
        whole = new WholeBody(x.client.alloc(), limit > 0 ? limit : FanOut.DEFAULT_BUFFER_LIMIT,
                x.view.header("Content-Type"));
        readClientBody(); // the exchange proceeds again once it is whole
        return true;
    }

    /** Whether the body goes to the endpoint chunked (as the client sent it, not read whole first). */
    boolean chunkedToBackend() {
        return x.chunkedBody && whole == null;
    }

    /** The text of a form body read whole before the pick, or null. */
    String formText() {
        return whole == null ? null : whole.formText();
    }

    /** Backend request: the body part of an attempt whose head was just written to {@code c}. */
    void toAttempt(BackendConnection c) {
        HttpContent p = pending;
        if (whole != null) {
            requestComplete = true; // read before the pick: sent again as it is to each attempt
            c.channel.writeAndFlush(whole.forAttempt()).addListener(this);
        } else if (p != null) {
            pending = null;
            forwardBody(p); // read while the previous attempt ended; nothing of it reached an endpoint
        } else if (!x.hasBody || clientBodyDone) {
            requestComplete = true;
            c.channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, c.channel.voidPromise());
        } else {
            c.channel.flush();
            readClientBody();
        }
    }

    /** Client request: asks the client connection for the next message of the body. */
    void readClientBody() {
        if (x.expectContinue && !continueSent) {
            continueSent = true; // the endpoint is connected and asks for the body: as Jetty, 100 now
            x.client.writeAndFlush(Answers.continueResponse(), x.client.voidPromise());
        }
        readingClient = true;
        clientWaitSince = System.nanoTime();
        if (bodyTimer == null) {
            bodyTimer = x.loop.schedule(this, x.config.clientBodyTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        x.conn.read();
    }

    /** Client request: a message of the body (the connection reads one per {@code read()}). */
    void clientRead(Object msg) {
        readingClient = false;
        if (!(msg instanceof HttpContent c) || x.finished || clientBodyDone) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (c.decoderResult().isFailure()) {
            c.release();
            long skipped = x.engine.repeats("request body failed").admit();
            if (skipped >= 0) {
                Exchange.log.warn("proxy {} {} route={}: the client's request body is malformed ({}); 400{}",
                        x.req.method(), x.view.path(), x.route.name(), c.decoderResult().cause().toString(),
                        Repeats.note(skipped));
            }
            // the attempt ends unfinished (the endpoint sees a cut body, never a valid request) and is not
            // the endpoint's failure; 400 unless the response had started (then the client is cut)
            x.cancelAttempt();
            x.answer(400);
            return;
        }
        if (x.rec != null) {
            x.rec.requestBytes(c.content().readableBytes());
        }
        if (whole != null && !whole.done()) {
            collect(c);
            return;
        }
        bodyBytes += c.content().readableBytes();
        long limit = x.config.maxRequestBodyBytes();
        if (limit > 0 && bodyBytes > limit) {
            c.release();
            Exchange.log.warn("proxy {} {}: request body larger than {} bytes", x.req.method(), x.view.path(), limit);
            x.cancelAttempt();
            x.answer(413);
            return;
        }
        if (c instanceof LastHttpContent) {
            clientBodyDone = true;
        }
        if (x.backend == null || !x.backend.channel.isActive()) {
            pending = c; // the attempt is between endpoints: the next one takes it
            return;
        }
        forwardBody(c);
    }

    /** A part of a body read whole before the pick. */
    private void collect(HttpContent c) {
        if (!whole.add(c)) {
            Exchange.log.warn("proxy {} {} route={}: request body larger than {} bytes", x.req.method(), x.view.path(),
                    x.route.name(), whole.limit());
            x.answer(413);
            return;
        }
        if (!whole.done()) {
            readClientBody();
            return;
        }
        clientBodyDone = true;
        x.forward.remove(Fields.TRANSFER_ENCODING);
        x.forward.remove(Fields.TRAILER);
        x.forward.set(Fields.CONTENT_LENGTH, Long.toString(whole.length()));
        x.proceed();
    }

    /** Backend request: a piece of the client's body to the current attempt's endpoint. */
    private void forwardBody(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (c.content().isReadable()) {
            bodyConsumed = true;
        }
        if (last) {
            requestComplete = true;
            Fields.filterTrailers(((LastHttpContent) c).trailingHeaders(), x.chunkedBody);
        }
        Channel ch = x.backend.channel;
        ch.writeAndFlush(c).addListener(this);
        if (!last) {
            if (ch.isWritable()) {
                readClientBody();
            } else {
                waitBackendWritable = true; // the endpoint's socket is full: the client waits
            }
        }
    }

    /** The backend connection's writability changed: a waiting client body is read on. */
    void backendWritable(BackendConnection c) {
        if (c == x.backend && waitBackendWritable && c.channel.isWritable()) {
            waitBackendWritable = false;
            readClientBody();
        }
    }

    /** A body write to the endpoint completed. */
    @Override
    public void operationComplete(ChannelFuture f) {
        if (f.isSuccess()) {
            x.timers.backendActive(); // the endpoint takes the body: not idle
        }
    }

    /** The client body timeout's check (nginx {@code client_body_timeout}): a client that pauses its body too long. */
    @Override
    public void run() {
        bodyTimer = null;
        if (x.finished || clientBodyDone) {
            return;
        }
        long waited = readingClient ? System.nanoTime() - clientWaitSince : 0;
        long limit = x.config.clientBodyTimeout().toNanos();
        if (waited < limit) {
            bodyTimer = x.loop.schedule(this, limit - waited, TimeUnit.NANOSECONDS);
            return;
        }
        if (x.attempts == null) {
            Exchange.log.info("proxy {} {} route={}: request body timed out: 408", x.req.method(), x.view.path(),
                    x.route.name());
            x.answer(408); // the body was read whole before the pick
            return;
        }
        if (x.response.forwarding) {
            Exchange.log.info("proxy {} {} route={}: request body timed out after the response started; aborting",
                    x.req.method(), x.view.path(), x.route.name());
            x.cancelAttempt();
            x.abortClient();
        } else {
            x.attemptFailed(Outcome.CANCELLED, null, true);
        }
    }

    /** The exchange is over: the body timeout is cancelled, what is held of the body released. */
    void release() {
        ExchangeTimers.cancel(bodyTimer);
        bodyTimer = null;
        if (pending != null) {
            pending.release();
            pending = null;
        }
        if (whole != null) {
            whole.release();
        }
    }
}
