package io.lbkit.proxy.engine;

import io.lbkit.proxy.ConnLimit;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;

/**
 * The slots one request holds in a route's keyed connection limits ({@link Route#connLimits()},
 * nginx {@code limit_conn} with any key): taken in the route's order, all or none. Given back by
 * {@link #release()}, once, through the request's {@link Limits.Permit}.
 */
final class ConnSlots {

    private final ConnLimit[] limits;
    private final String[] keys;
    private final int status; // of the refusing limit, 0 when every slot was taken

    private ConnSlots(ConnLimit[] limits, String[] keys, int status) {
        this.limits = limits;
        this.keys = keys;
        this.status = status;
    }

    /**
     * Takes a slot of each of {@code route}'s keyed connection limits; when one has none left,
     * gives back those taken and answers a refusal ({@link #refused()}, {@link #status()}).
     */
    static ConnSlots take(ProxyConfig config, Route route, ClientOrigin origin, ClientRequest req,
                          RequestValues.Slice slice) {
        ConnLimit[] limits = route.connLimits();
        String[] keys = new String[limits.length];
        for (int i = 0; i < limits.length; i++) {
            keys[i] = Limits.keyOf(config, limits[i].key(), limits[i].map(), origin, req, slice);
            if (!limits[i].limiter().tryAcquire(keys[i])) {
                for (int j = 0; j < i; j++) {
                    limits[j].limiter().release(keys[j]);
                }
                return new ConnSlots(limits, keys, limits[i].limiter().rejectStatus());
            }
        }
        return new ConnSlots(limits, keys, 0);
    }

    boolean refused() {
        return status != 0;
    }

    int status() {
        return status;
    }

    /** Gives every slot back (a refusal holds none); the permit calls it once. */
    void release() {
        if (status != 0) {
            return;
        }
        for (int i = 0; i < limits.length; i++) {
            limits[i].limiter().release(keys[i]);
        }
    }
}
