package io.lbkit.netty;

import io.netty.handler.codec.http.HttpContent;
import java.util.ArrayDeque;

/**
 * A client response head held back until the session store has saved the backend's
 * {@code X-New-Session-Data} (the head then gets the new session's cookie), with the body pieces
 * that the same backend read decoded after the head. The backend is not read while a head is
 * held, so these are at most one read's worth: back-pressure, not buffering.
 */
final class HeldHead {

    final HeadWriter head;
    final BodyEncoder.Body body;
    private final ArrayDeque<HttpContent> contents = new ArrayDeque<>(2);

    HeldHead(HeadWriter head, BodyEncoder.Body body) {
        this.head = head;
        this.body = body;
    }

    /** Keeps a body piece that came after the head, until {@link #poll} or {@link #release}. */
    void add(HttpContent c) {
        contents.add(c);
    }

    /** The next kept body piece, in order (the caller owns it), or null. */
    HttpContent poll() {
        return contents.poll();
    }

    /** Releases every kept body piece: the exchange ended before the head was written. */
    void release() {
        HttpContent c;
        while ((c = contents.poll()) != null) {
            c.release();
        }
    }
}
