package io.lbkit.server.config;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.AddedHeaders;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.Map;

/**
 * The traffic policy of a {@code serve} file at the edge: added response headers (nginx
 * {@code add_header}) and {@code allow}/{@code deny} rules, at the top level (nginx's
 * {@code server}) and per route (its {@code location}). Read by {@link EdgePolicyReader}.
 *
 * @param top    the top level's settings
 * @param routes each route's own settings by route name; a route not listed has none of its own
 */
public record EdgePolicy(Level top, Map<String, Level> routes) {

    /** No policy anywhere. */
    public static final EdgePolicy NONE = new EdgePolicy(new Level(null, null), Map.of());

    public EdgePolicy {
        routes = Map.copyOf(routes);
    }

    /**
     * The settings of one level.
     *
     * @param headers the level's added headers, or null when it sets none (a route then inherits)
     * @param access  the level's allow/deny rules, or null when it sets none (a route then inherits)
     */
    public record Level(AddedHeaders headers, CidrRules access) {
    }

    /** Sets the top level's policy on the proxy's configuration. */
    public void applyTo(ProxyConfig.Builder proxy) {
        if (top.headers() != null) {
            proxy.addedHeaders(top.headers());
        }
        proxy.access(top.access());
    }

    /** Sets route {@code name}'s own policy, if it has one, on its builder. */
    public void applyTo(String name, Route.Builder route) {
        Level own = routes.get(name);
        if (own != null) {
            route.addedHeaders(own.headers()).access(own.access());
        }
    }
}
