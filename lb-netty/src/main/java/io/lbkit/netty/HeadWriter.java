package io.lbkit.netty;

import io.lbkit.proxy.engine.ResponseHeaderSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A message head written straight into a buffer: the start line, then each field as
 * {@code name: value CRLF} in the order the rules give them, then the blank line
 * ({@link #finish()}). It is the sink the rules write a client response's fields into, so there
 * is no header container between the backend's head and the client's bytes. Names and values are
 * written one byte per character (ISO-8859-1, as they were received).
 *
 * <p>{@link #set}, {@link #values} and {@link #remove} read back the fields written so far (a rule
 * that replaces a field, session forwarding reading its cookie): a scan of the buffer, done only
 * when a rule asks.
 */
final class HeadWriter implements ResponseHeaderSink {

    private static final byte[] HTTP_11 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
    private static final int CRLF = ('\r' << 8) | '\n';

    private ByteBuf buf;
    private int fieldsStart;
    // where each field line starts and the length of its name: set/remove/values compare names
    // only where the length matches, without scanning the bytes for line ends
    private int count;
    private int[] starts = new int[24];
    private int[] nameLengths = new int[24];

    private void mark(int start, int nameLength) {
        if (count == starts.length) {
            starts = java.util.Arrays.copyOf(starts, count * 2);
            nameLengths = java.util.Arrays.copyOf(nameLengths, count * 2);
        }
        starts[count] = start;
        nameLengths[count++] = nameLength;
    }

    private HeadWriter(ByteBuf buf) {
        this.buf = buf;
    }

    /** A head that starts with the status line {@code HTTP/1.1 code reason}. */
    static HeadWriter response(ByteBufAllocator alloc, int code, CharSequence reason) {
        HeadWriter w = new HeadWriter(alloc.buffer(512));
        ByteBuf b = w.buf;
        b.writeBytes(HTTP_11);
        b.writeByte('0' + code / 100).writeByte('0' + code / 10 % 10).writeByte('0' + code % 10).writeByte(' ');
        write(b, reason);
        b.writeShort(CRLF);
        w.fieldsStart = b.writerIndex();
        return w;
    }

    /** A head that starts with the request line {@code method target HTTP/1.1} (the target's chars as bytes). */
    static HeadWriter request(ByteBufAllocator alloc, HttpMethod method, String target) {
        HeadWriter w = new HeadWriter(alloc.buffer(512));
        ByteBuf b = w.buf;
        ByteBufUtil.copy(method.asciiName(), b);
        b.writeByte(' ');
        b.writeCharSequence(target, StandardCharsets.ISO_8859_1); // one byte per char, as received
        b.writeByte(' ');
        b.writeBytes(HTTP_11, 0, HTTP_11.length - 1);
        b.writeShort(CRLF);
        w.fieldsStart = b.writerIndex();
        return w;
    }

    /** Fields only, no start line: the part of a request head that is the same for each attempt ({@link #fieldsOf}). */
    static HeadWriter fields(ByteBufAllocator alloc) {
        return new HeadWriter(alloc.buffer(512));
    }

    /** Appends the fields written into {@code block} so far (it stays as it is). */
    void fieldsOf(HeadWriter block) {
        ByteBuf from = block.buf;
        int shift = buf.writerIndex() - block.fieldsStart;
        buf.writeBytes(from, block.fieldsStart, from.writerIndex() - block.fieldsStart);
        for (int i = 0; i < block.count; i++) {
            mark(block.starts[i] + shift, block.nameLengths[i]);
        }
    }

    private static void write(ByteBuf b, CharSequence s) {
        if (s instanceof ByteChars c) {
            b.writeBytes(c.bytes, c.offset, c.length); // a parsed head's bytes, as they came
        } else if (s instanceof AsciiString a) {
            ByteBufUtil.copy(a, b);
        } else {
            b.writeCharSequence(s, StandardCharsets.ISO_8859_1);
        }
    }

    /** Appends a field. */
    void field(CharSequence name, CharSequence value) {
        ByteBuf b = buf;
        mark(b.writerIndex(), name.length());
        write(b, name);
        b.writeByte(':').writeByte(' ');
        write(b, value);
        b.writeShort(CRLF);
    }

    /** Appends a field whose name and value lie in {@code src}. */
    void field(byte[] src, int nameStart, int nameEnd, int valueStart, int valueEnd) {
        ByteBuf b = buf;
        mark(b.writerIndex(), nameEnd - nameStart);
        b.writeBytes(src, nameStart, nameEnd - nameStart);
        b.writeByte(':').writeByte(' ');
        b.writeBytes(src, valueStart, valueEnd - valueStart);
        b.writeShort(CRLF);
    }

    /** Appends a field whose value is a number. */
    void field(CharSequence name, long value) {
        ByteBuf b = buf;
        mark(b.writerIndex(), name.length());
        write(b, name);
        b.writeByte(':').writeByte(' ');
        if (value >= 0 && value < 10) {
            b.writeByte('0' + (int) value);
        } else {
            b.writeCharSequence(Long.toString(value), StandardCharsets.US_ASCII);
        }
        b.writeShort(CRLF);
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
        ByteBuf b = buf;
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name)) {
                int value = starts[i] + nameLengths[i] + 2;
                int end = i + 1 < count ? starts[i + 1] : b.writerIndex();
                out.add(b.toString(value, end - 2 - value, StandardCharsets.ISO_8859_1));
            }
        }
        return out;
    }

    @Override
    public void remove(String name) {
        remove((CharSequence) name);
    }

    void remove(CharSequence name) {
        ByteBuf b = buf;
        for (int i = 0; i < count; ) {
            if (!nameIs(i, name)) {
                i++;
                continue;
            }
            int at = starts[i];
            int next = i + 1 < count ? starts[i + 1] : b.writerIndex();
            int tail = b.writerIndex() - next;
            if (tail > 0) {
                byte[] rest = new byte[tail];
                b.getBytes(next, rest);
                b.setBytes(at, rest);
            }
            b.writerIndex(at + tail);
            int gone = next - at;
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
        ByteBuf b = buf;
        int from = starts[field];
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            int x = b.getByte(from + i) & 0xff;
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

    /** Ends the head with its blank line and hands the buffer over (the caller writes or releases it). */
    ByteBuf finish() {
        ByteBuf b = buf;
        buf = null;
        b.writeShort(CRLF);
        return b;
    }

    /** Releases the head unwritten (the exchange ended while it was held). */
    void release() {
        if (buf != null) {
            buf.release();
            buf = null;
        }
    }
}
