package io.lbkit.proxy.engine;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.GeoBlock;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;

/**
 * nginx's {@code allow} / {@code deny} (ngx_http_access_module) for one request: the route's
 * rules when it has any, else the proxy's (nginx's inheritance: a level with rules of its own does
 * not add the outer ones); first match wins, no match allows; the address checked is the real
 * client's ({@link RealClientAddress}). A refusal is 403. Stateless.
 */
public final class AccessRules {

    /** The status of a denied request. */
    public static final int STATUS = CidrRules.DENY_STATUS;

    /** The log text of a denied request (nginx: "access forbidden by rule"). */
    public static final String FORBIDDEN = "access forbidden by rule";

    private AccessRules() {
    }

    /** The rules a request on {@code route} is checked against, or null for none. */
    public static CidrRules effective(ProxyConfig config, Route route) {
        return route != null && route.access() != null ? route.access() : config.access();
    }

    /**
     * Whether a geo block refuses {@code req} (the route's, else the proxy's): the real client
     * address looked up in its table gives a blocked value. Checked before the limits, as nginx's
     * {@code if (...) { return 403; }} runs in the rewrite phase, before limit_req.
     */
    public static boolean geoBlocked(ProxyConfig config, Route route, ClientOrigin origin, ClientRequest req) {
        GeoBlock block = route != null && route.geoBlock() != null ? route.geoBlock() : config.geoBlock();
        if (block == null) {
            return false;
        }
        byte[] client = RealClientAddress.of(origin, req, config.trustedProxies());
        return client != null && block.values().contains(block.table().lookup(client));
    }

    /** Whether {@code req} from {@code origin} may use {@code route}. */
    public static boolean allowed(ProxyConfig config, Route route, ClientOrigin origin, ClientRequest req) {
        CidrRules rules = effective(config, route);
        if (rules == null) {
            return true;
        }
        byte[] client = RealClientAddress.of(origin, req, config.trustedProxies());
        return client == null ? rules.defaultAction() == CidrRules.Action.ALLOW : rules.isAllowed(client);
    }
}
