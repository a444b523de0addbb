package io.lbkit.netty;

import io.lbkit.proxy.engine.ClientRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The rules' view of a Netty request: no copies beyond the decoded path and the list of names. */
final class NettyClientRequest implements ClientRequest {

    private final HttpRequest request;
    private final String rawPath;
    private final String path;
    private final String query;
    private final String remoteAddress;
    private final String serverName;
    private List<String> names;

    NettyClientRequest(HttpRequest request, String rawPath, String path, String query, String remoteAddress,
                       String serverName) {
        this.request = request;
        this.rawPath = rawPath;
        this.path = path;
        this.query = query;
        this.remoteAddress = remoteAddress;
        this.serverName = serverName;
    }

    HttpRequest request() {
        return request;
    }

    @Override
    public String method() {
        return request.method().name();
    }

    @Override
    public String protocol() {
        return request.protocolVersion().text();
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String rawPath() {
        return rawPath;
    }

    @Override
    public String query() {
        return query;
    }

    @Override
    public String serverName() {
        return serverName;
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String header(String name) {
        return request instanceof ParsedRequest p ? p.header(name) : request.headers().get(name);
    }

    @Override
    public Iterable<String> headers(String name) {
        return request instanceof ParsedRequest p ? p.all(name) : request.headers().getAll(name);
    }

    @Override
    public void forEachField(FieldVisitor visitor) {
        if (request instanceof ParsedRequest p) {
            p.forEachField(visitor);
            return;
        }
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = request.headers().iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> f = it.next();
            visitor.field(f.getKey(), f.getValue());
        }
    }

    @Override
    public Iterable<String> headerNames() {
        List<String> n = names;
        if (n == null) {
            if (request instanceof ParsedRequest p) {
                n = new ArrayList<>(p.fieldCount());
                for (int i = 0; i < p.fieldCount(); i++) {
                    String name = new String(p.bytes(), p.nameStart(i), p.nameEnd(i) - p.nameStart(i),
                            StandardCharsets.ISO_8859_1);
                    if (!containsIgnoreCase(n, name)) {
                        n.add(name);
                    }
                }
            } else {
                n = new ArrayList<>(request.headers().size());
                for (Map.Entry<String, String> e : request.headers()) {
                    if (!containsIgnoreCase(n, e.getKey())) {
                        n.add(e.getKey());
                    }
                }
            }
            names = n;
        }
        return n;
    }

    private static boolean containsIgnoreCase(List<String> names, String name) {
        for (String s : names) {
            if (s.equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    /** The size of {@code r}'s header block as the servlet engine counts it: name, value and 4 per field. */
    static long headerBytes(HttpRequest r) {
        return r instanceof ParsedRequest p ? p.headerBytes : headerBytes(r.headers());
    }

    /** Whether the client may keep its connection open after {@code r} (its version and Connection). */
    static boolean keepAlive(HttpRequest r) {
        return r instanceof ParsedRequest p ? p.keepAlive : io.netty.handler.codec.http.HttpUtil.isKeepAlive(r);
    }

    /** Whether {@code r}'s body is chunked. */
    static boolean chunked(HttpRequest r) {
        return r instanceof ParsedRequest p ? p.chunked
                : io.netty.handler.codec.http.HttpUtil.isTransferEncodingChunked(r);
    }

    /** Whether the client of {@code r} waits for {@code 100 Continue}. */
    static boolean expectContinue(HttpRequest r) {
        return r instanceof ParsedRequest p ? p.expectContinue
                : io.netty.handler.codec.http.HttpUtil.is100ContinueExpected(r);
    }

    /** {@code r}'s Host, or null. */
    static String host(HttpRequest r) {
        return r instanceof ParsedRequest p ? p.header("Host") : r.headers().get(HttpHeaderNames.HOST);
    }

    /** The size of the header block as the servlet engine counts it: name, value and 4 per field. */
    static long headerBytes(HttpHeaders h) {
        long n = 0;
        for (Map.Entry<String, String> e : h) {
            n += e.getKey().length() + e.getValue().length() + 4;
        }
        return n;
    }

    /**
     * The text a servlet container would give for a byte string of the request line (one char per
     * byte): the bytes read as UTF-8, so a hash key or a query value is the same in both engines.
     * ASCII, by far the usual case, is returned as it is.
     */
    static String utf8(String byteString) {
        if (byteString == null) {
            return null;
        }
        for (int i = 0; i < byteString.length(); i++) {
            if (byteString.charAt(i) > 0x7f) {
                return new String(byteString.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            }
        }
        return byteString;
    }

    /** The declared body length, or -1 when none is declared (chunked, or no body). */
    static long declaredLength(HttpRequest req) {
        return req instanceof ParsedRequest p ? p.contentLength : contentLength(req.headers());
    }

    /** A message's {@code Content-Length}, or -1 when it has none (the decoders refuse a malformed one). */
    static long contentLength(HttpHeaders h) {
        String cl = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (cl == null) {
            return -1;
        }
        try {
            return Long.parseLong(cl.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
