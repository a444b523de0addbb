package io.lbkit.netty;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayDeque;

/**
 * The backend side's HTTP/1.1 codec, lbkit's own: the request writer ({@link BackendEncoder}: the
 * request target written byte for byte as the client sent it) and the response decoder
 * ({@link BackendDecoder}), which the writer tells each request's method (an answer to HEAD has
 * no body).
 */
final class BackendCodec extends CombinedChannelDuplexHandler<BackendDecoder, BackendEncoder> {

    final BackendEncoder encoder;

    BackendCodec(int maxHeaderBytes) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
        encoder = new BackendEncoder(methods);
        init(new BackendDecoder(maxHeaderBytes, methods), encoder);
    }
}
