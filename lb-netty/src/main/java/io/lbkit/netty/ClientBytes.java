package io.lbkit.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The first handler of a client connection's pipeline: tells the connection that bytes arrived
 * before the HTTP codec has made anything of them, so that the first byte of a request head
 * starts {@code client_header_timeout} even while the head is still incomplete.
 */
final class ClientBytes extends ChannelInboundHandlerAdapter {

    private final ClientConnection conn;

    ClientBytes(ClientConnection conn) {
        this.conn = conn;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        conn.bytesArrived();
        ctx.fireChannelRead(msg);
    }
}
