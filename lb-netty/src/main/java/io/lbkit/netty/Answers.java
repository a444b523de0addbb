package io.lbkit.netty;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.lbkit.proxy.engine.Admission;
import io.lbkit.proxy.engine.ErrorAnswer;

/** The proxy's own answers: one short line of text, as the servlet engine writes them. */
final class Answers {

    private Answers() {
    }

    /** {@code 502 Bad Gateway\n} as text/plain, closing the connection when {@code close}. */
    static FullHttpResponse error(int status, boolean close) {
        byte[] body = ErrorAnswer.body(status);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(status, ErrorAnswer.reason(status)), Unpooled.wrappedBuffer(body));
        r.headers().set(Fields.CONTENT_TYPE, ErrorAnswer.CONTENT_TYPE);
        r.headers().setInt(Fields.CONTENT_LENGTH, body.length);
        if (status == 405) {
            r.headers().set(Fields.ALLOW, Admission.ALLOW);
        }
        if (close) {
            r.headers().set(Fields.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }

    /** {@link #error} with {@code Retry-After} (seconds): the client may try again then. */
    static FullHttpResponse error(int status, boolean close, String retryAfter) {
        FullHttpResponse r = error(status, close);
        r.headers().set(Fields.RETRY_AFTER, retryAfter);
        return r;
    }

    /** nginx's {@code stub_status} page (its head only for HEAD), closing the connection when {@code close}. */
    static FullHttpResponse status(io.lbkit.proxy.engine.StubStatus counters, boolean head, boolean close) {
        byte[] body = counters.bytes();
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        r.headers().set(Fields.CONTENT_TYPE, io.lbkit.proxy.engine.StubStatus.CONTENT_TYPE);
        r.headers().setInt(Fields.CONTENT_LENGTH, body.length);
        if (close) {
            r.headers().set(Fields.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }

    /** {@code 100 Continue}: the client may send the body it announced with {@code Expect}. */
    static HttpResponse continueResponse() {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER);
    }
}
