package io.lbkit.proxy.engine;

import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.StickyCodec;
import java.util.List;
import java.util.Set;

/**
 * Which of a backend response's fields reach the client, and the {@code Via} it gets. Not
 * forwarded: hop-by-hop fields and those named in {@code Connection}, the session-forwarding
 * family, nginx's {@code proxy_hide_header} defaults ({@code X-Accel-*}, {@code X-Pad}) and
 * {@code Content-Length}, which the engine sets from the body's framing. {@code Via} is
 * collected and rewritten by {@link #via}. Stateless.
 */
public final class ResponseHeaderRules {

    private ResponseHeaderRules() {
    }

    /**
     * Whether a backend response field is copied to the client as it is.
     *
     * @param name             the field's name as received
     * @param lower            the same in lower case (callers that have it; the rule reads {@code name})
     * @param connectionTokens the lower-case names the response's {@code Connection} lists, or null
     */
    public static boolean copied(String name, String lower, Set<String> connectionTokens) {
        return copied(name, connectionTokens);
    }

    /**
     * Whether a backend response field is copied to the client as it is; compares {@code name}
     * in any case without copying it (an engine that holds names as bytes or ASCII strings).
     *
     * @param connectionTokens the lower-case names the response's {@code Connection} lists, or null
     */
    public static boolean copied(CharSequence name, Set<String> connectionTokens) {
        if (Headers.isHopByHop(name) || Headers.equalsIgnoreCase(name, "content-length")
                || Headers.equalsIgnoreCase(name, "via") || Headers.isSessionHeader(name)
                || Headers.isHiddenResponseName(name)) {
            return false;
        }
        if (connectionTokens != null) {
            for (String t : connectionTokens) {
                if (Headers.equalsIgnoreCase(name, t)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The client's {@code Via}: the backend's values, then this proxy's own element
     * ({@code 1.1 lbkit}) when {@link ProxyConfig#via()} is set; null when there is neither.
     *
     * @param backendVias    the backend's {@code Via} values in order, or null for none
     * @param backendVersion the protocol version of the backend response ({@code HTTP/1.1}), or null
     */
    public static String via(ProxyConfig config, List<String> backendVias, String backendVersion) {
        String theirs = backendVias == null || backendVias.isEmpty() ? null : String.join(", ", backendVias);
        if (config.via() == null) {
            return theirs;
        }
        String mine = RequestHeaderRules.versionOf(backendVersion) + " " + config.via();
        return theirs == null ? mine : theirs + ", " + mine;
    }

    /**
     * The fields the tier adds to the client response of an attempt that {@code endpointId}
     * answered: the served-by header ({@link ProxyConfig#servedByHeader()}), and the sticky cookie
     * binding the client to that endpoint when the route is sticky.
     *
     * @param sticky the route's sticky codec, or null when the route is not sticky
     * @param secure whether the client is on HTTPS ({@link ClientOrigin#secure()})
     */
    public static void addTierFields(ProxyConfig config, String endpointId, StickyCodec sticky, boolean secure,
                                     HeaderSink out) {
        if (config.servedByHeader() != null) {
            out.set(config.servedByHeader(), endpointId);
        }
        if (sticky != null) {
            out.add("Set-Cookie", sticky.setCookie(endpointId, secure));
        }
    }
}
