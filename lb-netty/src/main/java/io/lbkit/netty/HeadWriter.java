package io.lbkit.netty;

import io.lbkit.proxy.engine.ResponseHeaderSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A message head written as bytes: the start line, then each field as {@code name: value CRLF}
 * in the order the rules give them, then the blank line ({@link #finish}, which hands over one
 * buffer). It is the sink the rules write a head's fields into, so there is no header container
 * between the head that came in and the bytes that go out. Names and values are written one byte
 * per character (ISO-8859-1, as they were received). The bytes are gathered in an array and
 * copied into the outgoing buffer once.
 *
 * <p>{@link #set}, {@link #values} and {@link #remove} read back the fields written so far (a rule
 * that replaces a field, session forwarding reading its cookie), through an index of where each
 * field line starts.
 */
final class HeadWriter implements ResponseHeaderSink {

    private static final byte[] HTTP_11 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);

    private final ByteBufAllocator alloc;
    private byte[] a = new byte[512];
    private int len;
    private int fieldsStart;
    // where each field line starts and the length of its name: set/remove/values compare names
    // only where the length matches, without scanning the bytes for line ends
    private int count;
    private int[] starts = new int[24];
    private int[] nameLengths = new int[24];

    /**
     * A writer for heads of buffers from {@code alloc}. One writer serves one head at a time and
     * is reused for the next ({@link #response}, {@link #request}, {@link #fields} start over): a
     * connection keeps its writers, so writing a head allocates only the buffer it is handed in.
     */
    HeadWriter(ByteBufAllocator alloc) {
        this.alloc = alloc;
    }

    private HeadWriter restart() {
        len = 0;
        count = 0;
        fieldsStart = 0;
        return this;
    }

    /** Starts a head with the status line {@code HTTP/1.1 code reason}. */
    HeadWriter response(int code, CharSequence reason) {
        restart();
        bytes(HTTP_11, 0, HTTP_11.length);
        ensure(4);
        a[len++] = (byte) ('0' + code / 100);
        a[len++] = (byte) ('0' + code / 10 % 10);
        a[len++] = (byte) ('0' + code % 10);
        a[len++] = ' ';
        chars(reason);
        crlf();
        fieldsStart = len;
        return this;
    }

    /** Starts a head with the request line {@code method target HTTP/1.1} (the target's chars as bytes). */
    HeadWriter request(HttpMethod method, String target) {
        restart();
        chars(method.asciiName());
        ensure(1);
        a[len++] = ' ';
        chars(target); // one byte per char, as received
        ensure(1);
        a[len++] = ' ';
        bytes(HTTP_11, 0, HTTP_11.length - 1);
        crlf();
        fieldsStart = len;
        return this;
    }

    /** Starts fields only, no start line: the part of a request head that is the same for each attempt ({@link #fieldsOf}). */
    HeadWriter fields() {
        return restart();
    }

    private void ensure(int more) {
        if (len + more > a.length) {
            a = Arrays.copyOf(a, Math.max(len + more, 2 * a.length));
        }
    }

    private void bytes(byte[] src, int from, int n) {
        ensure(n);
        System.arraycopy(src, from, a, len, n);
        len += n;
    }

    @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int) is the copy of low bytes wanted here
    private void chars(CharSequence s) {
        if (s instanceof ByteChars c) {
            bytes(c.bytes, c.offset, c.length); // a parsed head's bytes, as they came
            return;
        }
        if (s instanceof AsciiString x) {
            bytes(x.array(), x.arrayOffset(), x.length());
            return;
        }
        int n = s.length();
        ensure(n);
        if (s instanceof String str) {
            str.getBytes(0, n, a, len); // each char's low byte: ISO-8859-1 for the chars a head has, copied at once
        } else {
            byte[] b = a;
            int at = len;
            for (int i = 0; i < n; i++) {
                b[at + i] = (byte) s.charAt(i);
            }
        }
        len += n;
    }

    private void crlf() {
        ensure(2);
        a[len++] = '\r';
        a[len++] = '\n';
    }

    private void colon() {
        ensure(2);
        a[len++] = ':';
        a[len++] = ' ';
    }

    private void mark(int nameLength) {
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, count * 2);
            nameLengths = Arrays.copyOf(nameLengths, count * 2);
        }
        starts[count] = len;
        nameLengths[count++] = nameLength;
    }

    /** Appends the fields written into {@code block} so far (it stays as it is). */
    void fieldsOf(HeadWriter block) {
        int shift = len - block.fieldsStart;
        bytes(block.a, block.fieldsStart, block.len - block.fieldsStart);
        for (int i = 0; i < block.count; i++) {
            if (count == starts.length) {
                starts = Arrays.copyOf(starts, count * 2);
                nameLengths = Arrays.copyOf(nameLengths, count * 2);
            }
            starts[count] = block.starts[i] + shift;
            nameLengths[count++] = block.nameLengths[i];
        }
    }

    /** Appends a field. */
    void field(CharSequence name, CharSequence value) {
        mark(name.length());
        chars(name);
        colon();
        chars(value);
        crlf();
    }

    /** Appends a field whose name and value lie in {@code src}. */
    void field(byte[] src, int nameStart, int nameEnd, int valueStart, int valueEnd) {
        mark(nameEnd - nameStart);
        bytes(src, nameStart, nameEnd - nameStart);
        colon();
        bytes(src, valueStart, valueEnd - valueStart);
        crlf();
    }

    /** Appends a field whose value is a number. */
    void field(CharSequence name, long value) {
        mark(name.length());
        chars(name);
        colon();
        if (value >= 0 && value < 10) {
            ensure(1);
            a[len++] = (byte) ('0' + value);
        } else {
            chars(Long.toString(value));
        }
        crlf();
    }

    @Override
    public void add(String name, String value) {
        field(name, value);
    }

    @Override
    public void add(CharSequence name, CharSequence value) {
        field(name, value);
    }

    @Override
    public void set(String name, String value) {
        remove(name);
        field(name, value);
    }

    /** {@link #set(String, String)} for names and values of any kind. */
    void set(CharSequence name, CharSequence value) {
        remove(name);
        field(name, value);
    }

    @Override
    public Iterable<String> values(String name) {
        List<String> out = new ArrayList<>(1);
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name)) {
                int value = starts[i] + nameLengths[i] + 2;
                int end = i + 1 < count ? starts[i + 1] : len;
                out.add(new String(a, value, end - 2 - value, StandardCharsets.ISO_8859_1));
            }
        }
        return out;
    }

    @Override
    public void remove(String name) {
        remove((CharSequence) name);
    }

    void remove(CharSequence name) {
        for (int i = 0; i < count; ) {
            if (!nameIs(i, name)) {
                i++;
                continue;
            }
            int at = starts[i];
            int next = i + 1 < count ? starts[i + 1] : len;
            System.arraycopy(a, next, a, at, len - next);
            int gone = next - at;
            len -= gone;
            for (int j = i + 1; j < count; j++) {
                starts[j - 1] = starts[j] - gone;
                nameLengths[j - 1] = nameLengths[j];
            }
            count--;
        }
    }

    private boolean nameIs(int field, CharSequence name) {
        int n = name.length();
        if (nameLengths[field] != n) {
            return false;
        }
        int from = starts[field];
        for (int i = 0; i < n; i++) {
            int x = a[from + i] & 0xff;
            char c = name.charAt(i);
            if (x != c && Character.toLowerCase((char) x) != Character.toLowerCase(c)) {
                return false;
            }
        }
        return true;
    }

    /** Whether a field named {@code name} (any case) was written. */
    boolean has(CharSequence name) {
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name)) {
                return true;
            }
        }
        return false;
    }

    /** Ends the head with its blank line, in one buffer the caller writes (or releases). */
    ByteBuf finish() {
        crlf();
        ByteBuf b = alloc.buffer(len);
        b.writeBytes(a, 0, len);
        return b;
    }
}
