package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The in-place request head parser: what it finds in valid heads (the same as Netty's decoder
 * finds, for every valid head here), which heads it refuses with which status, and that a head
 * arriving a byte at a time gives the same result as one arriving whole.
 */
class HeadParserTest {

    private static final int MAX_LINE = 8192;
    private static final int MAX_HEAD = 16 * 1024;

    /** What a parse found, as text, for comparing. */
    record Parsed(int result, String method, String target, int version, List<String> fields, String reason) {
    }

    private static Parsed parse(HeadParser p, ByteBuf buf, int result) {
        if (result <= 0) {
            return new Parsed(result, null, null, 0, List.of(), p.reason());
        }
        int s = buf.readerIndex() + p.skipped();
        List<String> fields = new ArrayList<>();
        for (int i = 0; i < p.fieldCount(); i++) {
            fields.add(text(buf, s + p.nameStart(i), s + p.nameEnd(i)) + ": " + text(buf, s + p.valueStart(i), s + p.valueEnd(i)));
        }
        return new Parsed(result, text(buf, s, s + p.methodEnd()), text(buf, s + p.targetStart(), s + p.targetEnd()),
                p.version(), fields, null);
    }

    private static String text(ByteBuf buf, int from, int to) {
        return buf.toString(from, to - from, StandardCharsets.ISO_8859_1);
    }

