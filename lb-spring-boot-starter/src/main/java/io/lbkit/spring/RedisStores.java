package io.lbkit.spring;

import io.lbkit.session.SessionStore;
import io.lbkit.session.redis.RedisSessionStore;

/**
 * Builds the Redis store. Only this class names lb-session-redis types, so the auto-configuration
 * loads without that module on the classpath.
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
}
