package io.lbkit.proxy.engine;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.Iterator;

/**
 * The checks a request passes before any endpoint is chosen, with nginx's statuses: a request
 * that fails one is the client's error, answered by the proxy itself and never an endpoint's
 * failure. The header-size limit (431) is the engine's, which measures the head as it reads it.
 */
public final class Admission {

    private Admission() {
    }

    /** The {@code Allow} field sent with a 405 for {@code TRACE}. */
    public static final String ALLOW = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";

    /**
     * Why a request is refused.
     *
     * @param status       the status to answer with
     * @param reason       a short fixed text for the log line (never a value from the request)
     * @param closes       whether the connection must close after the answer (unreliable framing)
     * @param bodyTooLarge whether the refusal is the declared body's size, which an engine may
     *                     answer after draining the body (nginx's lingering close)
     */
    public record Refusal(int status, String reason, boolean closes, boolean bodyTooLarge) {
    }

    /**
     * The first check {@code req} fails, or null when it may be proxied by {@code route}.
     *
     * @param route          the matching route, or null when none matches: the request's own
     *                       checks still run (nginx answers CONNECT with 400 whatever the location),
     *                       and the body limit is the proxy's
     * @param declaredLength the request's Content-Length, or -1 when it has none
     */
    public static Refusal check(ProxyConfig config, Route route, ClientRequest req, long declaredLength) {
        Refusal r = checkHost(req);
        if (r == null) {
            r = checkMethod(req.method());
        }
        if (r == null) {
            r = checkFraming(req);
        }
        if (r == null) {
            String badPath = RequestTarget.invalidPath(req.rawPath());
            if (badPath != null) {
                r = new Refusal(400, badPath, false, false); // nginx: 400
            }
        }
        if (r == null) {
            long limit = bodyLimit(config, route);
            if (limit > 0 && declaredLength > limit) {
                r = new Refusal(413, "declared body larger than the limit", true, true);
            }
        }
        return r;
    }

    /** The largest request body {@code route} takes (its fan-out limit, else the proxy's); 0 = no limit. */
    public static long bodyLimit(ProxyConfig config, Route route) {
        return route != null && route.fanOut() != null && route.fanOut().maxBodyBytes() > 0
                ? route.fanOut().maxBodyBytes() : config.maxRequestBodyBytes();
    }

    private static Refusal checkHost(ClientRequest req) {
        Iterator<String> hosts = req.headers("Host").iterator();
        String host = hosts.hasNext() ? hosts.next() : null;
        if ((host != null && (!Headers.isValidHost(host) || hosts.hasNext()))
                || (host == null && "HTTP/1.1".equals(req.protocol()))) {
            return new Refusal(400, "invalid Host header", true, false);
        }
        return null;
    }

    private static Refusal checkMethod(String method) {
        if (method.equals("CONNECT")) {
            return new Refusal(400, "CONNECT is not proxied", true, false); // nginx: 400; a tunnel is not a reverse proxy's
        }
        if (method.equals("TRACE")) {
            return new Refusal(405, "TRACE is not proxied", false, false); // nginx: 405, with Allow; it would echo credentials
        }
        return null;
    }

    private static Refusal checkFraming(ClientRequest req) {
        Iterator<String> codings = req.headers("Transfer-Encoding").iterator();
        if (!codings.hasNext()) {
            return null;
        }
        if ("HTTP/1.0".equals(req.protocol())) {
            // RFC 9112 section 6.1: HTTP/1.0 with Transfer-Encoding is faulty framing; answer and close
            return new Refusal(400, "Transfer-Encoding in an HTTP/1.0 request", true, false);
        }
        String te = codings.next();
        if (!te.trim().equalsIgnoreCase("chunked") || codings.hasNext()) {
            // only "chunked" alone is forwarded; any other coding, or a list, is one the backend
            // might frame differently from the engine (nginx: 501)
            return new Refusal(501, "unsupported Transfer-Encoding", true, false);
        }
        return null;
    }
}
