package io.lbkit.proxy.engine;

import io.lbkit.proxy.AddedHeaders;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.List;

/**
 * Writes the added response fields (nginx {@code add_header}) onto an answer the client gets: a
 * proxied response or the proxy's own. Stateless; allocates nothing.
 *
 * <pre>{@code
 * AddedHeaderRules.apply(config, route, status, origin.scheme(), sink);   // before the head goes out
 * }</pre>
 */
public final class AddedHeaderRules {

    private AddedHeaderRules() {
    }

    /**
     * The fields an answer on {@code route} gets: the route's own when it has any (even
     * {@link AddedHeaders#none()}), else the proxy's (nginx's inheritance); null for none.
     *
     * @param route the route, or null for an answer no route is known for
     */
    public static AddedHeaders effective(ProxyConfig config, Route route) {
        AddedHeaders h = route != null && route.addedHeaders() != null ? route.addedHeaders() : config.addedHeaders();
        return h == null || h.isEmpty() ? null : h;
    }

    /**
     * Adds the fields that go on an answer of {@code status}: those with {@code always}, and the
     * others on 200, 201, 204, 206, 301, 302, 303, 304, 307, 308; TLS-only ones only when
     * {@code scheme} is {@code https} (this connection's, not a forwarded one).
     *
     * @param route  the route, or null for an answer no route is known for
     * @param scheme the connection's scheme ({@code http} or {@code https}), or null for http
     */
    public static void apply(ProxyConfig config, Route route, int status, String scheme, HeaderSink out) {
        AddedHeaders h = effective(config, route);
        if (h == null) {
            return;
        }
        boolean success = AddedHeaders.successOrRedirect(status);
        boolean tls = "https".equalsIgnoreCase(scheme);
        List<AddedHeaders.Field> fields = h.fields();
        for (int i = 0, n = fields.size(); i < n; i++) {
            AddedHeaders.Field f = fields.get(i);
            if ((f.always() || success) && (tls || !f.tlsOnly())) {
                out.add(f.name(), f.value());
            }
        }
    }
}
