package io.lbkit.netty;

import io.lbkit.proxy.engine.RequestValues;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;

/**
 * A request body read whole before the endpoint is chosen (a targeted route that reads a form
 * field), then sent to each attempt from memory. Bounded: {@link #add} says when the body passes
 * the limit. Used on one event loop; {@link #release()} frees the bytes once.
 */
final class WholeBody {

    private final CompositeByteBuf bytes;
    private final long limit;
    private final String contentType;
    private boolean done;

    WholeBody(ByteBufAllocator alloc, long limit, String contentType) {
        this.bytes = alloc.compositeBuffer(Integer.MAX_VALUE);
        this.limit = limit;
        this.contentType = contentType;
    }

    /**
     * Keeps the bytes of {@code c} and releases {@code c} (trailers of a chunked body are not
     * kept: the body goes on with a Content-Length).
     *
     * @return false when the body is now longer than the limit (nothing more should be added)
     */
    boolean add(HttpContent c) {
        try {
            if (bytes.readableBytes() + (long) c.content().readableBytes() > limit) {
                return false;
            }
            if (c.content().isReadable()) {
                bytes.addComponent(true, c.content().retain());
            }
            if (c instanceof LastHttpContent) {
                done = true;
            }
            return true;
        } finally {
            c.release();
        }
    }

    /** True once the last content was added. */
    boolean done() {
        return done;
    }

    long limit() {
        return limit;
    }

    int length() {
        return bytes.readableBytes();
    }

    /** The body as the last content of one backend request (a retained view: the write releases it). */
    LastHttpContent forAttempt() {
        return new DefaultLastHttpContent(bytes.retainedDuplicate());
    }

    /** The body as text when it is {@code application/x-www-form-urlencoded} and complete, else null. */
    String formText() {
        if (!done || !RequestValues.isForm(contentType)) {
            return null;
        }
        return bytes.toString(StandardCharsets.ISO_8859_1); // percent-decoding handles UTF-8
    }

    void release() {
        if (bytes.refCnt() > 0) {
            bytes.release();
        }
    }
}
