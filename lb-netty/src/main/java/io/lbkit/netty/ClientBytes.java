package io.lbkit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The first handler of a client connection's pipeline. It tells the connection that bytes
 * arrived before the HTTP codec has made anything of them, so that the first byte of a request
 * head starts {@code client_header_timeout} even while the head is still incomplete.
 *
 * <p>It also keeps the socket's read interest armed while the connection is busy with an
 * exchange: the channel reads only when asked, and a read cycle that ends with nobody asking
 * makes the transport drop the interest (one {@code epoll_ctl}) and take it back when the next
 * request is awaited (another). Asking for the next read here, below the flow-control handler,
 * lets bytes that come early (a pipelined request, the rest of a body) be read and decoded into
 * that handler's queue, where they wait until the connection asks for them. The bytes read that
 * way since the connection last asked are bounded by {@code budget}: past it the interest drops,
 * which is the back-pressure a client that sends too fast meets.
 */
final class ClientBytes extends ChannelInboundHandlerAdapter {

    private final ClientConnection conn;
    private final long budget;
    private long unclaimed; // bytes read since the connection last asked for a message

    ClientBytes(ClientConnection conn, long budget) {
        this.conn = conn;
        this.budget = budget;
    }

    /** The connection asked for its next message: what was read before is its own again. */
    void claimed() {
        unclaimed = 0;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        conn.bytesArrived();
        if (msg instanceof ByteBuf b) {
            unclaimed += b.readableBytes();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
        if (unclaimed < budget && ctx.channel().isActive()) {
            ctx.read(); // below the flow-control handler: what comes waits in its queue
        }
    }
}
