package io.lbkit.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;

/**
 * The client connection's response writer, in place of Netty's response encoder. A proxied
 * response's head arrives already as bytes ({@link HeadWriter}, its framing announced with
 * {@link #body}); the proxy's own answers arrive as Netty response objects and are written here.
 */
final class ClientEncoder extends BodyEncoder {

    /** The request being answered is a HEAD: no body goes out, whatever the head says. */
    boolean headRequest;
    private HeadWriter writer;

    @Override
    HeadWriter start(ChannelHandlerContext ctx, HttpMessage m) {
        HttpResponse r = (HttpResponse) m;
        if (writer == null) {
            writer = new HeadWriter(ctx.alloc());
        }
        return writer.response(r.status().code(), r.status().reasonPhrase());
    }

    @Override
    Body head(HttpMessage m, HeadWriter w) {
        int code = ((HttpResponse) m).status().code();
        if (code < 200 || code == 204 || code == 304 || headRequest) {
            return Body.NONE;
        }
        return HttpUtil.isTransferEncodingChunked(m) ? Body.CHUNKED : Body.RAW;
    }
}
