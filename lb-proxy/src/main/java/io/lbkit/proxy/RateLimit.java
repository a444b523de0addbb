package io.lbkit.proxy;

import io.lbkit.core.limit.RateLimiter;
import io.lbkit.core.limit.SharedRateLimiter;
import java.util.Objects;

/**
 * One {@code limit_req} of a route: a {@link RateLimiter} (its zone: rate, burst, delay or nodelay,
 * status, memory bound) and the key each request is counted under, a request value (nginx
 * {@code limit_req_zone $http_x_api_key ...}) or the result of a {@link ValueMap} (nginx
 * {@code limit_req_zone $rate_limit_tier ...}). A request whose key is empty is not limited by it,
 * as nginx. Several on one route all apply ({@link Route.Builder#rateLimit}); see
 * {@code RateLimitChain} for how they decide together. Immutable.
 *
 * <pre>{@code
 * Route.builder("api", up)
 *         .rateLimit(RateLimit.of(perClient, RequestValue.clientIp()))       // the real client address
 *         .rateLimit(RateLimit.of(perKey, RequestValue.header("X-Api-Key")))
 *         .build();
 * }</pre>
 *
 * <p>A limit made with {@link #shared} keeps its bucket in a store several proxies share (nginx
 * semantics over N instances, e.g. Redis): its decision is asynchronous, and the engines wait for
 * it without holding a thread or a loop. A route with only local limits never waits.
 */
public final class RateLimit {

    private final RateLimiter limiter;
    private final RequestValue key;
    private final ValueMap map;
    private final SharedRateLimiter shared;

    private RateLimit(RateLimiter limiter, RequestValue key, ValueMap map, SharedRateLimiter shared) {
        this.limiter = Objects.requireNonNull(limiter, "limiter");
        this.key = key;
        this.map = map;
        this.shared = shared;
    }

    /**
     * Counts requests under {@code key}; {@link RequestValue#clientIp()} is the real client
     * address (behind trusted proxies, nginx's {@code $binary_remote_addr} after realip).
     */
    public static RateLimit of(RateLimiter limiter, RequestValue key) {
        return new RateLimit(limiter, checked(key), null, null);
    }

    /** Counts requests under the result of {@code map}: an empty result is not limited. */
    public static RateLimit of(RateLimiter limiter, ValueMap map) {
        return new RateLimit(limiter, null, Objects.requireNonNull(map, "map"), null);
    }

    /** Counts requests under {@code key} in a bucket several proxies share ({@code shared}'s store). */
    public static RateLimit shared(SharedRateLimiter shared, RequestValue key) {
        return new RateLimit(Objects.requireNonNull(shared, "shared").local(), checked(key), null, shared);
    }

    /** Counts requests under the result of {@code map} in a bucket several proxies share. */
    public static RateLimit shared(SharedRateLimiter shared, ValueMap map) {
        return new RateLimit(Objects.requireNonNull(shared, "shared").local(), null, Objects.requireNonNull(map, "map"),
                shared);
    }

    private static RequestValue checked(RequestValue key) {
        Objects.requireNonNull(key, "key");
        if (key.needsBody()) {
            throw new IllegalArgumentException("a rate limit key cannot read the request body, got " + key);
        }
        return key;
    }

    /** The limit's settings; for a shared limit, also the bucket that decides when its store cannot. */
    public RateLimiter limiter() {
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

    /** The shared bucket that decides this limit, or null for a limit decided in this process. */
    public SharedRateLimiter shared() {
        return shared;
    }

    @Override
    public String toString() {
        return "RateLimit[" + (shared != null ? shared : limiter) + " by " + (key != null ? key : map) + "]";
    }
}
