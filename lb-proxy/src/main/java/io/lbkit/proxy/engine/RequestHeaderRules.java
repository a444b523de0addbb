package io.lbkit.proxy.engine;

import io.lbkit.proxy.ProxyConfig;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The header fields an endpoint receives for a client request: the client's fields less the
 * hop-by-hop ones, the ones the tier owns (session forwarding, served-by, instance id) and the
 * forwarding fields it regenerates, in both {@code -} and {@code _} spellings; then Via,
 * X-Forwarded-*, X-Real-IP and Forwarded (RFC 7239) per {@link ProxyConfig}, appended to a
 * trusted peer's values and replacing anyone else's. Host is the engine's (it depends on the
 * endpoint): see {@link #backendHost}.
 *
 * <p>One instance per proxy (it holds the key of obfuscated {@code Forwarded} identifiers);
 * thread-safe.
 */
public final class RequestHeaderRules {

    private final ProxyConfig config;
    private final byte[] obfuscationKey = new byte[32];
    /** The served-by header's name, which no client may send on, or null. */
    private final String servedBy;
    /** The session-forwarding names configured outside the X-Session-* family: a client may not send them either. */
    private final List<String> sessionNames;
    /** This tier's Via entry for HTTP/1.1 and HTTP/1.0 requests, or null when it adds none. */
    private final String via11;
    private final String via10;

    public RequestHeaderRules(ProxyConfig config) {
        this.config = config;
        this.servedBy = config.servedByHeader();
        new SecureRandom().nextBytes(obfuscationKey);
        this.sessionNames = config.sessionForwarding() == null ? List.of()
                : SessionForwarder.extraNames(config.sessionForwarding());
        this.via11 = config.via() == null ? null : "1.1 " + config.via();
        this.via10 = config.via() == null ? null : "1.0 " + config.via();
    }

    /**
     * Writes the backend request's fields (all but Host, Content-Length and the body's framing)
     * into {@code out}.
     *
     * @param streamsBodyWithTrailers whether the request body is streamed chunked, so that the
     *                                client's {@code Trailer} declaration stays true
     */
    public void apply(ClientRequest req, ClientOrigin origin, boolean streamsBodyWithTrailers, HeaderSink out) {
        copyEndToEndFields(req, out);
        if (acceptsTrailers(req)) {
            out.set("TE", "trailers"); // only this token is end-to-end (gRPC needs it)
        }
        String declared = joined(req, "Trailer");
        if (declared != null && streamsBodyWithTrailers) {
            out.set("Trailer", declared);
        }
        addVia(req, out);
        addXForwarded(req, origin, out);
        addForwarded(req, origin, out);
    }

    private void copyEndToEndFields(ClientRequest req, HeaderSink out) {
        Set<String> conn = req.header("Connection") == null ? null : Headers.connectionTokens(req.headers("Connection"));
        req.forEachField((name, value) -> {
            if (!dropped(name, conn)) {
                out.add(name, value);
            }
        });
    }

    /**
     * Whether the client's field {@code name} stays out of the backend request. "X_Forwarded_For"
     * reaches CGI-style backends as the same variable as "X-Forwarded-For": every field lbkit
     * removes or regenerates is matched in both spellings. Copies nothing.
     */
    private boolean dropped(CharSequence name, Set<String> connectionTokens) {
        for (String h : DROPPED) {
            if (Headers.sameFieldName(name, h)) {
                return true;
            }
        }
        if (servedBy != null && Headers.sameFieldName(name, servedBy)) {
            return true; // the tier's own response field: a client must not make a backend believe another tier answered
        }
        if (connectionTokens != null) {
            for (String t : connectionTokens) {
                if (Headers.equalsIgnoreCase(name, t)) {
                    return true;
                }
            }
        }
        return Headers.isSessionHeader(name)
                || (!sessionNames.isEmpty() && SessionForwarder.isExtraName(sessionNames, name));
    }

    /**
     * Hop-by-hop fields, the forwarding fields the proxy regenerates and {@code X-Instance-ID}
     * (a backend's name for itself, which a client must not forge), lower case with {@code -}.
     */
    private static final String[] DROPPED;

    static {
        java.util.List<String> d = new java.util.ArrayList<>(Headers.HOP_BY_HOP);
        d.addAll(Headers.REGENERATED);
        d.add("x-instance-id");
        DROPPED = d.toArray(String[]::new);
    }

    private void addVia(ClientRequest req, HeaderSink out) {
        String inboundVia = joined(req, "Via");
        if (config.via() != null) {
            String protocol = req.protocol();
            String mine = "HTTP/1.1".equals(protocol) ? via11 : "HTTP/1.0".equals(protocol) ? via10
                    : versionOf(protocol) + " " + config.via();
            out.set("Via", inboundVia == null ? mine : inboundVia + ", " + mine);
        } else if (inboundVia != null) {
            out.set("Via", inboundVia);
        }
    }

    private void addXForwarded(ClientRequest req, ClientOrigin origin, HeaderSink out) {
        if (config.xForwarded()) {
            String inXff = origin.trustedPeer() ? joined(req, "X-Forwarded-For") : null;
            String peer = origin.peerText();
            out.set("X-Forwarded-For", inXff == null || inXff.isBlank() ? peer : inXff + ", " + peer);
            out.set("X-Forwarded-Proto", trustedOr(req, origin, "X-Forwarded-Proto", origin.scheme()));
            String host = trustedOr(req, origin, "X-Forwarded-Host", origin.host());
            if (host != null) {
                out.set("X-Forwarded-Host", host);
            }
            out.set("X-Forwarded-Port", trustedOr(req, origin, "X-Forwarded-Port", String.valueOf(origin.port())));
            out.set("X-Real-IP", trustedOr(req, origin, "X-Real-IP", peer)); // nginx: X-Real-IP $remote_addr
        } else if (origin.trustedPeer()) {
            for (String n : new String[] {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port",
                "X-Real-IP"}) {
                String v = joined(req, n);
                if (v != null) {
                    out.set(n, v);
                }
            }
        }
    }

    private void addForwarded(ClientRequest req, ClientOrigin origin, HeaderSink out) {
        if (config.forwarded()) {
            StringBuilder e = new StringBuilder(64);
            if (config.forwardedBy() != null) {
                e.append("by=").append(Headers.forwardedValue(config.forwardedBy())).append(';');
            }
            e.append("for=").append(forNode(origin));
            if (origin.host() != null) {
                e.append(";host=").append(Headers.forwardedValue(origin.host()));
            }
            e.append(";proto=").append(origin.scheme());
            String inbound = origin.trustedPeer() ? joined(req, "Forwarded") : null;
            out.set("Forwarded", inbound == null || inbound.isBlank() ? e.toString() : inbound + ", " + e);
        } else if (origin.trustedPeer()) {
            String v = joined(req, "Forwarded");
            if (v != null) {
                out.set("Forwarded", v);
            }
        }
    }

    private String forNode(ClientOrigin origin) {
        if (origin.peer() == null) {
            return "unknown";
        }
        return switch (config.forwardedFor()) {
            // IPv4: the X-Forwarded-For text already made for this peer
            case ADDRESS -> origin.peer() instanceof java.net.Inet6Address ? Headers.forwardedNode(origin.peer())
                    : origin.peerText();
            case UNKNOWN -> "unknown";
            case OBFUSCATED -> {
                try {
                    Mac m = Mac.getInstance("HmacSHA256");
                    m.init(new SecretKeySpec(obfuscationKey, "HmacSHA256"));
                    byte[] d = m.doFinal(origin.peer().getAddress());
                    yield "_" + HexFormat.of().formatHex(d, 0, 6);
                } catch (GeneralSecurityException x) {
                    yield "unknown";
                }
            }
        };
    }

    private static String trustedOr(ClientRequest req, ClientOrigin origin, String header, String own) {
        if (origin.trustedPeer()) {
            String v = joined(req, header);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return own;
    }

    /** Whether the client's {@code TE} lists {@code trailers} (it reads trailer fields). */
    public static boolean acceptsTrailers(ClientRequest req) {
        for (String te : req.headers("TE")) {
            for (String token : te.split(",")) {
                int semi = token.indexOf(';');
                String t = (semi < 0 ? token : token.substring(0, semi)).trim();
                if (t.equalsIgnoreCase("trailers")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Every value of a field joined with {@code ", "}, or null when there is none. */
    public static String joined(ClientRequest req, String header) {
        String first = null;
        StringBuilder sb = null;
        for (String v : req.headers(header)) {
            if (first == null) {
                first = v;
            } else {
                if (sb == null) {
                    sb = new StringBuilder(first);
                }
                sb.append(", ").append(v);
            }
        }
        return sb != null ? sb.toString() : first;
    }

    /** The version of a protocol name ({@code HTTP/1.0} gives {@code 1.0}); {@code 1.1} when unknown. */
    public static String versionOf(String protocol) {
        if (protocol != null && protocol.startsWith("HTTP/")) {
            return protocol.substring(5);
        }
        return "1.1";
    }

    /**
     * The Host header an endpoint gets: the client's as sent ({@code $http_host}), its host name
     * ({@code $host}: lower case, no port) or the endpoint's address ({@code $proxy_host}); the
     * endpoint's address too when the client sent none and no server name is set.
     */
    public static String backendHost(ProxyConfig config, String clientHost, String endpointHost, int endpointPort) {
        if (config.hostHeader() == ProxyConfig.HostHeader.ENDPOINT || clientHost == null) {
            return hostPort(endpointHost, endpointPort);
        }
        return config.hostHeader() == ProxyConfig.HostHeader.HOST ? Headers.hostName(clientHost) : clientHost;
    }

    /** {@code host:port}, with brackets around an IPv6 literal. */
    public static String hostPort(String host, int port) {
        boolean v6 = host.indexOf(':') >= 0 && !host.startsWith("[");
        String h = v6 ? "[" + host + "]" : host;
        return port > 0 ? h + ":" + port : h;
    }
}
