package io.lbkit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import java.util.List;

/**
 * Finds where a chunked body ends (RFC 9112 §7.1) without decoding it: the bytes pass through as
 * they came, chunk sizes, extensions, CRLFs and trailer fields included, and the framer only
 * checks them and tells where the last one is. A proxy that forwards a chunked body chunked needs
 * no more than this: nothing is copied and nothing re-encoded.
 *
 * <p>{@link #frame(ByteBuf)} reads from the buffer's reader index without moving it and answers
 * how many of the readable bytes belong to the body: all of them while it goes on, fewer when the
 * body ends inside the buffer (what follows is the next request, pipelined), and {@link #done()}
 * is then true. A malformed body answers {@code -400} with {@link #reason()}: a chunk size that is
 * not hexadecimal or overflows, a chunk's data not followed by CRLF, an extension or a trailer
 * section longer than its limit, a trailer line that is not a field. Line ends may be CRLF or a
 * bare LF, as the head's; a bare CR is refused.
 *
 * <p>{@link #dataBytes()} counts the chunks' data (the body's decoded length), for
 * {@code client_max_body_size} and the access log. One framer per connection, {@link #reset()}
 * for each body.
 */
final class ChunkedFramer {

    private enum State { SIZE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER, TRAILER_LF, LAST_LF, DONE }

    private static final long MAX_SIZE = Long.MAX_VALUE >> 4; // one more hex digit would overflow

    private final int maxExtension;
    private final int maxTrailers;

    private State state = State.SIZE;
    private long size;         // the chunk size being read, then the data still to come
    private int sizeDigits;
    private int lineBytes;     // bytes of the current extension or trailer line
    private int trailerBytes;  // bytes of the trailer section so far
    private boolean trailerName; // still in the trailer line's name (no colon seen yet)
    private long data;
    private String reason;
    private byte[] trailerText;  // the trailer section's bytes, kept only while decoding (a Data receiver)
    private int trailerLength;
    private ByteBuf decoding;              // decode(): the buffer whose data runs are passed on
    private List<Object> pieces;                  // decode(): where they go
    private final Data toPieces = (index, length) ->
            pieces.add(new DefaultHttpContent(decoding.retainedSlice(index, length)));

