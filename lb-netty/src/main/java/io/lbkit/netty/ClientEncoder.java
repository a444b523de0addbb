package io.lbkit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * The client connection's response writer, in place of Netty's response encoder. A proxied
 * response's head arrives already as bytes ({@link HeadWriter}, announced by {@link #body}); the
 * proxy's own answers arrive as Netty response objects and are written here. Body pieces
 * ({@link HttpContent}) are framed as the head said: as they are (a Content-Length or a
 * close-delimited body), as chunks, or not at all (an answer to HEAD, a 204, a 304, a 1xx).
 * Raw buffers pass as they are.
 */
final class ClientEncoder extends ChannelOutboundHandlerAdapter {

    /** How the body pieces of the response being written are framed. */
    enum Body { NONE, RAW, CHUNKED }

    private static final ByteBuf CRLF = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(2).writeByte('\r').writeByte('\n')).asReadOnly();
    private static final ByteBuf LAST_CHUNK = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(5).writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII))).asReadOnly();

    private Body body = Body.NONE;
    /** The request being answered is a HEAD: no body goes out, whatever the head says. */
    boolean headRequest;

    /** The head written next (as bytes) announces a body framed this way. */
    void body(Body framing) {
        body = framing;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r) {
            head(ctx, r, promise, msg instanceof FullHttpMessage);
            if (msg instanceof FullHttpMessage full) {
                content(ctx, full, promise);
            }
        } else if (msg instanceof HttpContent c) {
            content(ctx, c, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    /** A response object's head: its status line and fields, and the framing of what follows. */
    private void head(ChannelHandlerContext ctx, HttpResponse r, ChannelPromise promise, boolean more) {
        int code = r.status().code();
        HeadWriter w = HeadWriter.response(ctx.alloc(), code, r.status().reasonPhrase());
        HttpHeaders h = r.headers();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> f = it.next();
            w.field(f.getKey(), f.getValue());
        }
        if (code < 200 || code == 204 || code == 304 || headRequest) {
            body = Body.NONE;
        } else if (HttpUtil.isTransferEncodingChunked(r)) {
            body = Body.CHUNKED;
        } else {
            body = Body.RAW;
        }
        ctx.write(w.finish(), more ? ctx.voidPromise() : promise);
    }

    private void content(ChannelHandlerContext ctx, HttpContent c, ChannelPromise promise) {
        boolean last = c instanceof LastHttpContent;
        ByteBuf data = c.content();
        switch (body) {
            case RAW -> ctx.write(data, promise); // the piece's buffer, released once written
            case CHUNKED -> {
                int n = data.readableBytes();
                if (n > 0) {
                    ByteBuf size = ctx.alloc().buffer(10);
                    size.writeCharSequence(Integer.toHexString(n), StandardCharsets.US_ASCII);
                    size.writeShort(('\r' << 8) | '\n');
                    ctx.write(size, ctx.voidPromise());
                    ctx.write(data, ctx.voidPromise());
                    if (!last) {
                        ctx.write(CRLF.duplicate(), promise);
                    } else {
                        ctx.write(CRLF.duplicate(), ctx.voidPromise());
                    }
                } else {
                    data.release();
                    if (!last) {
                        ctx.write(Unpooled.EMPTY_BUFFER, promise);
                    }
                }
                if (last) {
                    HttpHeaders trailers = ((LastHttpContent) c).trailingHeaders();
                    if (trailers.isEmpty()) {
                        ctx.write(LAST_CHUNK.duplicate(), promise);
                    } else {
                        ByteBuf end = ctx.alloc().buffer(64);
                        end.writeByte('0').writeShort(('\r' << 8) | '\n');
                        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = trailers.iteratorCharSequence();
                             it.hasNext(); ) {
                            Map.Entry<CharSequence, CharSequence> f = it.next();
                            end.writeCharSequence(f.getKey(), StandardCharsets.ISO_8859_1);
                            end.writeByte(':').writeByte(' ');
                            end.writeCharSequence(f.getValue(), StandardCharsets.ISO_8859_1);
                            end.writeShort(('\r' << 8) | '\n');
                        }
                        end.writeShort(('\r' << 8) | '\n');
                        ctx.write(end, promise);
                    }
                }
            }
            default -> {
                ReferenceCountUtil.release(c);
                ctx.write(Unpooled.EMPTY_BUFFER, promise); // completes the promise in order with the writes before
            }
        }
        if (last) {
            body = Body.NONE;
        }
    }
}
