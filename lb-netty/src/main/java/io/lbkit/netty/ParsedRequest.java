package io.lbkit.netty;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A client's request head as {@link ClientDecoder} parsed it: its bytes and the offsets of each
 * field ({@link HeadParser}), with what framing and the engine need worked out once (the body's
 * length or chunked, keep-alive, {@code Expect: 100-continue}). Fields are read from the bytes;
 * the Netty header container that {@link #headers()} returns is made only when something asks
 * for it (off the proxying path: the session API, fan-out).
 *
 * <p>A head the parser refused is a {@code ParsedRequest} too, with {@link #refusal()} the status
 * to answer and a failed {@link #decoderResult()}.
 */
final class ParsedRequest extends ParsedHead implements HttpRequest {

    private HttpMethod method;
    private String uri;
    /** The status a refused head gets (400, 414, 431, 505), or 0. */
    final int refusal;
    /** Why the head was refused, a fixed text, or null. */
    final String reason;
    /** The declared body length, or -1 when none is declared. */
    long contentLength = -1;
    /** Whether the body is chunked (Transfer-Encoding's last coding). */
    boolean chunked;
    /** Whether the client may keep the connection open (its version and Connection). */
    boolean keepAlive;
    /** Whether the client waits for {@code 100 Continue} before its body. */
    boolean expectContinue;
    /** The size of the header block as the rules count it (name, value and 4 per field). */
    long headerBytes;

    private ParsedRequest(byte[] head, int[] index, int fields, int refusal, String reason) {
        super(head, index, fields);
        this.refusal = refusal;
        this.reason = reason;
    }

    /** The head {@code p} just parsed, copied out of the parser. */
    static ParsedRequest of(HeadParser p, int headLength) {
        byte[] h = Arrays.copyOf(p.bytes(), headLength);
        ParsedRequest r = new ParsedRequest(h, index(p), p.fieldCount(), 0, null);
        r.method = method(h, p.methodEnd());
        r.uri = new String(h, p.targetStart(), p.targetEnd() - p.targetStart(), StandardCharsets.ISO_8859_1);
        r.version = p.version() == 10 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
        return r;
    }

    /** A head the parser refused with {@code status}. */
    static ParsedRequest refused(int status, String reason) {
        ParsedRequest r = new ParsedRequest(NONE, new int[0], 0, status, reason);
        r.method = HttpMethod.GET;
        r.uri = "/";
        r.version = HttpVersion.HTTP_1_1;
        r.result = DecoderResult.failure(new IllegalArgumentException(reason));
        return r;
    }

    private static HttpMethod method(byte[] h, int end) {
        // the usual methods are Netty's constants (compared by identity in the engine); others are made
        if (end == 3 && h[0] == 'G' && h[1] == 'E' && h[2] == 'T') {
            return HttpMethod.GET;
        }
        return HttpMethod.valueOf(new String(h, 0, end, StandardCharsets.US_ASCII));
    }

    @Override
    public HttpMethod method() {
        return method;
    }

    @Override
    @Deprecated
    public HttpMethod getMethod() {
        return method;
    }

    @Override
    public HttpRequest setMethod(HttpMethod method) {
        this.method = method;
        return this;
    }

    @Override
    public String uri() {
        return uri;
    }

    @Override
    @Deprecated
    public String getUri() {
        return uri;
    }

    @Override
    public HttpRequest setUri(String uri) {
        this.uri = uri;
        return this;
    }

    @Override
    public HttpRequest setProtocolVersion(HttpVersion version) {
        this.version = version;
        return this;
    }

    @Override
    public String toString() {
        return method + " " + uri + " " + version;
    }
}
