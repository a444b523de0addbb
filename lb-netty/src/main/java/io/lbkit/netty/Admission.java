package io.lbkit.netty;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.engine.Headers;
import io.lbkit.proxy.engine.RequestTarget;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;

/**
 * The checks a request passes before any route or endpoint is involved, in the servlet engine's
 * order ({@code ProxyExchange.start}): 431, Host, CONNECT, TRACE, Transfer-Encoding, the path's
 * escapes. A refusal is the client's error, never an endpoint's.
 */
final class Admission {

    /** Why a request is refused, and with which status. */
    record Refusal(int status, String why) {
    }

    private Admission() {
    }

    /** The refusal of {@code req} whose target's path is {@code rawPath}, or null when it may go on. */
    static Refusal check(ProxyConfig config, HttpRequest req, String rawPath) {
        HttpHeaders h = req.headers();
        if (NettyClientRequest.headerBytes(h) > config.maxRequestHeaderBytes()) {
            return new Refusal(431, "request header fields too large");
        }
        List<String> hosts = h.getAll(HttpHeaderNames.HOST);
        boolean http11 = req.protocolVersion().equals(HttpVersion.HTTP_1_1);
        if ((!hosts.isEmpty() && (hosts.size() > 1 || !Headers.isValidHost(hosts.get(0))))
                || (hosts.isEmpty() && http11)) {
            return new Refusal(400, "invalid Host header");
        }
        HttpMethod method = req.method();
        if (method.equals(HttpMethod.CONNECT)) {
            return new Refusal(400, "CONNECT is not proxied"); // nginx: 400
        }
        if (method.equals(HttpMethod.TRACE)) {
            return new Refusal(405, "TRACE is not proxied"); // nginx: 405, with Allow
        }
        List<String> codings = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty()) {
            if (req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                // RFC 9112 section 6.1: faulty framing; answer and close
                return new Refusal(400, "Transfer-Encoding in an HTTP/1.0 request");
            }
            if (codings.size() > 1 || !codings.get(0).trim().equalsIgnoreCase("chunked")) {
                return new Refusal(501, "unsupported Transfer-Encoding"); // nginx: 501
            }
        }
        String badPath = RequestTarget.invalidPath(rawPath);
        if (badPath != null) {
            return new Refusal(400, badPath); // nginx: 400; never an endpoint's failure
        }
        return null;
    }

    /** The declared body length, or -1 when none is declared (chunked, or no body). */
    static long declaredLength(HttpRequest req) {
        String cl = req.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (cl == null) {
            return -1;
        }
        try {
            return Long.parseLong(cl.trim());
        } catch (NumberFormatException e) {
            return -1; // the decoder refuses a malformed Content-Length before this
        }
    }
}
