package io.lbkit.proxy.engine;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.Canary;
import io.lbkit.proxy.Route;

/**
 * The upstream that serves a request on a route: the route's own, or its {@link Canary}'s when a
 * canary condition holds or the request falls in the canary's share. Engines ask once per request,
 * before the first pick. Stateless.
 */
public final class UpstreamChoice {

    private UpstreamChoice() {
    }

    /** The upstream for {@code req} on {@code route}. */
    public static Upstream of(Route route, ClientRequest req) {
        Canary canary = route.canary();
        if (canary == null) {
            return route.upstream();
        }
        RequestValues.Slice slice = new RequestValues.Slice();
        for (Canary.Condition c : canary.conditions()) {
            CharSequence v = RequestText.of(c.source(), req, slice);
            if (v != null && c.value().contentEquals(v)) {
                return canary.upstream();
            }
        }
        if (canary.splitKey() != null && canary.inShare(RequestText.of(canary.splitKey(), req, slice))) {
            return canary.upstream();
        }
        return route.upstream();
    }
}
