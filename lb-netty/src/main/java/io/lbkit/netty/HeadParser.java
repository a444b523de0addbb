package io.lbkit.netty;

import io.netty.buffer.ByteBuf;

/**
 * An HTTP/1.1 request head parsed in place (RFC 9112 §2–§5): the parser records where the method,
 * the target, the version and each field's name and value lie in the head's bytes, as offsets
 * from its first byte, and makes no object per field. One parser per connection, reused for each
 * request ({@link #reset()}); the field index grows to the largest head seen and is kept.
 *
 * <p>Once the blank line is found, the head's bytes are copied once into the parser's own array
 * ({@link #bytes()}) and parsed from there: a copy of a few hundred bytes costs less than reading
 * a direct buffer byte by byte, and the head stays readable after the buffer moves on.
 *
 * <p>{@link #parse(ByteBuf)} looks at the bytes from the buffer's reader index without moving it
 * and answers {@link #NEED_MORE} until the head's blank line has arrived (the search resumes where
 * it stopped, so a head that comes a byte at a time is scanned once), then the head's length in
 * bytes (the body, if any, starts there), or a negative HTTP status when the head is refused:
 * <ul>
 *   <li>{@code -414}: the request line is longer than {@code maxLine} (known before the head ends);</li>
 *   <li>{@code -431}: the head is longer than {@code maxHead}, or has more than {@code maxFields} fields;</li>
 *   <li>{@code -505}: a version with a major number above 1 ({@code HTTP/2.0} on this port), as nginx;</li>
 *   <li>{@code -400}: anything else that is not a request head: a method that is not a token, a
 *       target with a control byte or a space, a malformed version or none (HTTP/0.9), a field
 *       name that is not a token or is followed by whitespace before the colon, a field line
 *       folded onto the previous one (obs-fold), a control byte other than tab in a value, a bare
 *       CR. {@link #reason()} says which, in a fixed text.</li>
 * </ul>
 * Lines end with CRLF or a bare LF (RFC 9112 §2.2 allows recipients to accept LF, and nginx does);
 * empty lines (and stray CRs, as nginx) before the request line are skipped, as §2.2 recommends; runs of spaces between the
 * request line's parts are accepted. A version {@code HTTP/1.x} with x above 1 is HTTP/1.1 (RFC
 * 9110 §2.5). Values are trimmed of leading and trailing spaces and tabs. What the fields mean
 * (Host, Content-Length, Transfer-Encoding) is for lb-proxy's admission, not for the parser.
 */
final class HeadParser {

    /** {@link #parse} answer: the head is not complete yet. */
    static final int NEED_MORE = 0;

