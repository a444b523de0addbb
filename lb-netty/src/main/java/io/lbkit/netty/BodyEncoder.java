package io.lbkit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * An HTTP/1.1 message writer in place of Netty's encoders: a message's head arrives either as
 * bytes already ({@link HeadWriter}; the caller announces its body's framing with {@link #body})
 * or as a Netty message object that a subclass writes ({@link #head}). Body pieces
 * ({@link HttpContent}) are then framed as the head said: as they are (a Content-Length or a
 * close-delimited body), as chunks, or not at all (a HEAD answer, 204, 304, 1xx). Raw buffers
 * pass as they are.
 */
abstract class BodyEncoder extends ChannelOutboundHandlerAdapter {

    /** How the body pieces of the message being written are framed. */
    enum Body { NONE, RAW, CHUNKED }

    private static final int CRLF_SHORT = ('\r' << 8) | '\n';
    private static final ByteBuf CRLF = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(2).writeByte('\r').writeByte('\n')).asReadOnly();
    private static final ByteBuf LAST_CHUNK = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(5).writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII))).asReadOnly();

    private Body body = Body.NONE;

    /** The head written next (as bytes) announces a body framed this way. */
    final void body(Body framing) {
        body = framing;
    }

    /** The framing of the body that follows a message object's head (its fields already written into {@code w}). */
    abstract Body head(HttpMessage m, HeadWriter w);

    /** The writer of a message object's head, its start line written. */
    abstract HeadWriter start(ChannelHandlerContext ctx, HttpMessage m);

    @Override
    public final void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpMessage m) {
            boolean full = msg instanceof FullHttpMessage;
            HeadWriter w = start(ctx, m);
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = m.headers().iteratorCharSequence(); it.hasNext(); ) {
                Map.Entry<CharSequence, CharSequence> f = it.next();
                w.field(f.getKey(), f.getValue());
            }
            body = head(m, w);
            ctx.write(w.finish(), full ? ctx.voidPromise() : promise);
            if (full) {
                content(ctx, (FullHttpMessage) msg, promise);
            }
        } else if (msg instanceof HttpContent c) {
            content(ctx, c, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    private void content(ChannelHandlerContext ctx, HttpContent c, ChannelPromise promise) {
        boolean last = c instanceof LastHttpContent;
        ByteBuf data = c.content();
        switch (body) {
            case RAW -> {
                if (!data.isReadable() && promise.isVoid()) {
                    data.release(); // an empty end nobody waits for: nothing to write (the flush still comes)
                } else {
                    ctx.write(data, promise); // the piece's buffer, released once written
                }
            }
            case CHUNKED -> chunk(ctx, c, data, last, promise);
            default -> {
                ReferenceCountUtil.release(c);
                ctx.write(Unpooled.EMPTY_BUFFER, promise); // completes the promise in order with the writes before
            }
        }
        if (last) {
            body = Body.NONE;
        }
    }

    private static void chunk(ChannelHandlerContext ctx, HttpContent c, ByteBuf data, boolean last, ChannelPromise promise) {
        int n = data.readableBytes();
        if (n > 0) {
            ByteBuf size = ctx.alloc().buffer(10);
            size.writeCharSequence(Integer.toHexString(n), StandardCharsets.US_ASCII);
            size.writeShort(CRLF_SHORT);
            ctx.write(size, ctx.voidPromise());
            ctx.write(data, ctx.voidPromise());
            ctx.write(CRLF.duplicate(), last ? ctx.voidPromise() : promise);
        } else {
            data.release();
            if (!last) {
                ctx.write(Unpooled.EMPTY_BUFFER, promise);
            }
        }
        if (!last) {
            return;
        }
        HttpHeaders trailers = ((LastHttpContent) c).trailingHeaders();
        if (trailers.isEmpty()) {
            ctx.write(LAST_CHUNK.duplicate(), promise);
            return;
        }
        ByteBuf end = ctx.alloc().buffer(64);
        end.writeByte('0').writeShort(CRLF_SHORT);
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = trailers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> f = it.next();
            end.writeCharSequence(f.getKey(), StandardCharsets.ISO_8859_1);
            end.writeByte(':').writeByte(' ');
            end.writeCharSequence(f.getValue(), StandardCharsets.ISO_8859_1);
            end.writeShort(CRLF_SHORT);
        }
        end.writeShort(CRLF_SHORT);
        ctx.write(end, promise);
    }
}
