package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The backend side's response decoder: framing per RFC 9112 §6.3 (HEAD, 1xx, 204, 304,
 * Content-Length, chunked with trailers, until the close), keep-alive, the reason phrase as
 * sent, and invalid heads; whole and a byte at a time.
 */
class BackendDecoderTest {

    /**
     * What the decoder makes of {@code input}, as text, read as a backend connection reads it: each
     * message handled when it is decoded (a response head object is reused for the next).
     */
    private static List<String> decode(String input, boolean byteAtATime, HttpMethod... methods) {
        List<String> out = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        ChannelInboundHandlerAdapter reader = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object m) {
                try {
                    if (m instanceof ParsedResponse r) {
                        out.add(r.decoderResult().isFailure() ? "invalid"
                                : r.status().code() + " " + r.status().reasonPhrase() + " len=" + r.contentLength
                                + " chunked=" + r.chunked + " keepAlive=" + r.keepAlive);
                    } else if (m instanceof HttpContent c) {
                        if (c.decoderResult().isFailure()) {
                            out.add("bad body");
                            return;
                        }
                        body.append(c.content().toString(StandardCharsets.ISO_8859_1));
                        if (c instanceof LastHttpContent last) {
                            out.add("body=" + body + (last.trailingHeaders().isEmpty() ? "" : " trailers="
                                    + last.trailingHeaders().entries()));
                            body.setLength(0);
                        }
                    }
                } finally {
                    ReferenceCountUtil.release(m);
                }
            }
        };
        EmbeddedChannel ch = new EmbeddedChannel(new BackendDecoder(16 * 1024, new ArrayDeque<>(List.of(methods))), reader);
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        if (byteAtATime) {
            for (byte b : bytes) {
                ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            }
        } else {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        }
        ch.finish(); // the endpoint closes
        return out;
    }

    private static void both(String input, List<String> expected, HttpMethod... methods) {
        assertEquals(expected, decode(input, false, methods), "whole");
        assertEquals(expected, decode(input, true, methods), "a byte at a time");
    }

    @Test
    void aContentLengthBodyThenTheNextResponse() {
        both("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Gone Fishing\r\nContent-Length: 0\r\n\r\n",
                List.of("200 OK len=2 chunked=false keepAlive=true", "body=ok",
                        "404 Gone Fishing len=0 chunked=false keepAlive=true", "body="),
                HttpMethod.GET, HttpMethod.GET);
    }

    @Test
    void anAnswerToHeadA204AndA304HaveNoBodyWhateverTheyDeclare() {
        both("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
                        + "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
                List.of("200 OK len=10 chunked=false keepAlive=true", "body=",
                        "204 No Content len=-1 chunked=false keepAlive=true", "body=",
                        "304 Not Modified len=-1 chunked=true keepAlive=true", "body="),
                HttpMethod.HEAD, HttpMethod.GET, HttpMethod.GET);
    }

    @Test
    void informationalHeadsComeBeforeTheFinalOne() {
        both("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
                        + "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
                List.of("100 Continue len=-1 chunked=false keepAlive=true", "body=",
                        "103 Early Hints len=-1 chunked=false keepAlive=true", "body=",
                        "201 Created len=1 chunked=false keepAlive=true", "body=x"),
                HttpMethod.POST);
    }

    @Test
    void aChunkedBodyIsDecodedWithItsTrailers() {
        both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n",
                List.of("200 OK len=-1 chunked=true keepAlive=true", "body=abc trailers=[X-Checksum=1]"),
                HttpMethod.GET);
    }

    @Test
    void withoutLengthTheBodyEndsWithTheCloseAndTheConnectionIsNotKept() {
        both("HTTP/1.0 200 OK\r\n\r\nall of it",
                List.of("200 OK len=-1 chunked=false keepAlive=false", "body=all of it"), HttpMethod.GET);
        both("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdef",
                List.of("200 OK len=-1 chunked=false keepAlive=false", "body=abcdef"), HttpMethod.GET);
    }

    @Test
    void invalidHeadsAndBodiesAreReportedAndEndTheDecoding() {
        assertEquals(List.of("invalid"), decode("HTTP/1.1 2x0 OK\r\n\r\n", false, HttpMethod.GET));
        assertEquals(List.of("invalid"), decode("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                false, HttpMethod.GET));
        assertEquals(List.of("invalid"), decode("HTTP/1.1 200 OK\r\nContent-Le", false, HttpMethod.GET));
        assertEquals(List.of("200 OK len=-1 chunked=true keepAlive=true", "bad body"),
                decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", false, HttpMethod.GET));
    }
}
