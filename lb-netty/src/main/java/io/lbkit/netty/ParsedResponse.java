package io.lbkit.netty;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A backend's response head as {@link BackendDecoder} parsed it: its bytes, the offsets of each
 * field, and what framing and the engine need worked out once (the body's length, chunked,
 * keep-alive). An invalid head is one too, with a failed {@link #decoderResult()}.
 */
final class ParsedResponse extends ParsedHead implements HttpResponse {

    private HttpResponseStatus status;
    /** The declared body length, or -1 when none is declared. */
    long contentLength = -1;
    /** Whether the body is chunked (Transfer-Encoding's last coding). */
    boolean chunked;
    /** Whether the connection may carry another request (its version, Connection, the framing). */
    boolean keepAlive;
    /** Whether the head has a Connection field (its tokens name fields not to copy). */
    boolean hasConnection;

    private ParsedResponse(byte[] head, int[] index, int fields) {
        super(head, index, fields);
    }

    /** The head {@code p} just parsed, copied out of the parser. */
    static ParsedResponse of(HeadParser p, int headLength) {
        byte[] h = Arrays.copyOf(p.bytes(), headLength);
        return new ParsedResponse(h, index(p), p.fieldCount()).read(p);
    }

    /**
     * A decoder's reused response made the head {@code p} just parsed, in the parser's arrays: a
     * backend connection's messages are handled as they are decoded, one response at a time, so a
     * head is done with before the next is parsed and nothing is copied.
     */
    static ParsedResponse reuse(ParsedResponse r, HeadParser p) {
        if (r == null) {
            r = new ParsedResponse(p.bytes(), p.indexArray(), p.fieldCount());
        } else {
            r.borrow(p);
        }
        r.result = DecoderResult.SUCCESS;
        r.contentLength = -1;
        r.chunked = false;
        r.keepAlive = false;
        r.hasConnection = false;
        return r.read(p);
    }

    private ParsedResponse read(HeadParser p) {
        ParsedResponse r = this;
        byte[] h = p.bytes();
        r.version = p.version() == 10 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
        int code = p.status();
        HttpResponseStatus known = HttpResponseStatus.valueOf(code);
        int from = p.targetStart();
        int to = p.targetEnd();
        r.status = sameReason(known.reasonPhrase(), h, from, to) ? known
                : new HttpResponseStatus(code, new String(h, from, to - from, StandardCharsets.ISO_8859_1));
        return r;
    }

    /** A head that is not a valid response. */
    static ParsedResponse invalid(String why) {
        ParsedResponse r = new ParsedResponse(NONE, new int[0], 0);
        r.version = HttpVersion.HTTP_1_1;
        r.status = HttpResponseStatus.BAD_GATEWAY;
        r.result = DecoderResult.failure(new IllegalArgumentException(why));
        return r;
    }

    private static boolean sameReason(String reason, byte[] h, int from, int to) {
        if (reason.length() != to - from) {
            return false;
        }
        for (int i = 0; i < reason.length(); i++) {
            if (reason.charAt(i) != (h[from + i] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public HttpResponseStatus status() {
        return status;
    }

    @Override
    @Deprecated
    public HttpResponseStatus getStatus() {
        return status;
    }

    @Override
    public HttpResponse setStatus(HttpResponseStatus status) {
        this.status = status;
        return this;
    }

    @Override
    public HttpResponse setProtocolVersion(HttpVersion version) {
        this.version = version;
        return this;
    }

    @Override
    public String toString() {
        return version + " " + status;
    }
}
