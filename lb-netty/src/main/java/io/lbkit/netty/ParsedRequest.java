package io.lbkit.netty;

import io.lbkit.proxy.engine.ClientRequest;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
final class ParsedRequest implements HttpRequest {

    private static final byte[] NONE = new byte[0];

    private final byte[] head;
    private final int[] index;
    private final int fields;
    private HttpMethod method;
    private String uri;
    private HttpVersion version;
    private HttpHeaders headers;
    private DecoderResult result = DecoderResult.SUCCESS;
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
        this.head = head;
        this.index = index;
        this.fields = fields;
        this.refusal = refusal;
        this.reason = reason;
    }

    /** The head {@code p} just parsed, copied out of the parser. */
    static ParsedRequest of(HeadParser p, int headLength) {
        byte[] h = Arrays.copyOf(p.bytes(), headLength);
        int n = p.fieldCount();
        int[] idx = new int[4 * n];
        for (int i = 0; i < n; i++) {
            idx[4 * i] = p.nameStart(i);
            idx[4 * i + 1] = p.nameEnd(i);
            idx[4 * i + 2] = p.valueStart(i);
            idx[4 * i + 3] = p.valueEnd(i);
        }
        ParsedRequest r = new ParsedRequest(h, idx, n, 0, null);
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

    int fieldCount() {
        return fields;
    }

    byte[] bytes() {
        return head;
    }

    int nameStart(int i) {
        return index[4 * i];
    }

    int nameEnd(int i) {
        return index[4 * i + 1];
    }

    int valueStart(int i) {
        return index[4 * i + 2];
    }

    int valueEnd(int i) {
        return index[4 * i + 3];
    }

    /** Whether field {@code i}'s name is {@code name} (ASCII, any case). */
    boolean nameIs(int i, CharSequence name) {
        int from = index[4 * i];
        int n = index[4 * i + 1] - from;
        if (n != name.length()) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            int a = head[from + k];
            int b = name.charAt(k);
            if (a != b) {
                int la = a | 0x20;
                if (la != (b | 0x20) || la < 'a' || la > 'z') {
                    return false; // the case bit makes two bytes the same only for letters
                }
            }
        }
        return true;
    }

    /** Field {@code i}'s value as a string. */
    String value(int i) {
        return new String(head, index[4 * i + 2], index[4 * i + 3] - index[4 * i + 2], StandardCharsets.ISO_8859_1);
    }

    /** The first value of {@code name}, or null. */
    String header(CharSequence name) {
        for (int i = 0; i < fields; i++) {
            if (nameIs(i, name)) {
                return value(i);
            }
        }
        return null;
    }

    /** Every value of {@code name}, in order. */
    List<String> all(CharSequence name) {
        List<String> out = null;
        for (int i = 0; i < fields; i++) {
            if (nameIs(i, name)) {
                if (out == null) {
                    out = new ArrayList<>(2);
                }
                out.add(value(i));
            }
        }
        return out == null ? List.of() : out;
    }

    /** Visits each field with two reused views over its name and value. */
    void forEachField(ClientRequest.FieldVisitor visitor) {
        ByteChars name = new ByteChars();
        ByteChars value = new ByteChars();
        for (int i = 0; i < fields; i++) {
            int k = 4 * i;
            visitor.field(name.set(head, index[k], index[k + 1]), value.set(head, index[k + 2], index[k + 3]));
        }
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
    public HttpVersion protocolVersion() {
        return version;
    }

    @Override
    @Deprecated
    public HttpVersion getProtocolVersion() {
        return version;
    }

    @Override
    public HttpRequest setProtocolVersion(HttpVersion version) {
        this.version = version;
        return this;
    }

    /** The fields in a Netty header container, made on the first call (not on the proxying path). */
    @Override
    public HttpHeaders headers() {
        HttpHeaders h = headers;
        if (h == null) {
            h = Fields.HEADERS.newHeaders();
            for (int i = 0; i < fields; i++) {
                int k = 4 * i;
                h.add(new String(head, index[k], index[k + 1] - index[k], StandardCharsets.ISO_8859_1), value(i));
            }
            headers = h;
        }
        return h;
    }

    @Override
    public DecoderResult decoderResult() {
        return result;
    }

    @Override
    @Deprecated
    public DecoderResult getDecoderResult() {
        return result;
    }

    @Override
    public void setDecoderResult(DecoderResult result) {
        this.result = result;
    }

    @Override
    public String toString() {
        return method + " " + uri + " " + version;
    }
}