    /** The whole head at once. */
    private static Parsed whole(String head) {
        HeadParser p = new HeadParser(MAX_LINE, MAX_HEAD, 100);
        ByteBuf buf = Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1);
        try {
            return parse(p, buf, p.parse(buf));
        } finally {
            buf.release();
        }
    }

    /** The head a byte at a time, into one growing buffer (as a connection's cumulation). */
    private static Parsed byteByByte(String head) {
        HeadParser p = new HeadParser(MAX_LINE, MAX_HEAD, 100);
        ByteBuf buf = Unpooled.buffer();
        try {
            byte[] bytes = head.getBytes(StandardCharsets.ISO_8859_1);
            int r = HeadParser.NEED_MORE;
            for (int i = 0; i < bytes.length && r == HeadParser.NEED_MORE; i++) {
                buf.writeByte(bytes[i]);
                r = p.parse(buf);
            }
            return parse(p, buf, r);
        } finally {
            buf.release();
        }
    }

    @Test
    void aSimpleHead() {
        String head = "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
        Parsed p = whole(head + "body");
        assertEquals(head.length(), p.result(), "the head's length: the body starts there");
        assertEquals("GET", p.method());
        assertEquals("/a?b=c", p.target());
        assertEquals(11, p.version());
        assertEquals(List.of("Host: example.com", "Accept: */*"), p.fields());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",                    // empty lines first (RFC 9112 §2.2)
        "GET   /x   HTTP/1.0\r\n\r\n",                                  // runs of spaces, no fields
        "get /x HTTP/1.1\r\nHost: h\r\n\r\n",                           // a method is any token
        "POST http://h:8080/p?q HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Trim: \t v a l \t \r\nX-Obs: caf\u00e9\r\n\r\n",
        "GET /%E2%82%AC/\u00e9 HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2\r\nCookie: c=3\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n",                          // a stray CR first: skipped (nginx, Netty)
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
    })
    void validHeadsGiveWhatNettysDecoderGivesWholeOrByteByByte(String head) {
        Parsed p = whole(head);
        assertTrue(p.result() > 0, head + ": " + p);
        assertEquals(p, byteByByte(head), "a byte at a time");
        EmbeddedChannel ch = new EmbeddedChannel(new HttpRequestDecoder());
        ch.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
        HttpRequest netty = ch.readInbound();
        try {
            assertTrue(netty.decoderResult().isSuccess(), head);
            assertEquals(netty.method().name(), p.method());
            assertEquals(netty.uri(), p.target());
            assertEquals(netty.protocolVersion().minorVersion() == 0 ? 10 : 11, p.version());
            List<String> nettyFields = new ArrayList<>();
            for (Map.Entry<String, String> e : netty.headers()) {
                nettyFields.add(e.getKey() + ": " + e.getValue());
            }
            assertEquals(nettyFields, p.fields(), head);
        } finally {
            ReferenceCountUtil.release(netty);
            ch.finishAndReleaseAll();
        }
    }

    /**
     * Bare LF line ends: accepted, as nginx does and RFC 9112 §2.2 allows (the head is written to
     * the backend with CRLF, so nothing ambiguous passes). Netty 4.2's decoder refuses them: an
     * engine on this parser answers such a head where the Netty codec answered 400.
     */
    @Test
    void bareLineFeedsAreLineEndsWhereNettysDecoderRefusesThem() {
        String head = "GET /x HTTP/1.1\nHost: h\nX-A: 1\r\n\n";
        Parsed p = whole(head);
        assertEquals(head.length(), p.result());
        assertEquals(List.of("Host: h", "X-A: 1"), p.fields());
        assertEquals(p, byteByByte(head));
        EmbeddedChannel ch = new EmbeddedChannel(new HttpRequestDecoder());
        ch.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
        HttpRequest netty = ch.readInbound();
        assertTrue(netty.decoderResult().isFailure(), "Netty 4.2 refuses a bare LF");
        ch.finishAndReleaseAll();
    }

    @Test
    void versionsAboveOnePointOneAreOnePointOneAndOtherMajorsAre505() {
        assertEquals(11, whole("GET / HTTP/1.2\r\nHost: h\r\n\r\n").version());
        assertEquals(-505, whole("GET / HTTP/2.0\r\n\r\n").result());
        assertEquals(-400, whole("GET / HTTP/0.9\r\n\r\n").result(), "nginx: 400");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET / HTTP/1.1\r\nHost : h\r\n\r\n|whitespace between a field name and its colon",
        "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n|a folded field line (obs-fold)",
        "GET / HTTP/1.1\r\nX(: h\r\n\r\n|a field name that is not a token",
        "GET / HTTP/1.1\r\n: h\r\n\r\n|a field name that is not a token",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n|a field name that is not a token",
        "GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n|a control byte in a field value",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n|a bare CR",
        "GET / HTTP/1.1\r\nX: a\u007fb\r\n\r\n|a control byte in a field value",
        "G(T / HTTP/1.1\r\n\r\n|the method is not a token",
        " GET / HTTP/1.1\r\n\r\n|the method is not a token",
        "GET /a\u0001b HTTP/1.1\r\n\r\n|a control byte in the request target",
        "GET /\r\n\r\n|no HTTP version (HTTP/0.9)",
        "GET / HTTP/1\r\n\r\n|a malformed HTTP version",
        "GET / HTTX/1.1\r\n\r\n|a malformed HTTP version",
        "GET / HTTP/1.1 extra\r\n\r\n|a malformed HTTP version",
    })
    void malformedHeadsAre400WithTheReason(String caseText) {
        String[] c = caseText.split("\\|", 2);
        Parsed p = whole(c[0]);
        assertEquals(-400, p.result(), c[0]);
        assertEquals(c[1], p.reason(), c[0]);
        assertEquals(p.result(), byteByByte(c[0]).result(), "a byte at a time");
        EmbeddedChannel ch = new EmbeddedChannel(new HttpRequestDecoder());
        ch.writeInbound(Unpooled.copiedBuffer(c[0], StandardCharsets.ISO_8859_1));
        Object netty = ch.readInbound();
        boolean nettyRefused = netty == null || ((io.netty.handler.codec.DecoderResultProvider) netty).decoderResult().isFailure();
        ReferenceCountUtil.release(netty);
        ch.finishAndReleaseAll();
        assertTrue(nettyRefused || NETTY_ACCEPTS.contains(c[0]), "Netty's decoder, which the engine uses today, refuses it too: " + c[0]);
    }

    /**
     * Malformed heads Netty 4.2's decoder lets through today, which nginx answers with 400 as this
     * parser does: a folded field line (Netty joins it), a space before the method (Netty skips
     * it), a control byte in the target.
     */
    private static final java.util.Set<String> NETTY_ACCEPTS = java.util.Set.of(
            "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
            " GET / HTTP/1.1\r\n\r\n",
            "GET /a\u0001b HTTP/1.1\r\n\r\n");

    @Test
    void aLongRequestLineIs414BeforeTheHeadEndsAndALargeHeadIs431() {
        HeadParser p = new HeadParser(100, 400, 5);
        ByteBuf buf = Unpooled.copiedBuffer("GET /" + "a".repeat(200), StandardCharsets.ISO_8859_1);
        assertEquals(-414, p.parse(buf), "no line end within 100 bytes: refused at once");
        buf.release();
        p.reset();
        buf = Unpooled.copiedBuffer("GET / HTTP/1.1\r\nX: " + "v".repeat(500), StandardCharsets.ISO_8859_1);
        assertEquals(-431, p.parse(buf));
        buf.release();
        p.reset();
        StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\n");
        for (int i = 0; i < 6; i++) {
            many.append("X").append(i).append(": v\r\n");
        }
        buf = Unpooled.copiedBuffer(many + "\r\n", StandardCharsets.ISO_8859_1);
        assertEquals(-431, p.parse(buf), "six fields, five allowed");
        assertEquals("too many header fields", p.reason());
        buf.release();
    }

    @Test
    void oneParserServesEachRequestOfAConnectionAndGrowsItsIndex() {
        HeadParser p = new HeadParser(MAX_LINE, MAX_HEAD, 100);
        StringBuilder big = new StringBuilder("GET /big HTTP/1.1\r\n");
        for (int i = 0; i < 40; i++) {
            big.append("X-").append(i).append(": ").append(i).append("\r\n");
        }
        String first = big + "\r\n";
        String second = "GET /small HTTP/1.1\r\nHost: h\r\n\r\n";
        ByteBuf buf = Unpooled.copiedBuffer(first + second, StandardCharsets.ISO_8859_1);
        try {
            int n = p.parse(buf);
            assertEquals(first.length(), n);
            Parsed a = parse(p, buf, n);
            assertEquals(40, a.fields().size());
            assertEquals("X-39: 39", a.fields().get(39));
            buf.skipBytes(n);
            p.reset();
            Parsed b = parse(p, buf, p.parse(buf));
            assertEquals("/small", b.target());
            assertEquals(List.of("Host: h"), b.fields());
        } finally {
            buf.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.0 404\r\n\r\n",
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 299 A reason, with\tspaces\r\nX: y\r\n\r\n",
    })
    void responseHeadsGiveWhatNettysResponseDecoderGives(String head) {
        HeadParser p = HeadParser.forResponses(16 * 1024, 100);
        ByteBuf buf = Unpooled.copiedBuffer(head + "ok", StandardCharsets.ISO_8859_1);
        EmbeddedChannel ch = new EmbeddedChannel(new io.netty.handler.codec.http.HttpResponseDecoder());
        try {
            assertEquals(head.length(), p.parse(buf), head);
            ch.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
            io.netty.handler.codec.http.HttpResponse netty = ch.readInbound();
            assertTrue(netty.decoderResult().isSuccess(), head);
            assertEquals(netty.status().code(), p.status());
            assertEquals(netty.protocolVersion().minorVersion() == 0 ? 10 : 11, p.version());
            List<String> nettyFields = new ArrayList<>();
            for (Map.Entry<String, String> e : netty.headers()) {
                nettyFields.add(e.getKey() + ": " + e.getValue());
            }
            List<String> ours = new ArrayList<>();
            byte[] h = p.bytes();
            for (int i = 0; i < p.fieldCount(); i++) {
                ours.add(new String(h, p.nameStart(i), p.nameEnd(i) - p.nameStart(i), StandardCharsets.ISO_8859_1) + ": "
                        + new String(h, p.valueStart(i), p.valueEnd(i) - p.valueStart(i), StandardCharsets.ISO_8859_1));
            }
            assertEquals(nettyFields, ours);
        } finally {
            buf.release();
            ch.finishAndReleaseAll();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 20 OK\r\n\r\n|a malformed status code",
        "HTTP/1.1 200OK\r\n\r\n|a malformed status code",
        "HTTP/1.1 099 Low\r\n\r\n|a malformed status code",
        "HTTP/2.0 200 OK\r\n\r\n|an HTTP version other than 1.x",
        "ICY 200 OK\r\n\r\n|a malformed HTTP version",
        "HTTP/1.1 200 O\u0001K\r\n\r\n|a control byte in the reason phrase",
        "HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n|a field name that is not a token",
    })
    void anInvalidResponseHeadIs502(String caseText) {
        String[] c = caseText.split("\\|", 2);
        HeadParser p = HeadParser.forResponses(16 * 1024, 100);
        ByteBuf buf = Unpooled.copiedBuffer(c[0], StandardCharsets.ISO_8859_1);
        try {
            assertEquals(-502, p.parse(buf), c[0]);
            assertEquals(c[1], p.reason());
        } finally {
            buf.release();
        }
    }

    @Test
    void anIncompleteHeadNeedsMore() {
        for (String part : new String[] {"", "GET", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: h\r\n", "GET / HTTP/1.1\r\n\r"}) {
            assertEquals(HeadParser.NEED_MORE, whole(part).result(), part);
        }
    }
}
