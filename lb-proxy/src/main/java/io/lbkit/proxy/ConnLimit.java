package io.lbkit.proxy;

import io.lbkit.core.limit.ConcurrencyLimiter;
import java.util.Objects;

/**
 * One {@code limit_conn} of a route keyed by any request value or a {@link ValueMap}'s result
 * (nginx {@code limit_conn_zone $http_x_api_key zone=...; limit_conn zone N;}): at most
 * {@code limiter.maxConcurrent()} requests of one key in flight on the route, the next refused
 * with {@code limiter.rejectStatus()} (nginx {@code limit_conn_status}, 503 by default). A request
 * whose key is empty is not limited by it, as nginx. Several on one route all apply
 * ({@link Route.Builder#connLimit}); {@link Route.Builder#concurrencyLimiter} is the one keyed by
 * the peer address. Immutable.
 *
 * <pre>{@code
 * Route.builder("api", up)
 *         .connLimit(ConnLimit.of(ConcurrencyLimiter.builder().maxConcurrent(10).rejectStatus(429).build(),
 *                 RequestValue.header("X-Api-Key")))
 *         .build();
 * }</pre>
 */
public final class ConnLimit {

    private final ConcurrencyLimiter limiter;
    private final RequestValue key;
    private final ValueMap map;

    private ConnLimit(ConcurrencyLimiter limiter, RequestValue key, ValueMap map) {
        this.limiter = Objects.requireNonNull(limiter, "limiter");
        this.key = key;
        this.map = map;
    }

    /**
     * Counts requests in flight under {@code key}; {@link RequestValue#clientIp()} is the real
     * client address (behind trusted proxies).
     */
    public static ConnLimit of(ConcurrencyLimiter limiter, RequestValue key) {
        Objects.requireNonNull(key, "key");
        if (key.needsBody()) {
            throw new IllegalArgumentException("a connection limit key cannot read the request body, got " + key);
        }
        return new ConnLimit(limiter, key, null);
    }

    /** Counts requests in flight under the result of {@code map}: an empty result is not limited. */
    public static ConnLimit of(ConcurrencyLimiter limiter, ValueMap map) {
        return new ConnLimit(limiter, null, Objects.requireNonNull(map, "map"));
    }

    public ConcurrencyLimiter limiter() {
        return limiter;
    }

    /** The request value counted under, or null when the key is a map's result. */
    public RequestValue key() {
        return key;
    }

    /** The map whose result is the key, or null. */
    public ValueMap map() {
        return map;
    }

    @Override
    public String toString() {
        return "ConnLimit[" + limiter + " by " + (key != null ? key : map) + "]";
    }
}
