package io.lbkit.netty;

import io.lbkit.proxy.engine.Headers;
import io.lbkit.proxy.engine.ResponseFields;
import io.lbkit.proxy.engine.ResponseHeaderSink;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Header fields: the names of those the engine writes itself, in their usual spelling (Netty's
 * constants are lower case; the servlet engine and most servers write these; HTTP/1.1 names are
 * case-insensitive, so this is for the reader of a trace), and the helpers that write fields.
 */
final class Fields {

    /** Headers written from fields the decoders already validated, and the rules' own. */
    static final DefaultHttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);


    static final AsciiString CONTENT_LENGTH = AsciiString.cached("Content-Length");
    static final AsciiString CONTENT_TYPE = AsciiString.cached("Content-Type");
    static final AsciiString TRANSFER_ENCODING = AsciiString.cached("Transfer-Encoding");
    static final AsciiString TRAILER = AsciiString.cached("Trailer");
    static final AsciiString HOST = AsciiString.cached("Host");
    static final AsciiString VIA = AsciiString.cached("Via");
    static final AsciiString CONNECTION = AsciiString.cached("Connection");
    static final AsciiString ALLOW = AsciiString.cached("Allow");
    static final AsciiString RETRY_AFTER = AsciiString.cached("Retry-After");

    private Fields() {
    }

    /** Keeps the trailer fields that may cross the proxy, or none when {@code allowed} is false. */
    static void filterTrailers(HttpHeaders trailers, boolean allowed) {
        if (trailers.isEmpty()) {
            return;
        }
        Iterator<Map.Entry<String, String>> it = trailers.iteratorAsString();
        List<String> drop = null;
        while (it.hasNext()) {
            String name = it.next().getKey();
            if (!allowed || !Headers.isForwardableTrailer(name)) {
                if (drop == null) {
                    drop = new ArrayList<>(2);
                }
                drop.add(name);
            }
        }
        if (drop != null) {
            for (String n : drop) {
                trailers.remove(n);
            }
        }
    }

    /** A backend response's fields as the rules read them. */
    static ResponseFields of(HttpHeaders h) {
        return action -> {
            for (Iterator<Map.Entry<String, String>> it = h.iteratorAsString(); it.hasNext(); ) {
                Map.Entry<String, String> f = it.next();
                action.accept(f.getKey(), f.getValue());
            }
        };
    }

    /**
     * Netty's header container as the rules write it: a backend request's fields, or a client
     * response head not written yet (which session forwarding also reads back and removes from).
     * Names and values given as ASCII strings are stored as they are.
     */
    static ResponseHeaderSink sink(HttpHeaders h) {
        return new ResponseHeaderSink() {
            @Override
            public void add(String name, String value) {
                h.add(name, value);
            }

            @Override
            public void add(CharSequence name, CharSequence value) {
                h.add(name, value);
            }

            @Override
            public void set(String name, String value) {
                h.set(name, value);
            }

            @Override
            public Iterable<String> values(String name) {
                return h.getAll(name);
            }

            @Override
            public void remove(String name) {
                h.remove(name);
            }
        };
    }
}
