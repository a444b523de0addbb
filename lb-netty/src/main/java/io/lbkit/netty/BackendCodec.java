package io.lbkit.netty;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;

/**
 * The backend side's HTTP/1.1 codec: lbkit's request writer ({@link BackendEncoder}: the request
 * target written byte for byte as the client sent it) and Netty's response decoder, told that an
 * answer to HEAD has no body.
 */
final class BackendCodec extends CombinedChannelDuplexHandler<HttpResponseDecoder, BackendEncoder> {

    final BackendEncoder encoder;

    BackendCodec(int maxHeaderBytes) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
        HttpDecoderConfig config = new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(maxHeaderBytes);
        encoder = new BackendEncoder(methods);
        init(new Decoder(config, methods), encoder);
    }

    private static final class Decoder extends HttpResponseDecoder {
        private final ArrayDeque<HttpMethod> methods;

        Decoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> methods) {
            super(config);
            this.methods = methods;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            if (((HttpResponse) msg).status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // the final answer follows
            }
            HttpMethod m = methods.poll();
            return HttpMethod.HEAD.equals(m) || super.isContentAlwaysEmpty(msg);
        }
    }
}
