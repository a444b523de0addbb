package io.lbkit.netty;

import io.lbkit.proxy.Route;
import io.lbkit.proxy.StickyCodec;
import io.lbkit.proxy.engine.AddedHeaderRules;
import io.lbkit.proxy.engine.Headers;
import io.lbkit.proxy.engine.RequestHeaderRules;
import io.lbkit.proxy.engine.ResponseHeaderRules;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The head a client gets for a backend's response head: the fields lb-proxy's
 * {@link ResponseHeaderRules} let through, Via, the served-by header, the sticky cookie and the
 * added fields ({@link AddedHeaderRules}), and
 * the framing this engine chooses (the backend's Content-Length, else chunked for HTTP/1.1, else
 * the close), written as bytes ({@link HeadWriter}) with no header container in between.
 */
final class ClientHead {

    /** The head, not ended yet: the session's fields may still be added. */
    final HeadWriter head;
    /** How the body that follows is framed for the client. */
    final BodyEncoder.Body body;
    /** Whether the backend's trailer fields may follow the body. */
    final boolean trailers;
    /** Whether the client connection closes after this response. */
    final boolean closes;

    private ClientHead(HeadWriter head, BodyEncoder.Body body, boolean trailers, boolean closes) {
        this.head = head;
        this.body = body;
        this.trailers = trailers;
        this.closes = closes;
    }

    static ClientHead of(Engine engine, HeadWriter writer, ParsedResponse backend, NettyClientRequest view,
                         boolean clientKeepAlive, String endpointId, StickyCodec sticky, boolean secure, Route route,
                         String scheme) {
        ParsedRequest req = view.request();
        int st = backend.status().code();
        HeadWriter out = writer.response(st, backend.status().reasonPhrase());
        copy(engine, backend, out);
        boolean mayHaveBody = st >= 200 && st != 204 && st != 304 && !req.method().equals(HttpMethod.HEAD);
        long cl = backend.contentLength;
        if (cl >= 0 && st != 204) {
            out.field(Fields.CONTENT_LENGTH, cl); // a HEAD or 304 answer's length passes unchanged
        }
        boolean http11 = req.protocolVersion().equals(HttpVersion.HTTP_1_1);
        boolean trailers = false;
        boolean chunked = mayHaveBody && cl < 0 && http11;
        if (chunked) {
            out.field(Fields.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED); // a cut body shows as cut
            String declared = backend.header("Trailer");
            trailers = declared != null || RequestHeaderRules.acceptsTrailers(view);
            if (declared != null) {
                out.field(Fields.TRAILER, declared);
            }
        }
        ResponseHeaderRules.addTierFields(engine.config, endpointId, sticky, secure, out);
        AddedHeaderRules.apply(engine.config, route, st, scheme, out);
        boolean delimited = !mayHaveBody || cl >= 0 || http11;
        boolean closes = !clientKeepAlive || !delimited || engine.stopping;
        if (closes && http11) {
            out.field(Fields.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (!closes && !http11) {
            out.field(Fields.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        BodyEncoder.Body body = !mayHaveBody ? BodyEncoder.Body.NONE
                : chunked ? BodyEncoder.Body.CHUNKED : BodyEncoder.Body.RAW;
        return new ClientHead(out, body, trailers, closes);
    }

    /** The backend's end-to-end fields and Via, per lb-proxy's rules, copied byte for byte from its parsed head. */
    private static void copy(Engine engine, ParsedResponse backend, HeadWriter out) {
        Set<String> tokens = backend.hasConnection ? Headers.connectionTokens(backend.all("Connection")) : null;
        List<String> vias = null;
        byte[] h = backend.head;
        ByteChars name = new ByteChars();
        for (int i = 0; i < backend.fieldCount(); i++) {
            name.set(h, backend.nameStart(i), backend.nameEnd(i));
            if (Headers.equalsIgnoreCase(name, "via")) {
                if (vias == null) {
                    vias = new ArrayList<>(2);
                }
                vias.add(backend.value(i));
            } else if (ResponseHeaderRules.copied(name, tokens)
                    && (engine.sessions == null || !engine.sessions.hidesResponseField(name))) {
                out.field(h, backend.nameStart(i), backend.nameEnd(i), backend.valueStart(i), backend.valueEnd(i));
            }
        }
        String via = ResponseHeaderRules.via(engine.config, vias, backend.protocolVersion().text());
        if (via != null) {
            out.field(Fields.VIA, via);
        }
    }
}
