package io.lbkit.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import java.util.ArrayDeque;

/**
 * A backend connection's request writer, in place of Netty's request encoder: an exchange's
 * request head arrives as bytes ({@link HeadWriter}, announced with {@link #request}); a fan-out
 * leg's as a Netty request object. It keeps the method of each request for the response decoder
 * (an answer to HEAD has no body).
 */
final class BackendEncoder extends BodyEncoder {

    private final ArrayDeque<HttpMethod> methods;
    private HeadWriter writer;

    BackendEncoder(ArrayDeque<HttpMethod> methods) {
        this.methods = methods;
    }

    /** The request head written next, as bytes, is a {@code method} request whose body is framed as {@code framing}. */
    void request(HttpMethod method, Body framing) {
        methods.add(method);
        body(framing);
    }

    @Override
    HeadWriter start(ChannelHandlerContext ctx, HttpMessage m) {
        HttpRequest r = (HttpRequest) m;
        methods.add(r.method());
        if (writer == null) {
            writer = new HeadWriter(ctx.alloc());
        }
        return writer.request(r.method(), r.uri());
    }

    @Override
    Body head(HttpMessage m, HeadWriter w) {
        return HttpUtil.isTransferEncodingChunked(m) ? Body.CHUNKED : Body.RAW;
    }
}
