package io.lbkit.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.List;

/**
 * A backend connection's response decoder, in place of Netty's: heads parsed in place by
 * {@link HeadParser#forResponses} into {@link ParsedResponse}s, bodies framed per RFC 9112 §6.3
 * and passed on as the slices that arrived: no body for an answer to HEAD, a 1xx, 204 or 304; a
 * chunked body decoded by {@link ChunkedFramer} (trailers kept); a Content-Length body; else the
 * bytes until the endpoint closes. Every head is followed by a last content, as Netty's decoder
 * does. An invalid head is a failed {@link ParsedResponse}, a malformed chunked body a failed last
 * content; decoding stops there (the connection is not reused).
 */
final class BackendDecoder extends ByteToMessageDecoder {

    private enum State { HEAD, LENGTH, CHUNKED, UNTIL_CLOSE, BROKEN }

    private final HeadParser parser;
    private final ChunkedFramer chunks;
    private final ArrayDeque<HttpMethod> methods;
    private State state = State.HEAD;
    private long left;
    private ParsedResponse last;       // the connection's response head object, reused for each response

    BackendDecoder(int maxHead, ArrayDeque<HttpMethod> methods) {
        this.parser = HeadParser.forResponses(maxHead, maxHead / 4);
        this.chunks = new ChunkedFramer(4096, maxHead);
        this.methods = methods;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buf, List<Object> list) {
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
            case UNTIL_CLOSE -> {
                if (buf.isReadable()) {
                    list.add(new DefaultHttpContent(buf.readRetainedSlice(buf.readableBytes())));
                }
            }
            default -> buf.skipBytes(buf.readableBytes());
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf buf, List<Object> list) throws Exception {
        super.decodeLast(ctx, buf, list);
        if (state == State.UNTIL_CLOSE) {
            list.add(LastHttpContent.EMPTY_LAST_CONTENT); // the close ends the body
            state = State.BROKEN;
        } else if (state == State.HEAD && buf.isReadable()) {
            list.add(ParsedResponse.invalid("the endpoint closed the connection in the middle of a response head"));
            broken(buf);
        }
        // a Content-Length or chunked body cut short: nothing more; the connection's close says the rest
    }

    private void head(ByteBuf buf, List<Object> list) {
        int n = parser.parse(buf);
        if (n == HeadParser.NEED_MORE) {
            return;
        }
        if (n < 0) {
            list.add(ParsedResponse.invalid(parser.reason()));
            broken(buf);
            return;
        }
        ParsedResponse r = last = ParsedResponse.reuse(last, parser); // handled before the next head is parsed
        parser.reset();
        buf.skipBytes(n);
        String bad = framing(r);
        if (bad != null) {
            list.add(ParsedResponse.invalid(bad));
            broken(buf);
            return;
        }
        list.add(r);
        int code = r.status().code();
        boolean noBody;
        if (code < 200) {
            noBody = true; // an informational head: the final one follows (101 is not asked for: nothing is forwarded after it)
        } else {
            HttpMethod m = methods.poll();
            noBody = m == HttpMethod.HEAD || code == 204 || code == 304;
        }
        if (noBody) {
            list.add(LastHttpContent.EMPTY_LAST_CONTENT);
        } else if (r.chunked) {
            chunks.reset();
            state = State.CHUNKED;
        } else if (r.contentLength > 0) {
            left = r.contentLength;
            state = State.LENGTH;
        } else if (r.contentLength == 0) {
            list.add(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            r.keepAlive = false;
            state = State.UNTIL_CLOSE;
        }
    }

    /** Framing and keep-alive from the fields; a reason when the framing is invalid. */
    private static String framing(ParsedResponse r) {
        byte[] h = r.head;
        boolean close = false;
        boolean keepAliveToken = false;
        boolean te = false;
        long length = -1;
        for (int i = 0; i < r.fieldCount(); i++) {
            int vs = r.valueStart(i);
            int ve = r.valueEnd(i);
            switch (r.nameEnd(i) - r.nameStart(i)) {
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
                        te = true;
                        r.chunked = ParsedHead.lastTokenIs(h, vs, ve, "chunked");
                    }
                }
                case 10 -> {
                    if (r.nameIs(i, "Connection")) {
                        r.hasConnection = true;
                        close |= ParsedHead.hasToken(h, vs, ve, "close");
                        keepAliveToken |= ParsedHead.hasToken(h, vs, ve, "keep-alive");
                    }
                }
                default -> {
                }
            }
        }
        r.keepAlive = !close && (r.protocolVersion() == HttpVersion.HTTP_1_1 || keepAliveToken);
        if (te) {
            // Transfer-Encoding overrides a Content-Length (RFC 9112 §6.3); a coding other than chunked last reads until the close
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
