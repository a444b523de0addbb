package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where a chunked body ends, found without decoding it: the same end and data length whole or a
 * byte at a time, the same data length as Netty's decoder finds, a pipelined request after the
 * body left alone, and the malformed bodies the engine answers with 400 refused.
 */
class ChunkedFramerTest {

    private static final String NEXT = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";

    /** {consumed, dataBytes, done} for the body fed whole. */
    private static long[] whole(String body) {
        ChunkedFramer f = new ChunkedFramer(4096, 8192);
        ByteBuf buf = Unpooled.copiedBuffer(body, StandardCharsets.ISO_8859_1);
        try {
            int n = f.frame(buf);
            return new long[] {n, f.dataBytes(), f.done() ? 1 : 0};
        } finally {
            buf.release();
        }
    }

    /** The same, a byte per call, each call seeing only the new byte (as reads that consume). */
    private static long[] byteByByte(String body) {
        ChunkedFramer f = new ChunkedFramer(4096, 8192);
        byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
        long consumed = 0;
        for (int i = 0; i < bytes.length && !f.done(); i++) {
            ByteBuf one = Unpooled.wrappedBuffer(new byte[] {bytes[i]});
            int n = f.frame(one);
            if (n < 0) {
                return new long[] {n, f.dataBytes(), 0};
            }
            consumed += n;
        }
        return new long[] {consumed, f.dataBytes(), f.done() ? 1 : 0};
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "5\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        "A\r\n0123456789\r\n0\r\n\r\n",
        "a;name=value;x=\"q\"\r\n0123456789\r\n0\r\n\r\n",
        "5\nhello\n0\n\n",
        "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
        "0\r\n\r\n",
        "00005\r\nhello\r\n000\r\n\r\n",
    })
    void theBodyEndsWhereNettysDecoderEndsItAndAPipelinedRequestIsLeft(String body) {
        long[] w = whole(body + NEXT);
        assertEquals(body.length(), w[0], "the body's bytes, not the next request's");
        assertEquals(1, w[2]);
        long[] b = byteByByte(body + NEXT);
        assertEquals(w[0], b[0], "a byte at a time");
        assertEquals(w[1], b[1]);
        assertEquals(1, b[2]);

        if (!body.contains("\r")) {
            return; // bare LF line ends: Netty 4.2's decoder refuses them (HeadParserTest says the same of heads)
        }
        EmbeddedChannel ch = new EmbeddedChannel(new HttpRequestDecoder());
        ch.writeInbound(Unpooled.copiedBuffer("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
                StandardCharsets.ISO_8859_1));
        long nettyData = 0;
        boolean last = false;
        for (Object m; (m = ch.readInbound()) != null; ) {
            if (m instanceof HttpContent c) {
                assertTrue(c.decoderResult().isSuccess(), body);
                nettyData += c.content().readableBytes();
                last |= m instanceof LastHttpContent;
            }
            ReferenceCountUtil.release(m);
        }
        ch.finishAndReleaseAll();
        assertTrue(last, "Netty ended the body too");
        assertEquals(nettyData, w[1], "the data length Netty decodes");
    }

    @Test
    void anUnfinishedBodyTakesEverythingAndIsNotDone() {
        long[] w = whole("5\r\nhel");
        assertEquals(6, w[0]);
        assertEquals(3, w[1]);
        assertEquals(0, w[2]);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n|a chunk size that is not hexadecimal",
        "5\r\nhelloXY3\r\nabc\r\n0\r\n\r\n|a chunk's data not followed by CRLF",
        "5\r\nhello\r\n0\r\nno colon here\r\n\r\n|a trailer line that is not a field",
        "5\r\nhello\r\nfffffffffffffffff\r\n|a chunk size that overflows",
        "\r\n5\r\nhello\r\n0\r\n\r\n|a chunk size that is not hexadecimal",
        "5\rhello\r\n0\r\n\r\n|a bare CR",
        "5;a\u0000b\r\nhello\r\n0\r\n\r\n|a control byte in a chunk extension",
        "0\r\nX: a\u0001\r\n\r\n|a control byte in a trailer field",
    })
    void malformedBodiesAre400WithTheReason(String caseText) {
        String[] c = caseText.split("\\|", 2);
        ChunkedFramer f = new ChunkedFramer(4096, 8192);
        ByteBuf buf = Unpooled.copiedBuffer(c[0], StandardCharsets.ISO_8859_1);
        try {
            assertEquals(-400, f.frame(buf), c[0]);
            assertEquals(c[1], f.reason());
        } finally {
            buf.release();
        }
        assertEquals(-400, byteByByte(c[0])[0], "a byte at a time");
    }

    @Test
    void longExtensionsAndTrailersAreRefusedAndAFramerIsReused() {
        ChunkedFramer f = new ChunkedFramer(16, 32);
        ByteBuf buf = Unpooled.copiedBuffer("5;" + "e".repeat(40) + "\r\nhello\r\n0\r\n\r\n", StandardCharsets.ISO_8859_1);
        assertEquals(-400, f.frame(buf));
        assertEquals("a chunk extension that is too long", f.reason());
        buf.release();
        f.reset();
        buf = Unpooled.copiedBuffer("0\r\nX: " + "v".repeat(40) + "\r\n\r\n", StandardCharsets.ISO_8859_1);
        assertEquals(-400, f.frame(buf));
        assertEquals("trailer fields that are too large", f.reason());
        buf.release();
        f.reset();
        buf = Unpooled.copiedBuffer("3\r\nabc\r\n0\r\n\r\n", StandardCharsets.ISO_8859_1);
        assertEquals(13, f.frame(buf));
        assertTrue(f.done());
        assertEquals(3, f.dataBytes());
        buf.release();
        f.reset();
        assertFalse(f.done());
        assertEquals(0, f.dataBytes());
    }
}