    /**
     * Decodes what {@code buf} holds of the body for a decoder: each run of chunk data as a piece
     * (a retained slice) into {@code out}, then, when the body ends, a last piece with the trailer
     * fields; the framed bytes are consumed. Answers 1 when the body ended, 0 when more is to come,
     * -1 when it is malformed (then a failed last piece is in {@code out} and nothing is consumed).
     */
    int decode(ByteBuf buf, List<Object> out) {
        decoding = buf;
        pieces = out;
        int n;
        try {
            n = frame(buf, toPieces);
        } finally {
            decoding = null;
            pieces = null;
        }
        if (n < 0) {
            DefaultLastHttpContent bad = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, false);
            bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(reason)));
            out.add(bad);
            return -1;
        }
        buf.skipBytes(n);
        if (!done()) {
            return 0;
        }
        DefaultLastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, false);
        trailers(last.trailingHeaders());
        out.add(last);
        return 1;
    }

    /**
     * The next piece of a Content-Length body for a decoder (the other framing its decoders share):
     * what {@code buf} holds of the {@code left} bytes still to come, as a retained slice into
     * {@code out}, the last one as a last piece (with no trailer container). Returns the bytes
     * still to come after it.
     */
    static long lengthPiece(ByteBuf buf, long left, List<Object> out) {
        int take = (int) Math.min(left, buf.readableBytes());
        if (take == 0) {
            return left;
        }
        ByteBuf piece = buf.readRetainedSlice(take);
        if (left == take) {
            out.add(new DefaultLastHttpContent(piece, EmptyHttpHeaders.INSTANCE));
        } else {
            out.add(new DefaultHttpContent(piece));
        }
        return left - take;
    }

    /** Receives where a chunk's data lies in the buffer being framed (a decoder passes it on as it is). */
    interface Data {
        void data(int index, int length);
    }

    ChunkedFramer(int maxExtension, int maxTrailers) {
        this.maxExtension = maxExtension;
        this.maxTrailers = maxTrailers;
    }

    /** Starts a new body. */
    void reset() {
        state = State.SIZE;
        size = 0;
        sizeDigits = 0;
        lineBytes = 0;
        trailerBytes = 0;
        data = 0;
        reason = null;
        trailerLength = 0;
    }

    /** Whether the body's last byte has been framed. */
    boolean done() {
        return state == State.DONE;
    }

    /** The chunks' data bytes so far: the decoded body's length. */
    long dataBytes() {
        return data;
    }

    /** Why the body was refused, a fixed text; null when it was not. */
    String reason() {
        return reason;
    }

    /** How many readable bytes of {@code buf} belong to the body (see the class), or {@code -400}. */
    int frame(ByteBuf buf) {
        return frame(buf, null);
    }

    /**
     * {@link #frame(ByteBuf)}, telling {@code receiver} (when not null) where each run of chunk
     * data lies and keeping the trailer section for {@link #trailers}.
     */
    int frame(ByteBuf buf, Data receiver) {
        int from = buf.readerIndex();
        int end = buf.writerIndex();
        int i = from;
        while (i < end && state != State.DONE) {
            if (state == State.DATA) {
                int take = (int) Math.min(size, end - i);
                if (receiver != null && take > 0) {
                    receiver.data(i, take);
                }
                i += take;
                size -= take;
                data += take;
                if (size == 0) {
                    state = State.DATA_CR;
                }
                continue;
            }
            byte b = buf.getByte(i++);
            if (receiver != null && (state == State.TRAILER || state == State.TRAILER_LF
                    || state == State.TRAILER_START && b != '\r' && b != '\n')) {
                keepTrailerByte(b);
            }
            switch (state) {
                case SIZE -> {
                    int d = hex(b);
                    if (d >= 0) {
                        if (size > MAX_SIZE) {
                            return refuse("a chunk size that overflows");
                        }
                        size = size << 4 | d;
                        sizeDigits++;
                    } else if (sizeDigits == 0) {
                        return refuse("a chunk size that is not hexadecimal");
                    } else if (b == ';' || b == ' ' || b == '\t') {
                        state = State.EXTENSION; // chunk extensions (and whitespace before them, as nginx) are passed on
                        lineBytes = 0;
                    } else if (b == '\r') {
                        state = State.SIZE_LF;
                    } else if (b == '\n') {
                        endOfSize();
                    } else {
                        return refuse("a chunk size that is not hexadecimal");
                    }
                }
                case EXTENSION -> {
                    if (b == '\r') {
                        state = State.SIZE_LF;
                    } else if (b == '\n') {
                        endOfSize();
                    } else if (b < 0x20 && b != '\t' || b == 0x7f) {
                        return refuse("a control byte in a chunk extension");
                    } else if (++lineBytes > maxExtension) {
                        return refuse("a chunk extension that is too long");
                    }
                }
                case SIZE_LF -> {
                    if (b != '\n') {
                        return refuse("a bare CR");
                    }
                    endOfSize();
                }
                case DATA_CR -> {
                    if (b == '\r') {
                        state = State.DATA_LF;
                    } else if (b == '\n') {
                        state = State.SIZE;
                    } else {
                        return refuse("a chunk's data not followed by CRLF");
                    }
                }
                case DATA_LF -> {
                    if (b != '\n') {
                        return refuse("a chunk's data not followed by CRLF");
                    }
                    state = State.SIZE;
                }
                case TRAILER_START -> {
                    if (b == '\r') {
                        state = State.LAST_LF;
                    } else if (b == '\n') {
                        state = State.DONE;
                    } else if (!HeadParser.isTokenChar(b)) {
                        return refuse("a trailer line that is not a field");
                    } else {
                        state = State.TRAILER;
                        trailerName = true;
                        lineBytes = 1;
                        if (++trailerBytes > maxTrailers) {
                            return refuse("trailer fields that are too large");
                        }
                    }
                }
                case TRAILER -> {
                    if (++trailerBytes > maxTrailers) {
                        return refuse("trailer fields that are too large");
                    }
                    if (trailerName) {
                        if (b == ':') {
                            trailerName = false;
                        } else if (!HeadParser.isTokenChar(b)) {
                            return refuse("a trailer line that is not a field");
                        }
                    } else if (b == '\r') {
                        state = State.TRAILER_LF;
                    } else if (b == '\n') {
                        state = State.TRAILER_START;
                    } else if (b < 0x20 && b != '\t' || b == 0x7f) {
                        return refuse("a control byte in a trailer field");
                    }
                }
                case TRAILER_LF -> {
                    if (b != '\n') {
                        return refuse("a bare CR");
                    }
                    state = State.TRAILER_START;
                }
                case LAST_LF -> {
                    if (b != '\n') {
                        return refuse("a bare CR");
                    }
                    state = State.DONE;
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
        return i - from;
    }

    private void keepTrailerByte(byte b) {
        if (trailerText == null) {
            trailerText = new byte[256];
        } else if (trailerLength == trailerText.length) {
            trailerText = java.util.Arrays.copyOf(trailerText, trailerLength * 2);
        }
        trailerText[trailerLength++] = b;
    }

    /** Adds the trailer fields of the body just framed with a receiver (names as sent, values trimmed) to {@code out}. */
    void trailers(io.netty.handler.codec.http.HttpHeaders out) {
        int i = 0;
        while (i < trailerLength) {
            int eol = i;
            while (eol < trailerLength && trailerText[eol] != '\n') {
                eol++;
            }
            int end = eol > i && trailerText[eol - 1] == '\r' ? eol - 1 : eol;
            int colon = i;
            while (colon < end && trailerText[colon] != ':') {
                colon++;
            }
            if (colon < end) {
                int v = colon + 1;
                while (v < end && (trailerText[v] == ' ' || trailerText[v] == '\t')) {
                    v++;
                }
                int ve = end;
                while (ve > v && (trailerText[ve - 1] == ' ' || trailerText[ve - 1] == '\t')) {
                    ve--;
                }
                out.add(new String(trailerText, i, colon - i, java.nio.charset.StandardCharsets.ISO_8859_1),
                        new String(trailerText, v, ve - v, java.nio.charset.StandardCharsets.ISO_8859_1));
            }
            i = eol + 1;
        }
    }

    private void endOfSize() {
        if (size == 0) {
            state = State.TRAILER_START; // the last chunk: trailer fields, then the blank line
        } else {
            state = State.DATA;
        }
        sizeDigits = 0;
    }

    private int refuse(String why) {
        reason = why;
        return -400;
    }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }
}
