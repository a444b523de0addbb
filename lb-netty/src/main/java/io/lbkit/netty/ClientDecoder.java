package io.lbkit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * The client connection's request decoder and its flow control, in place of Netty's decoder and
 * flow-control handler: it decodes only when the connection asks for a message ({@link #want})
 * and hands over one per ask. Heads are parsed in place by
 * {@link HeadParser} into {@link ParsedRequest}s (no object per field), bodies are framed by
 * their Content-Length or by {@link ChunkedFramer} and passed on as the slices that arrived
 * ({@link io.netty.handler.codec.http.HttpContent}, the last one a {@link LastHttpContent} with
 * the chunked body's trailer fields). Every head is followed by a last content, as Netty's
 * decoder does, so the connection reads the end of a body-less request too.
 *
 * <p>A refused head (400, 414, 431, 505) or body (a malformed chunked body: a last content with a
 * failed result) ends the decoding: what follows is dropped, the connection answers and closes.
 */
final class ClientDecoder extends ChannelInboundHandlerAdapter {

    private enum State { HEAD, LENGTH, CHUNKED, BROKEN }

    private final ClientConnection conn;
    private final long budget;
    private final HeadParser parser;
    private final ChunkedFramer chunks;
    private State state = State.HEAD;
    private long left;                 // a Content-Length body's bytes still to come
    private ChannelHandlerContext ctx;
    private ByteBuf cumulation;        // bytes read, not decoded yet
    private final ArrayList<Object> decoded = new ArrayList<>(4); // decoded, not handed over yet
    private int next;                  // the next of them to hand over
    private boolean wanted;            // the connection asked for a message and has none yet
    private long unclaimed;            // bytes read since the connection last asked

    /**
     * @param conn   the connection told of arriving bytes (null in a test of the decoding alone)
     * @param budget how many bytes may be read ahead of what the connection asked for (a
     *               pipelined request, the rest of a body) before the socket's read interest drops
     */
    ClientDecoder(ClientConnection conn, long budget, int maxLine, int maxHead, int maxTrailers) {
        this.conn = conn;
        this.budget = budget;
        this.parser = new HeadParser(maxLine, maxHead, maxHead / 4);
        this.chunks = new ChunkedFramer(4096, maxTrailers);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * The connection asks for its next message: handed over now when the bytes read hold one,
     * else once they arrive (the socket is asked to read).
     */
    void want() {
        wanted = true;
        unclaimed = 0;
        if (!deliver()) {
            ctx.read();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (conn != null) {
            conn.bytesArrived(); // before any of it is decoded: the first byte of a head starts its timer
        }
        ByteBuf b = (ByteBuf) msg;
        unclaimed += b.readableBytes();
        if (state == State.BROKEN) {
            b.release();
            return;
        }
        cumulation = cumulation == null ? b : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), cumulation, b);
        if (wanted) {
            deliver();
        }
    }

    /**
     * The end of a read: the socket keeps its read interest while the connection waits for a
     * message, or while what was read ahead of it stays under the budget (so a pipelined request
     * or the rest of a body is read early, without an epoll_ctl pair per request); past the
     * budget the interest drops, the back-pressure a client that sends too fast meets.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
        if ((wanted || unclaimed < budget) && ctx.channel().isActive()) {
            ctx.read();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
        for (int i = next; i < decoded.size(); i++) {
            ReferenceCountUtil.release(decoded.get(i));
        }
        decoded.clear();
        next = 0;
    }

    /** Hands the connection its next message if the bytes read hold one; whether it did. */
    private boolean deliver() {
        if (next == decoded.size()) {
            decoded.clear();
            next = 0;
            ByteBuf c = cumulation;
            while (c != null && c.isReadable() && decoded.isEmpty()) {
                int before = c.readableBytes();
                decode(c, decoded);
                if (c.readableBytes() == before && decoded.isEmpty()) {
                    break; // needs more bytes
                }
            }
            if (c != null && !c.isReadable()) {
                c.release();
                cumulation = null;
            }
            if (decoded.isEmpty()) {
                return false;
            }
        }
        Object m = decoded.get(next);
        decoded.set(next++, null);
        wanted = false;
        ctx.fireChannelRead(m);
        return true;
    }

    private void decode(ByteBuf buf, List<Object> list) {
        switch (state) {
            case HEAD -> head(buf, list);
            case LENGTH -> {
                left = ChunkedFramer.lengthPiece(buf, left, list);
                if (left == 0) {
                    state = State.HEAD;
                }
            }
            case CHUNKED -> {
                int r = chunks.decode(buf, list);
                if (r < 0) {
                    broken(buf);
                } else if (r > 0) {
                    state = State.HEAD;
                }
            }
            default -> buf.skipBytes(buf.readableBytes());
        }
    }

    private void head(ByteBuf buf, List<Object> list) {
        int n = parser.parse(buf);
        if (n == HeadParser.NEED_MORE) {
            return;
        }
        if (n < 0) {
            list.add(ParsedRequest.refused(-n, parser.reason()));
            broken(buf);
            return;
        }
        ParsedRequest r = ParsedRequest.of(parser, n - parser.skipped());
        parser.reset();
        buf.skipBytes(n);
        String bad = framing(r);
        if (bad != null) {
            list.add(ParsedRequest.refused(400, bad));
            broken(buf);
            return;
        }
        list.add(r);
        if (r.chunked) {
            chunks.reset();
            state = State.CHUNKED;
        } else if (r.contentLength > 0) {
            left = r.contentLength;
            state = State.LENGTH;
        } else {
            list.add(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /**
     * Works out the body's framing and the connection's fate from the fields (RFC 9112 §6.3,
     * §9.3); a reason when the framing is invalid: a malformed Content-Length, two different ones.
     */
    private static String framing(ParsedRequest r) {
        byte[] h = r.bytes();
        boolean close = false;
        boolean keepAliveToken = false;
        long length = -1;
        long headerBytes = 0;
        for (int i = 0; i < r.fieldCount(); i++) {
            int ns = r.nameStart(i);
            int vs = r.valueStart(i);
            int ve = r.valueEnd(i);
            headerBytes += r.nameEnd(i) - ns + ve - vs + 4;
            switch (r.nameEnd(i) - ns) {
                case 14 -> {
                    if (r.nameIs(i, "Content-Length")) {
                        long v = ParsedHead.number(h, vs, ve);
                        if (v < 0 || (length >= 0 && v != length)) {
                            return "an invalid Content-Length";
                        }
                        length = v;
                    }
                }
                case 17 -> {
                    if (r.nameIs(i, "Transfer-Encoding")) {
                        // the last coding decides (RFC 9112 §6.3): chunked, or a coding admission refuses
                        r.chunked = ParsedHead.lastTokenIs(h, vs, ve, "chunked");
                    }
                }
                case 10 -> {
                    if (r.nameIs(i, "Connection")) {
                        close |= ParsedHead.hasToken(h, vs, ve, "close");
                        keepAliveToken |= ParsedHead.hasToken(h, vs, ve, "keep-alive");
                    }
                }
                case 6 -> {
                    if (r.nameIs(i, "Expect")) {
                        r.expectContinue = ve - vs == 12 && new ByteChars().set(h, vs, ve).toString()
                                .equalsIgnoreCase("100-continue");
                    }
                }
                default -> {
                }
            }
        }
        r.headerBytes = headerBytes;
        boolean http11 = r.protocolVersion() == io.netty.handler.codec.http.HttpVersion.HTTP_1_1;
        r.keepAlive = !close && (http11 || keepAliveToken);
        r.expectContinue &= http11; // HTTP/1.0 has no 100 Continue
        if (r.chunked) {
            // a Content-Length beside chunked is ignored (RFC 9112 §6.3), and the connection closes after
            r.contentLength = -1;
            if (length >= 0) {
                r.keepAlive = false;
            }
        } else {
            r.contentLength = length;
        }
        return null;
    }

    private void broken(ByteBuf buf) {
        state = State.BROKEN;
        buf.skipBytes(buf.readableBytes());
    }
}