    private static final boolean[] TCHAR = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (int c = 'A'; c <= 'Z'; c++) {
            TCHAR[c] = true;
            TCHAR[c + 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private final int maxLine;
    private final int maxHead;
    private final int maxFields;
    private final boolean response;

    // the end search, resumable
    private int skipped;      // empty lines skipped before the request line
    private int scanned;      // bytes of the head (after skipped) searched for its end so far
    private int lineEnd = -1; // where the request line's LF is, once found

    // the result, offsets from the head's first byte (after the skipped empty lines)
    private int methodEnd;
    private int targetStart;
    private int targetEnd;
    private int version;      // 10 or 11
    private int status;       // a response's status code
    private int fields;
    private int[] index = new int[4 * 16]; // per field: name start, name end, value start, value end
    private byte[] head = new byte[1024];  // the last complete head's bytes; grows to the largest
    private String reason;

    HeadParser(int maxLine, int maxHead, int maxFields) {
        this(maxLine, maxHead, maxFields, false);
    }

    private HeadParser(int maxLine, int maxHead, int maxFields, boolean response) {
        this.maxLine = maxLine;
        this.maxHead = maxHead;
        this.maxFields = maxFields;
        this.response = response;
    }

    /**
     * A parser of a backend's response heads: a status line ({@code HTTP/1.x SP 3DIGIT [SP
     * reason]}) instead of a request line, the same fields. Every refusal is {@code -502}, an
     * invalid response (nginx: "upstream sent invalid header", or "too big header" past
     * {@code maxHead}); {@link #status()} is the status code.
     */
    static HeadParser forResponses(int maxHead, int maxFields) {
        return new HeadParser(maxHead, maxHead, maxFields, true);
    }

    /** Forgets the last head: the next {@link #parse} starts a new one. */
    void reset() {
        skipped = 0;
        scanned = 0;
        lineEnd = -1;
        fields = 0;
        reason = null;
    }

    /**
     * Parses the head at {@code buf}'s reader index: {@link #NEED_MORE}, the number of bytes the
     * head takes from the reader index (empty lines before it included), or a negative status.
     */
    int parse(ByteBuf buf) {
        int base = buf.readerIndex();
        int end = buf.writerIndex();
        while (scanned == 0 && base + skipped < end) { // empty lines before the request line
            byte b = buf.getByte(base + skipped);
            if (b == '\n') {
                skipped++;
            } else if (b == '\r') {
                skipped++; // nginx skips any CR and LF before the request line
            } else {
                break;
            }
            if (skipped > maxLine) {
                return refuse(400, "too many empty lines before the request line");
            }
        }
        int start = base + skipped;
        int available = end - start;
        // find the blank line: a LF followed by LF, or by CR LF (Netty's LF search reads 8 bytes at a time)
        int i = scanned;
        int headLength = -1;
        while (i < available) {
            int lf = buf.indexOf(start + i, end, (byte) '\n');
            if (lf < 0) {
                i = available;
                break;
            }
            i = lf - start;
            if (lineEnd < 0) {
                lineEnd = i;
            }
            if (i + 1 >= available) {
                break;
            }
            byte next = buf.getByte(lf + 1);
            if (next == '\n') {
                headLength = i + 2;
                break;
            }
            if (next == '\r') {
                if (i + 2 >= available) {
                    break;
                }
                if (buf.getByte(lf + 2) == '\n') {
                    headLength = i + 3;
                    break;
                }
            }
            i++;
        }
        scanned = i;
        if (lineEnd < 0 && Math.min(available, i) > maxLine) {
            return refuse(414, "the request line is too long");
        }
        if (headLength < 0) {
            if (available > maxHead) {
                return refuse(lineEnd > maxLine ? 414 : 431, "the request head is too large");
            }
            return NEED_MORE;
        }
        if (lineEnd > maxLine) {
            return refuse(414, "the request line is too long");
        }
        if (headLength > maxHead) {
            return refuse(431, "the request head is too large");
        }
        if (head.length < headLength) {
            head = new byte[Math.max(headLength, 2 * head.length)];
        }
        buf.getBytes(start, head, 0, headLength); // one copy; parsed from the array
        int status = parseHead(head);
        return status != 0 ? status : skipped + headLength;
    }

    private int parseHead(byte[] h) {
        int first = response ? statusLine(h) : requestLine(h);
        if (first != 0) {
            return first;
        }
        return fields(h);
    }

    /** HTTP-version SP+ 3DIGIT [SP reason-phrase]: a reason of visible bytes, spaces and tabs. */
    private int statusLine(byte[] h) {
        int versionEnd = 0;
        while (versionEnd < lineEnd && h[versionEnd] != ' ') {
            versionEnd++;
        }
        int v = version(h, 0, versionEnd);
        if (v < 0) {
            return v;
        }
        version = v;
        int p = versionEnd;
        while (p < lineEnd && h[p] == ' ') {
            p++;
        }
        int end = lineEnd > 0 && h[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
        if (end - p < 3 || !isDigit(h[p]) || !isDigit(h[p + 1]) || !isDigit(h[p + 2])
                || end - p > 3 && h[p + 3] != ' ') {
            return refuse(400, "a malformed status code");
        }
        status = (h[p] - '0') * 100 + (h[p + 1] - '0') * 10 + (h[p + 2] - '0');
        if (status < 100) {
            return refuse(400, "a malformed status code");
        }
        targetStart = Math.min(p + 4, end); // a response's reason phrase, where a request has its target
        targetEnd = end;
        for (int i = p + 3; i < end; i++) {
            int c = h[i] & 0xff;
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return refuse(400, "a control byte in the reason phrase");
            }
        }
        return 0;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private int requestLine(byte[] h) {
        // request line: method SP+ target SP+ version
        int p = 0;
        while (p < lineEnd && TCHAR[h[p] & 0xff]) {
            p++;
        }
        if (p == 0 || p >= lineEnd || h[p] != ' ') {
            return refuse(400, "the method is not a token");
        }
        methodEnd = p;
        while (p < lineEnd && h[p] == ' ') {
            p++;
        }
        targetStart = p;
        while (p < lineEnd) {
            int c = h[p] & 0xff;
            if (c == ' ') {
                break;
            }
            if (c < 0x21 || c == 0x7f) {
                if (c == '\r' && p == lineEnd - 1) {
                    break; // HTTP/0.9: no version
                }
                return refuse(400, "a control byte in the request target");
            }
            p++;
        }
        targetEnd = p;
        if (targetEnd == targetStart) {
            return refuse(400, "no request target");
        }
        while (p < lineEnd && h[p] == ' ') {
            p++;
        }
        int versionEnd = lineEnd > 0 && h[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
        int v = version(h, p, versionEnd - p);
        if (v < 0) {
            return v;
        }
        version = v;
        return 0;
    }

    private int fields(byte[] h) {
        fields = 0;
        int line = lineEnd + 1;
        while (true) {
            int eol = line;
            while (h[eol] != '\n') {
                eol++;
            }
            int contentEnd = eol > line && h[eol - 1] == '\r' ? eol - 1 : eol;
            if (contentEnd == line) {
                return 0; // the blank line
            }
            int status = field(h, line, contentEnd);
            if (status != 0) {
                return status;
            }
            line = eol + 1;
        }
    }

    /** HTTP/1.0 → 10, HTTP/1.1 (or 1.x, x > 1) → 11, another major → -505, anything else → -400. */
    private int version(byte[] h, int at, int length) {
        if (length != 8 || h[at] != 'H' || h[at + 1] != 'T' || h[at + 2] != 'T'
                || h[at + 3] != 'P' || h[at + 4] != '/' || h[at + 6] != '.') {
            return refuse(400, length == 0 ? "no HTTP version (HTTP/0.9)" : "a malformed HTTP version");
        }
        int major = h[at + 5] - '0';
        int minor = h[at + 7] - '0';
        if (major < 0 || major > 9 || minor < 0 || minor > 9) {
            return refuse(400, "a malformed HTTP version");
        }
        if (major == 0) {
            return refuse(400, "HTTP/0.x"); // nginx: 400; a later major is 505
        }
        if (major != 1) {
            return refuse(505, "an HTTP version other than 1.x");
        }
        return minor == 0 ? 10 : 11;
    }

    private int field(byte[] h, int from, int to) {
        int c0 = h[from] & 0xff;
        if (c0 == ' ' || c0 == '\t') {
            return refuse(400, "a folded field line (obs-fold)");
        }
        int p = from;
        while (p < to && TCHAR[h[p] & 0xff]) {
            p++;
        }
        if (p == from || p >= to || h[p] != ':') {
            int q = p;
            while (q < to && isOws(h[q])) {
                q++;
            }
            return refuse(400, p > from && q > p && q < to && h[q] == ':'
                    ? "whitespace between a field name and its colon" : "a field name that is not a token");
        }
        int nameEnd = p;
        p++;
        while (p < to && isOws(h[p])) {
            p++;
        }
        int valueStart = p;
        int valueEnd = p;
        while (p < to) {
            int c = h[p] & 0xff;
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return refuse(400, c == '\r' ? "a bare CR" : "a control byte in a field value");
            }
            p++;
            if (c != ' ' && c != '\t') {
                valueEnd = p;
            }
        }
        if (fields == maxFields) {
            return refuse(431, "too many header fields");
        }
        int k = 4 * fields;
        if (k + 4 > index.length) {
            index = java.util.Arrays.copyOf(index, index.length * 2);
        }
        index[k] = from;
        index[k + 1] = nameEnd;
        index[k + 2] = valueStart;
        index[k + 3] = valueEnd;
        fields++;
        return 0;
    }

    /** Whether {@code b} may be in a token (a method, a field name; RFC 9110 §5.6.2). */
    static boolean isTokenChar(byte b) {
        return TCHAR[b & 0xff];
    }

    private static boolean isOws(byte b) {
        return b == ' ' || b == '\t';
    }

    private int refuse(int status, String why) {
        reason = why;
        return response ? -502 : -status;
    }

    /** Why the last head was refused, a fixed text; null when it was not. */
    String reason() {
        return reason;
    }

    /** The last complete head's bytes, from index 0 (what the offsets index); valid until the next head. */
    /** The field index: per field its name's start and end and its value's start and end (reused by the next parse). */
    int[] indexArray() {
        return index;
    }

    byte[] bytes() {
        return head;
    }

    /** Empty lines skipped before the request line: the head's first byte is at reader index + this. */
    int skipped() {
        return skipped;
    }

    int methodEnd() {
        return methodEnd;
    }

    int targetStart() {
        return targetStart;
    }

    int targetEnd() {
        return targetEnd;
    }

    /** A response's status code. */
    int status() {
        return status;
    }

    /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
    int version() {
        return version;
    }

    int fieldCount() {
        return fields;
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
}
