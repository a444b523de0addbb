package io.lbkit.spring;

import io.lbkit.session.SessionStore;
import io.lbkit.session.redis.RedisSessionStore;
import java.time.Duration;

/**
 * Builds the Redis store and asks it whether Redis answers. Only this class names lb-session-redis
 * types, so the auto-configuration and the health indicator load without that module on the
 * classpath.
 */
final class RedisStores {

    private RedisStores() {
    }

    static SessionStore create(LbkitProperties.Session p) {
        LbkitProperties.Redis r = p.getRedis();
        return RedisSessionStore.builder()
                .uri(p.getStore().strip())
                .settings(p.settings())
                .keyPrefix(r.getKeyPrefix())
                .commandTimeout(r.getCommandTimeout())
                .connectTimeout(r.getConnectTimeout())
                .nearCache(r.isNearCache())
                .build();
    }

    static boolean isRedis(SessionStore store) {
        return store instanceof RedisSessionStore;
    }

    /** Whether the Redis store's nodes answer PING within {@code timeout}. */
    static boolean ping(SessionStore store, Duration timeout) {
        return ((RedisSessionStore) store).ping(timeout);
    }
}
