package io.lbkit.netty;

import io.lbkit.proxy.engine.ClientRequest;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A message head parsed in place ({@link HeadParser}): its bytes and where each field's name and
 * value lie. Fields are read from the bytes; the Netty header container {@link #headers()}
 * returns is made only when something asks for it (off the proxying path).
 */
abstract class ParsedHead {

    static final byte[] NONE = new byte[0];

    byte[] head;
    HttpVersion version;
    DecoderResult result = DecoderResult.SUCCESS;
    private int[] index;
    private int fields;
    private HttpHeaders headers;

    ParsedHead(byte[] head, int[] index, int fields) {
        this.head = head;
        this.index = index;
        this.fields = fields;
    }

    /** The version of the start line (HTTP/1.0, or HTTP/1.1 for 1.1 and above). */
    public HttpVersion protocolVersion() {
        return version;
    }

    /** @deprecated {@link #protocolVersion()} */
    @Deprecated
    public HttpVersion getProtocolVersion() {
        return version;
    }

    /** Whether the head was refused, and why. */
    public DecoderResult decoderResult() {
        return result;
    }

    /** @deprecated {@link #decoderResult()} */
    @Deprecated
    public DecoderResult getDecoderResult() {
        return result;
    }

    public void setDecoderResult(DecoderResult result) {
        this.result = result;
    }

    /** Makes this the head {@code p} just parsed, in the parser's own arrays (valid until its next parse). */
    void borrow(HeadParser p) {
        head = p.bytes();
        index = p.indexArray();
        fields = p.fieldCount();
        headers = null;
    }

    /** The field offsets of the head {@code p} just parsed, copied out of the parser. */
    static int[] index(HeadParser p) {
        int n = p.fieldCount();
        int[] idx = new int[4 * n];
        for (int i = 0; i < n; i++) {
            idx[4 * i] = p.nameStart(i);
            idx[4 * i + 1] = p.nameEnd(i);
            idx[4 * i + 2] = p.valueStart(i);
            idx[4 * i + 3] = p.valueEnd(i);
        }
        return idx;
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

    /** The fields in a Netty header container, made on the first call (not on the proxying path). */
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


    /** A Content-Length value's number, or -1 when it is not one. */
    static long number(byte[] h, int from, int to) {
        if (from == to || to - from > 18) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = h[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    /** Whether the comma-separated list in {@code h[from, to)} has {@code token} (any case). */
    static boolean hasToken(byte[] h, int from, int to, String token) {
        int i = from;
        while (i < to) {
            while (i < to && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) {
                i++;
            }
            int start = i;
            while (i < to && h[i] != ',') {
                i++;
            }
            int end = i;
            while (end > start && (h[end - 1] == ' ' || h[end - 1] == '\t')) {
                end--;
            }
            if (end - start == token.length() && token.equalsIgnoreCase(
                    new String(h, start, end - start, StandardCharsets.ISO_8859_1))) {
                return true;
            }
        }
        return false;
    }

    /** Whether the last item of the comma-separated list in {@code h[from, to)} is {@code token} (any case). */
    static boolean lastTokenIs(byte[] h, int from, int to, String token) {
        int end = to;
        int start = end;
        while (start > from && h[start - 1] != ',') {
            start--;
        }
        while (start < end && (h[start] == ' ' || h[start] == '\t')) {
            start++;
        }
        while (end > start && (h[end - 1] == ' ' || h[end - 1] == '\t')) {
            end--;
        }
        return end - start == token.length()
                && token.equalsIgnoreCase(new String(h, start, end - start, StandardCharsets.ISO_8859_1));
    }

}
