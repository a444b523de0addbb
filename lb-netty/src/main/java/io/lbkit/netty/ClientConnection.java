package io.lbkit.netty;

import io.lbkit.core.PickRequest;
import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.engine.AddedHeaderRules;
import io.lbkit.proxy.engine.Admission;
import io.lbkit.proxy.engine.ClientOrigin;
import io.lbkit.proxy.engine.ErrorAnswer;
import io.lbkit.proxy.engine.Headers;
import io.lbkit.proxy.engine.RequestTarget;
import io.lbkit.proxy.engine.SessionApiHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: reads one request at a time (the decoder hands over one message each
 * time the connection asks, {@link ClientDecoder#want}), so pipelined requests are answered in
 * order, each after the previous response was written. The socket's read interest stays armed in
 * between: bytes that come early wait in the decoder, undecoded, up to a budget. Admission and the
 * route are decided here; an {@link Exchange} does the rest.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);
    /** After a refused body, at most this much more is read and dropped before the connection closes (nginx lingering close). */
    private static final long DRAIN_BYTES = 4L << 20;
    private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Engine engine;
    private final PickRequest pick = PickRequest.create(); // reused by each exchange of the connection
    private ClientOrigin.Peer peer;  // the connection's, from its first request on
    private String remote;
    private String localName;
    private Channel channel;
    private ClientDecoder decoder;
    private Exchange exchange;
    private LocalExchange localExchange; // a request the server answers itself (the session API)
    private boolean closeAfterExchange;
    private boolean draining;
    private long drained;
    private ScheduledFuture<?> drainTimer;
    private boolean awaitingHead;
    private boolean idle;          // a kept-alive connection waits for the first byte of its next request
    private long awaitingSince;    // when the wait for the head (or, idle, for its first byte) began
    private long opened;
    private int requests;          // request heads read on this connection
    private boolean lastRequest;   // the current request is the last one keepAliveRequests allows
    private ScheduledFuture<?> idleTimer;
    private final Runnable idleCheck = this::idleCheck;
    private ScheduledFuture<?> readTimer;   // the exchanges' read timeout check, kept from one to the next
    private long readDue;                  // when it fires
    private final Runnable readCheck = this::readCheck;
    final ConnectionRecord rec;    // stub_status state and the access log's record
    final ClientEncoder encoder = new ClientEncoder(); // the connection's response writer
    BackendPool pool;              // the backend connections of this connection's event loop
    // the head writers of this connection's exchanges (one exchange at a time): each head is written
    // into an array kept from one request to the next, then copied into the buffer that is sent
    HeadWriter forwardFields;      // the backend request's fields shared by its attempts
    HeadWriter requestHead;        // an attempt's backend request head
    HeadWriter responseHead;       // the client response head (held while the session store saves)

    ClientConnection(Engine engine) {
        this.engine = engine;
        this.rec = new ConnectionRecord(engine);
    }

    Channel channel() {
        return channel;
    }

    /**
     * The pipeline's first handler, made for this connection: lbkit's request decoder, which hands
     * over one message each time the connection asks (its read-ahead budget is the body buffer's
     * size, at least 16 KiB).
     */
    ClientDecoder decoder(int maxLine, int maxHead) {
        decoder = new ClientDecoder(this, Math.max(engine.config.bufferSize(), 16 * 1024), maxLine, maxHead, maxHead);
        return decoder;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        pool = engine.pool(channel.eventLoop());
        forwardFields = new HeadWriter(channel.alloc());
        requestHead = new HeadWriter(channel.alloc());
        responseHead = new HeadWriter(channel.alloc());
        opened = System.nanoTime();
        rec.opened((InetSocketAddress) channel.remoteAddress(), channel.eventLoop());
        awaitRequest();
    }

    /**
     * Reads the next request head: the first one must have arrived {@code clientHeaderTimeout}
     * after the connection opened; a next one may wait {@code clientKeepAliveTimeout} for its first
     * byte, then has {@code clientHeaderTimeout} from that byte (nginx's timers).
     */
    private void awaitRequest() {
        awaitingHead = true;
        rec.waiting();
        if (requests == 0) {
            idle = false;
            awaitingSince = opened;
        } else {
            idle = true;
            awaitingSince = System.nanoTime();
        }
        armTimer();
        read();
    }

    /** The first bytes of a next request arrived: from now its head has {@code clientHeaderTimeout}. */
    void bytesArrived() {
        rec.bytesArrived();
        if (idle && awaitingHead) {
            idle = false;
            awaitingSince = System.nanoTime();
            // the timer, armed while idle, fires within clientHeaderTimeout from then: in time, no re-arming
        }
    }

    /**
     * Makes sure the timer fires by the current wait's deadline. While idle it fires within
     * {@code clientHeaderTimeout} at most, so a head that starts later never needs it re-armed.
     * A timer that fires early only re-arms itself: one timer per connection, reused by each request.
     */
    private void armTimer() {
        long delay = waitLeft();
        if (idle) {
            delay = Math.min(delay, engine.client.headerNanos());
        }
        if (idleTimer != null) {
            if (idleTimer.getDelay(TimeUnit.NANOSECONDS) <= delay) {
                return;
            }
            idleTimer.cancel(false);
        }
        idleTimer = channel.eventLoop().schedule(idleCheck, Math.max(0, delay), TimeUnit.NANOSECONDS);
    }

    private long waitLeft() {
        long limit = idle ? engine.client.keepAliveNanos() : engine.client.headerNanos();
        return limit - (System.nanoTime() - awaitingSince);
    }

    private void idleCheck() {
        idleTimer = null;
        if (!awaitingHead || !channel.isActive()) {
            return;
        }
        if (waitLeft() > 0) {
            armTimer();
            return;
        }
        if (!idle) {
            // nginx: "client timed out while reading client request headers", logged as 408, closed without an answer
            long skipped = engine.repeats("client header timeout").admit();
            if (skipped >= 0) {
                log.info("proxy: 408 (the request head from {} did not arrive within the client header timeout of {} ms;"
                        + " closed){}", channel.remoteAddress(), TimeUnit.NANOSECONDS.toMillis(engine.client.headerNanos()),
                        Repeats.note(skipped));
            }
        }
        channel.close(); // nginx closes an idle keep-alive connection, and a late head, without an answer
    }

    /**
     * Makes sure the read check runs by {@code due} ({@link System#nanoTime()} time). A check
     * already scheduled earlier stays: it finds the exchange active and schedules itself again
     * for the rest, so a request on a kept-alive connection usually schedules nothing.
     */
    void watchRead(long due) {
        if (readTimer != null) {
            if (readDue <= due) {
                return;
            }
            readTimer.cancel(false);
        }
        readDue = due;
        readTimer = channel.eventLoop().schedule(readCheck, Math.max(0, due - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void readCheck() {
        readTimer = null;
        Exchange x = exchange;
        if (x == null || !channel.isActive()) {
            return; // the next request's exchange schedules it again
        }
        long left = x.timers.readCheck();
        if (left > 0 && exchange == x && channel.isActive()) {
            readDue = System.nanoTime() + left;
            readTimer = channel.eventLoop().schedule(readCheck, left, TimeUnit.NANOSECONDS);
        }
    }

    /** Whether the connection may stay open after the current request ({@code keepAliveRequests}). */
    boolean mayKeepAlive() {
        return !lastRequest;
    }

    /** Asks for the next decoded message: the decoder hands it over now, or once its bytes arrive. */
    void read() {
        decoder.want();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (exchange != null) {
            exchange.clientRead(msg);
        } else if (localExchange != null) {
            localExchange.clientRead(msg);
        } else if (draining) {
            drain(msg);
        } else if (!channel.isActive()) {
            // the codec's last word on a connection already closed (a head cut off by the close): nobody to answer
            ReferenceCountUtil.release(msg);
        } else if (msg instanceof ParsedRequest r) {
            awaitingHead = false;
            requests++;
            lastRequest = requests >= engine.client.keepAliveRequests();
            rec.head(r);
            try {
                begin(r);
            } finally {
                ReferenceCountUtil.release(r); // a request head holds no buffer, but an invalid one may
            }
        } else {
            // the end of a request without a body (the decoder always sends one): read on
            ReferenceCountUtil.release(msg);
            read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.clientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.clientGone();
        }
        if (localExchange != null) {
            localExchange.clientGone();
        }
        if (drainTimer != null) {
            drainTimer.cancel(false);
        }
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        if (readTimer != null) {
            readTimer.cancel(false);
        }
        rec.closed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    /** Closes the idle connection when the server stops (called on the connection's loop). */
    void closeIfIdle() {
        if (exchange == null && localExchange == null && channel != null) {
            channel.close();
        }
    }

    /** The response being written says {@code Connection: close}. */
    void closeAfterExchange() {
        closeAfterExchange = true;
    }

    // =====================================================================================

    private void begin(ParsedRequest r) {
        ProxyConfig config = engine.config; // one configuration per request (a reload may swap it)
        encoder.headRequest = r.method() == HttpMethod.HEAD; // its answer, whatever it says, has no body
        if (r.refusal != 0) {
            refuse(r.refusal, "the request could not be parsed", r.reason, Exchange.Next.CLOSE);
            return;
        }
        boolean keepAlive = r.keepAlive && !lastRequest;
        boolean body = r.contentLength > 0 || r.chunked;
        if (r.headerBytes > config.maxRequestHeaderBytes()) {
            refuse(431, "request header fields too large", null, body ? Exchange.Next.DRAIN : Exchange.Next.CLOSE);
            return;
        }
        String target = r.uri();
        String rawPath = RequestTarget.path(target);
        String path = DecodedPath.of(rawPath);
        if (path == null) {
            refuse(400, "the path climbs above the root", null, body ? Exchange.Next.DRAIN : Exchange.Next.CLOSE);
            return;
        }
        String host = r.header("Host");
        InetSocketAddress local = (InetSocketAddress) channel.localAddress();
        if (peer == null) { // once per connection: the peer does not change
            remote = ((InetSocketAddress) channel.remoteAddress()).getAddress().getHostAddress();
            peer = ClientOrigin.Peer.of(config, remote);
            localName = local.getAddress().getHostAddress();
        }
        String serverName = host != null ? Headers.hostName(host) : config.serverName() != null ? config.serverName()
                : localName;
        NettyClientRequest view = new NettyClientRequest(r, rawPath, path,
                NettyClientRequest.utf8(RequestTarget.query(target)), remote, serverName);
        if (rec.record != null) {
            rec.record.request(view);
        }
        if (path.equals(config.statusPath())) {
            boolean get = r.method() == HttpMethod.GET || r.method() == HttpMethod.HEAD;
            Exchange.Next next = body ? Exchange.Next.DRAIN : keepAlive ? Exchange.Next.KEEP_ALIVE : Exchange.Next.CLOSE;
            answerLocally(get ? Answers.status(engine.status, r.method() == HttpMethod.HEAD, next != Exchange.Next.KEEP_ALIVE)
                    : Answers.error(405, next != Exchange.Next.KEEP_ALIVE), next);
            return;
        }
        SessionApiHandler api = engine.sessionApis.get(path);
        if (api != null && Admission.check(config, null, view, -1) == null) {
            localExchange = new LocalExchange(engine, this, api, path, view, r);
            localExchange.start();
            return;
        }
        Route route = engine.route(view);
        long length = r.contentLength;
        // a request no route takes still gets the request's own statuses (nginx answers CONNECT
        // with 400 whatever the location)
        Admission.Refusal no = Admission.check(config, route, view, length);
        if (no == null && route == null) {
            refuse(404, "no route matches", null, body ? Exchange.Next.DRAIN
                    : keepAlive ? Exchange.Next.KEEP_ALIVE : Exchange.Next.CLOSE);
            return;
        }
        if (no != null) {
            Exchange.Next next;
            if (no.bodyTooLarge()) {
                // a client waiting for 100 Continue sends no body: answer and close; else read and drop what comes
                next = r.expectContinue ? Exchange.Next.CLOSE : Exchange.Next.DRAIN;
            } else if (body) {
                next = Exchange.Next.DRAIN;
            } else {
                next = no.closes() || ErrorAnswer.closesConnection(no.status()) || !keepAlive
                        ? Exchange.Next.CLOSE : Exchange.Next.KEEP_ALIVE;
            }
            refuse(route, no.status(), no.reason(), no.bodyTooLarge()
                    ? "declared " + length + " bytes, the limit is " + Admission.bodyLimit(config, route) : null, next);
            return;
        }
        ClientOrigin origin = ClientOrigin.of(config, view, peer, "http", host, port(host, local.getPort()));
        pick.reset();
        exchange = new Exchange(engine, this, route, view, target, origin, pick);
        exchange.start();
    }

    /** The port the client addressed: the Host header's, else the connection's. */
    private static int port(String host, int local) {
        if (host != null) {
            int colon = host.lastIndexOf(':');
            if (colon > host.lastIndexOf(']') && colon + 1 < host.length()) {
                try {
                    return Integer.parseInt(host.substring(colon + 1));
                } catch (NumberFormatException e) {
                    return local;
                }
            }
        }
        return local;
    }

    /**
     * Answers a refused request. {@code why} is a fixed text (it names the kind of line collapsed
     * while it repeats); {@code detail}, or null, says more about this request.
     */
    private void refuse(int status, String why, String detail, Exchange.Next next) {
        refuse(null, status, why, detail, next);
    }

    /** {@link #refuse(int, String, String, Exchange.Next)} of a request {@code route} (or null) took. */
    private void refuse(Route route, int status, String why, String detail, Exchange.Next next) {
        long skipped = engine.repeats(why).admit();
        if (skipped >= 0) {
            log.warn("proxy: {} ({}{}){}", status, why, detail == null ? "" : ": " + detail, Repeats.note(skipped));
        }
        io.netty.handler.codec.http.FullHttpResponse answer = Answers.error(status, next != Exchange.Next.KEEP_ALIVE);
        AddedHeaderRules.apply(engine.config, route, status, "http", Fields.sink(answer.headers()));
        answerLocally(answer, next);
    }

    /** An answer of the proxy's own, logged, then written. */
    private void answerLocally(io.netty.handler.codec.http.HttpResponse answer, Exchange.Next next) {
        rec.ended(answer);
        respond(answer, next);
    }

    /** The exchange is over; {@code answer} is the proxy's own answer to write first, or null. */
    void exchangeEnded(Exchange.Next next, io.netty.handler.codec.http.HttpResponse answer) {
        exchange = null;
        rec.ended(answer);
        if ((closeAfterExchange || lastRequest) && next == Exchange.Next.KEEP_ALIVE) {
            next = Exchange.Next.CLOSE;
        }
        closeAfterExchange = false;
        if (answer != null) {
            respond(answer, next);
        } else {
            proceed(next);
        }
    }

    /** The local answer is ready: write it, then go on as {@code next} says. */
    void localEnded(Exchange.Next next, io.netty.handler.codec.http.HttpResponse answer) {
        localExchange = null;
        exchangeEnded(next, answer);
    }

    private void respond(io.netty.handler.codec.http.HttpResponse answer, Exchange.Next next) {
        rec.answered(next == Exchange.Next.KEEP_ALIVE && !closeAfterExchange && !lastRequest && !engine.stopping);
        channel.writeAndFlush(answer).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                channel.close();
            } else {
                proceed(next);
            }
        });
    }

    private void proceed(Exchange.Next next) {
        if (next == Exchange.Next.CLOSE || (next == Exchange.Next.KEEP_ALIVE && engine.stopping)) {
            rec.closed();
            channel.close();
        } else if (next == Exchange.Next.DRAIN) {
            draining = true;
            drained = 0;
            if (channel instanceof DuplexChannel d) {
                // nginx's lingering close: the answer ends at once for the client, what it still sends is dropped
                d.shutdownOutput();
            }
            drainTimer = channel.eventLoop().schedule(() -> {
                channel.close();
            }, DRAIN_NANOS, TimeUnit.NANOSECONDS);
            read();
        } else {
            awaitRequest(); // the next request, pipelined or not
        }
    }

    /** Reads and drops the rest of a refused body, then closes (so the client reads the answer, not a reset). */
    private void drain(Object msg) {
        boolean last = msg instanceof LastHttpContent;
        if (msg instanceof HttpContent c) {
            drained += c.content().readableBytes();
        }
        ReferenceCountUtil.release(msg);
        if (last || drained > DRAIN_BYTES || msg instanceof ParsedRequest) {
            channel.close();
        } else {
            read();
        }
    }
}
