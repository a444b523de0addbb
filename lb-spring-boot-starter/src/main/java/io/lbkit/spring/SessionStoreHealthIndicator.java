package io.lbkit.spring;

import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionStore;
import java.time.Duration;
import java.util.Objects;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.util.ClassUtils;

/**
 * The health of the session store behind {@code request.getSession()}: for the Redis store, UP
 * while every Redis node it uses answers PING within the timeout and DOWN otherwise; the in-memory
 * store is always UP; any other store is UP (it says nothing of its availability). The details
 * name the kind of store ({@code redis}, {@code memory} or the store's class), never its address
 * or credentials.
 */
public final class SessionStoreHealthIndicator extends AbstractHealthIndicator {

    private final SessionStore store;
    private final Duration pingTimeout;
    private final boolean redis;

    /**
     * @param store the store to watch
     * @param pingTimeout how long each Redis node may take to answer PING
     */
    public SessionStoreHealthIndicator(SessionStore store, Duration pingTimeout) {
        super("lbkit session store health check failed");
        Objects.requireNonNull(store, "store");
        // the store's own health, not its meters' (the starter wraps its store when the app has Micrometer)
        this.store = ClassUtils.isPresent(LbkitMetricsAutoConfiguration.METER_REGISTRY, store.getClass().getClassLoader())
                ? LbkitMetricsAutoConfiguration.unmetered(store) : store;
        this.pingTimeout = Objects.requireNonNull(pingTimeout, "pingTimeout");
        this.redis = ClassUtils.isPresent(LbkitSessionAutoConfiguration.REDIS_STORE_CLASS, this.store.getClass().getClassLoader())
                && RedisStores.isRedis(this.store);
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        if (redis) {
            builder.withDetail("store", "redis");
            if (RedisStores.ping(store, pingTimeout)) {
                builder.up();
            } else {
                builder.down().withDetail("error", "Redis did not answer PING within " + pingTimeout.toMillis() + " ms");
            }
        } else if (store instanceof InMemorySessionStore) {
            builder.up().withDetail("store", "memory");
        } else {
            builder.up().withDetail("store", store.getClass().getName());
        }
    }
}
