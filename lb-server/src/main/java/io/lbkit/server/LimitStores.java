package io.lbkit.server;

import io.lbkit.proxy.RateLimit;
import io.lbkit.config.EdgePolicy;
import io.lbkit.session.redis.RedisLimitStore;
import io.lbkit.session.redis.RedisRateLimiter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stores of a {@code serve} file's shared rate limits ({@code zone: { store: redis://... }}):
 * one Redis client per store URI, made when a route first names it and kept across reloads, closed
 * when the server stops. A limit named again by a reload gets a new {@link RedisRateLimiter} on the
 * same client (its bucket is in Redis: nothing is lost).
 */
final class LimitStores implements AutoCloseable {

    private final Map<String, RedisLimitStore> stores = new ConcurrentHashMap<>();

    /** The shared form of {@code local}: its settings and key, its bucket in {@code zone}'s store. */
    RateLimit share(EdgePolicy.SharedZone zone, RateLimit local) {
        RedisLimitStore store = stores.computeIfAbsent(zone.store(), RedisLimitStore::connect);
        RedisRateLimiter shared = store.limiter(zone.name(), local.limiter(), zone.failOpen());
        return local.map() != null ? RateLimit.shared(shared, local.map()) : RateLimit.shared(shared, local.key());
    }

    @Override
    public void close() {
        stores.values().forEach(RedisLimitStore::close);
        stores.clear();
    }
}
