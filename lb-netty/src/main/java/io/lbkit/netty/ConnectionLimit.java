package io.lbkit.netty;

import io.lbkit.core.internal.Repeats;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The limit on a listener's open client connections (HAProxy {@code maxconn}): on the listener's
 * channel, before the acceptor. When the limit is reached the listener stops accepting, so new
 * connections wait in the kernel's accept queue (the listen backlog) until one closes, and no
 * accepted connection is ever turned away once it was taken; a connection accepted beyond the limit
 * in the same burst of accepts is closed at once (nginx when {@code worker_connections} are not
 * enough, Envoy's listener limit). Counting and the pause/resume decisions run on the listener's
 * loop; a connection's close hops there.
 */
@ChannelHandler.Sharable
final class ConnectionLimit extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionLimit.class);

    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final Repeats full = new Repeats(Duration.ofSeconds(10));
    private volatile Channel listener;
    private final Runnable adjust = this::adjust;
    private final ChannelFutureListener closed = f -> {
        open.decrementAndGet();
        Channel l = listener;
        if (l != null) {
            l.eventLoop().execute(adjust);
        }
    };

    ConnectionLimit(int max) {
        this.max = max;
    }

    /** Open client connections of the listener. */
    int open() {
        return open.get();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        listener = ctx.channel();
        Channel child = (Channel) msg;
        int n = open.incrementAndGet();
        if (n > max) {
            open.decrementAndGet();
            child.unsafe().closeForcibly(); // accepted in the same burst past the limit: not registered, closed
            warn(ctx.channel(), "closing a connection accepted over it");
            return;
        }
        child.closeFuture().addListener(closed);
        if (n >= max && ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false); // new connections wait in the accept queue
            warn(ctx.channel(), "not accepting until a connection closes");
        }
        ctx.fireChannelRead(child);
    }

    private void adjust() {
        Channel l = listener;
        if (l != null && l.isOpen() && !l.config().isAutoRead() && open.get() < max) {
            l.config().setAutoRead(true);
        }
    }

    private void warn(Channel l, String what) {
        long skipped = full.admit();
        if (skipped >= 0) {
            log.warn("listener {}: {} client connections open, the maxConnections limit; {}{}", l.localAddress(), max,
                    what, Repeats.note(skipped));
        }
    }
}
