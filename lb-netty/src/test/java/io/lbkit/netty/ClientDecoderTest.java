package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client side's request decoder: the head's fields, framing and keep-alive against Netty's
 * decoder for the same bytes; bodies by Content-Length and chunked (data and trailers), whole and
 * a byte at a time; pipelined requests; refused heads and bodies.
 */
class ClientDecoderTest {

    /**
     * The messages the decoder hands over for {@code input}, fed whole or a byte at a time, asked
     * for one at a time as the connection asks (each message asks for the next).
     */
    private static List<Object> messages(String input, boolean byteAtATime) {
        List<Object> got = new ArrayList<>();
        ClientDecoder d = new ClientDecoder(null, 1 << 20, 8192, 16 * 1024, 8192);
        EmbeddedChannel ch = new EmbeddedChannel(d, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object m) {
                got.add(m);
                d.want();
            }
        });
        d.want();
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        if (byteAtATime) {
            for (byte b : bytes) {
                ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            }
        } else {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        }
        ch.finishAndReleaseAll();
        return got;
    }

    /** Everything the decoder makes of {@code input}, as text. */
    private static List<String> decode(String input, boolean byteAtATime) {
        List<String> out = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        for (Object m : messages(input, byteAtATime)) {
            try {
                if (m instanceof ParsedRequest r) {
                    out.add(r.refusal != 0 ? "refused " + r.refusal
                            : r.method() + " " + r.uri() + " " + r.protocolVersion() + " len=" + r.contentLength
                            + " chunked=" + r.chunked + " keepAlive=" + r.keepAlive + " expect=" + r.expectContinue);
                } else if (m instanceof HttpContent c) {
                    if (c.decoderResult().isFailure()) {
                        out.add("bad body");
                        continue;
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
        return out;
    }

    private static void both(String input, String... expected) {
        assertEquals(List.of(expected), decode(input, false), "whole");
        assertEquals(List.of(expected), decode(input, true), "a byte at a time");
    }

    /** The connection's flow control: one message per ask, the rest of what was read waits undecoded. */
    @Test
    void oneMessageIsHandedOverPerAsk() {
        List<Object> got = new ArrayList<>();
        ClientDecoder d = new ClientDecoder(null, 1 << 20, 8192, 16 * 1024, 8192);
        EmbeddedChannel ch = new EmbeddedChannel(d, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object m) {
                got.add(m);
            }
        });
        ch.writeInbound(Unpooled.copiedBuffer("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
                StandardCharsets.ISO_8859_1));
        assertEquals(0, got.size(), "nothing before the connection asks");
        d.want();
        assertEquals("/1", ((ParsedRequest) got.get(0)).uri());
        assertEquals(1, got.size());
        d.want();
        assertTrue(got.get(1) instanceof LastHttpContent);
        d.want();
        assertEquals("/2", ((ParsedRequest) got.get(2)).uri());
        d.want();
        d.want(); // nothing left: the socket is asked to read
        assertEquals(4, got.size());
        got.forEach(ReferenceCountUtil::release);
        ch.finishAndReleaseAll();
    }

    @Test
    void aGetWithoutBodyIsAHeadAndAnEmptyEnd() {
        both("GET /a?b=c HTTP/1.1\r\nHost: h\r\n\r\n",
                "GET /a?b=c HTTP/1.1 len=-1 chunked=false keepAlive=true expect=false", "body=");
    }

    @Test
    void aContentLengthBodyEndsAtItsLengthAndThePipelinedRequestFollows() {
        both("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /n HTTP/1.1\r\nHost: h\r\n\r\n",
                "POST /p HTTP/1.1 len=5 chunked=false keepAlive=true expect=false", "body=hello",
                "GET /n HTTP/1.1 len=-1 chunked=false keepAlive=true expect=false", "body=");
    }

    @Test
    void aChunkedBodyIsDecodedWithItsTrailers() {
        both("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
                        + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42 \r\n\r\nGET /n HTTP/1.0\r\n\r\n",
                "POST /c HTTP/1.1 len=-1 chunked=true keepAlive=true expect=true", "body=hello world trailers=[X-Sum=42]",
                "GET /n HTTP/1.0 len=-1 chunked=false keepAlive=false expect=false", "body=");
    }

    @Test
    void chunkedBesideAContentLengthWinsAndTheConnectionCloses() {
        both("POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
                "POST /c HTTP/1.1 len=-1 chunked=true keepAlive=false expect=false", "body=ab");
    }

    @Test
    void keepAliveFollowsTheVersionAndConnectionTokens() {
        both("GET / HTTP/1.0\r\nConnection: foo, Keep-Alive\r\n\r\n",
                "GET / HTTP/1.0 len=-1 chunked=false keepAlive=true expect=false", "body=");
        both("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                "GET / HTTP/1.1 len=-1 chunked=false keepAlive=false expect=false", "body=");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Content-Length: 1x", "Content-Length: -1", "Content-Length: 1\r\nContent-Length: 2"})
    void anInvalidContentLengthIs400AndNothingAfterItIsRead(String field) {
        both("POST / HTTP/1.1\r\nHost: h\r\n" + field + "\r\n\r\nxGET / HTTP/1.1\r\n\r\n", "refused 400");
    }

    @Test
    void aMalformedChunkedBodyEndsTheDecoding() {
        both("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\n\r\n",
                "POST / HTTP/1.1 len=-1 chunked=true keepAlive=true expect=false", "bad body");
    }

    @Test
    void refusedHeadsCarryTheParsersStatus() {
        assertEquals(List.of("refused 505"), decode("GET / HTTP/2.0\r\n\r\n", false));
        assertEquals(List.of("refused 400"), decode("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", false));
        assertEquals(List.of("refused 414"), decode("GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n", false));
        assertEquals(List.of("refused 431"), decode("GET / HTTP/1.1\r\nX: " + "a".repeat(17000) + "\r\n\r\n", false));
    }

    /** The fields, method, target and framing flags are what Netty's decoder reads in the same head. */
    @Test
    void theHeadReadsAsNettysDecoderReadsIt() {
        String head = "PUT /x%20y?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nX-Multi: a\r\n"
                + "x-multi: b\r\nContent-Length: 0\r\nConnection: keep-alive\r\nExpect: 100-Continue\r\n\r\n";
        EmbeddedChannel netty = new EmbeddedChannel(new HttpRequestDecoder());
        netty.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
        List<Object> mine = messages(head, false);
        ParsedRequest a = (ParsedRequest) mine.get(0);
        HttpRequest b = netty.readInbound();
        assertEquals(b.method(), a.method());
        assertTrue(a.method() == HttpMethod.valueOf("PUT"), "the usual methods are Netty's constants");
        assertEquals(b.uri(), a.uri());
        assertEquals(HttpVersion.HTTP_1_1, a.protocolVersion());
        assertEquals(HttpUtil.isKeepAlive(b), a.keepAlive);
        assertEquals(HttpUtil.is100ContinueExpected(b), a.expectContinue);
        assertEquals(HttpUtil.getContentLength(b, -1L), a.contentLength);
        HttpHeaders expected = new DefaultHttpHeaders().add(b.headers());
        assertEquals(expected.entries().toString(), a.headers().entries().toString(), "the fields, in order");
        assertEquals("example.com:8080", a.header("host"));
        assertEquals(List.of("a", "b"), a.all("X-MULTI"));
        assertNull(a.header("X-Missing"));
        StringBuilder visited = new StringBuilder();
        a.forEachField((n, v) -> visited.append(n).append('=').append(v).append(';'));
        assertEquals("Host=example.com:8080;Accept=*/*;X-Multi=a;x-multi=b;Content-Length=0;"
                + "Connection=keep-alive;Expect=100-Continue;", visited.toString());
        ReferenceCountUtil.release(b);
        mine.forEach(ReferenceCountUtil::release);
        netty.finishAndReleaseAll();
        assertFalse(a.decoderResult().isFailure());
    }
}
