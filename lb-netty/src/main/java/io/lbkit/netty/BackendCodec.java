package io.lbkit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The backend side's HTTP/1.1 codec. Unlike Netty's {@code HttpClientCodec} it writes the request
 * target as ISO-8859-1, so the client's bytes (a {@code RequestTarget} byte string) reach the
 * endpoint unchanged; and, like it, it tells the decoder that a HEAD answer has no body.
 */
final class BackendCodec extends CombinedChannelDuplexHandler<HttpResponseDecoder, HttpRequestEncoder> {

    BackendCodec(int maxHeaderBytes) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
        HttpDecoderConfig config = new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(maxHeaderBytes);
        init(new Decoder(config, methods), new Encoder(methods));
    }

    private static final class Encoder extends HttpRequestEncoder {
        private final ArrayDeque<HttpMethod> methods;

        Encoder(ArrayDeque<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest r) {
                methods.add(r.method());
            }
            super.encode(ctx, msg, out);
        }

        @Override
        protected void encodeInitialLine(ByteBuf buf, HttpRequest request) {
            ByteBufUtil.copy(request.method().asciiName(), buf);
            buf.writeByte(' ');
            buf.writeCharSequence(request.uri(), StandardCharsets.ISO_8859_1); // one byte per char, as received
            buf.writeByte(' ');
            buf.writeCharSequence(request.protocolVersion().text(), StandardCharsets.US_ASCII);
            buf.writeByte('\r').writeByte('\n');
        }
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
