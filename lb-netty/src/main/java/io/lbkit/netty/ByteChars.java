package io.lbkit.netty;

import java.nio.charset.StandardCharsets;

/**
 * A run of bytes read as characters, one per byte (ISO-8859-1), without copying them: a field
 * name or value of a parsed head as the rules compare and copy it. Reused: a visitor that keeps
 * one beyond its call keeps {@link #toString()}.
 */
final class ByteChars implements CharSequence {

    byte[] bytes;
    int offset;
    int length;

    ByteChars set(byte[] bytes, int from, int to) {
        this.bytes = bytes;
        this.offset = from;
        this.length = to - from;
        return this;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public char charAt(int index) {
        return (char) (bytes[offset + index] & 0xff);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return new String(bytes, offset + start, end - start, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }
}
