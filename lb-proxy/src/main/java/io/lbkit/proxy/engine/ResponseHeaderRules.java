package io.lbkit.proxy.engine;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.StickyCodec;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The header fields a client receives from a backend's response: the backend's fields less the
 * hop-by-hop ones (and those {@code Connection} names), the session-forwarding ones, the ones
 * nginx hides ({@code X-Accel-*}, {@code X-Pad}) and {@code Content-Length} (the engine frames the
 * body); then {@code Via} appended, the served-by header and the sticky cookie. Stateless.
 */
public final class ResponseHeaderRules {

    private ResponseHeaderRules() {
    }

    /**
     * Copies the end-to-end fields of a backend response into {@code out} and appends Via.
     *
     * @param fields           the backend's fields, in order
     * @param backendProtocol  the backend response's protocol ({@code HTTP/1.1}), for Via
     */
    public static void apply(ProxyConfig config, Iterable<? extends Map.Entry<String, String>> fields,
                             String backendProtocol, HeaderSink out) {
        Set<String> conn = null;
        for (Map.Entry<String, String> f : fields) {
            if (f.getKey().equalsIgnoreCase("Connection")) {
                conn = Headers.connectionTokens(java.util.List.of(f.getValue()));
            }
        }
        StringBuilder vias = null;
        for (Map.Entry<String, String> f : fields) {
            String name = f.getKey();
            String lower = name.toLowerCase(Locale.ROOT);
            if (Headers.HOP_BY_HOP.contains(lower) || (conn != null && conn.contains(lower))
                    || lower.equals("content-length") || Headers.isSessionHeader(name) || Headers.isHiddenResponse(lower)) {
                continue;
            }
            if (lower.equals("via")) {
                vias = vias == null ? new StringBuilder(f.getValue()) : vias.append(", ").append(f.getValue());
                continue;
            }
            out.add(name, f.getValue());
        }
        if (config.via() != null) {
            String mine = RequestHeaderRules.versionOf(backendProtocol) + " " + config.via();
            out.set("Via", vias == null ? mine : vias + ", " + mine);
        } else if (vias != null) {
            out.set("Via", vias.toString());
        }
    }

    /** Names the endpoint that answered (the served-by header) and sets the sticky cookie when the route has one. */
    public static void identify(ProxyConfig config, String endpointId, StickyCodec sticky, boolean secure,
                                HeaderSink out) {
        if (config.servedByHeader() != null) {
            out.set(config.servedByHeader(), endpointId);
        }
        if (sticky != null) {
            out.add("Set-Cookie", sticky.setCookie(endpointId, secure));
        }
    }
}
