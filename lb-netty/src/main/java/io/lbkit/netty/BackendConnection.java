package io.lbkit.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;

/**
 * One connection to an endpoint, owned by one event loop: lent to one exchange at a time (its
 * {@link #owner}), idle in its loop's {@link BackendPool} in between. The last handler of the
 * backend channel's pipeline; every event goes to the owner.
 */
final class BackendConnection extends ChannelInboundHandlerAdapter {

    final BackendPool.Slot slot;
    Channel channel;
    /** The exchange (or fan-out leg) using the connection, or null while it is idle (or closing). */
    BackendOwner owner;
    /** The connection's request writer: an exchange announces each request head it writes as bytes. */
    BackendEncoder encoder;
    /** Responses read on this connection so far: above 0 it was kept alive and reused. */
    int responses;
    long idleSinceNanos;
    boolean evictionArmed;
    final Runnable evictCheck = this::evictCheck;

    BackendConnection(BackendPool.Slot slot) {
        this.slot = slot;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        BackendOwner o = owner;
        if (o != null) {
            o.backendRead(this, msg);
        } else {
            ReferenceCountUtil.release(msg); // bytes on an idle connection: it is no longer in step
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        BackendOwner o = owner;
        if (o != null) {
            o.backendReadComplete(this);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        BackendOwner o = owner;
        if (o != null) {
            o.backendWritable(this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        BackendOwner o = owner;
        if (o != null) {
            o.backendFailed(this, new IOException("the endpoint closed the connection"));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        BackendOwner o = owner;
        if (o != null) {
            o.backendFailed(this, cause);
        }
        ctx.close();
    }

    /** Closes the connection, which nobody owns any more. */
    void discard() {
        owner = null;
        if (channel != null) {
            channel.close();
        }
    }

    private void evictCheck() {
        evictionArmed = false;
        if (owner != null || !channel.isActive()) {
            return;
        }
        long left = slot.pool.keepAliveNanos - (System.nanoTime() - idleSinceNanos);
        if (left <= 0) {
            channel.close();
        } else {
            slot.pool.armEviction(this, left);
        }
    }
}
