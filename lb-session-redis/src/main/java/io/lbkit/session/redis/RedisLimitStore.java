package io.lbkit.session.redis;

import io.lbkit.core.limit.RateLimiter;
import java.time.Duration;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * One Redis server that keeps the buckets of shared rate limits ({@link RedisRateLimiter}): a
 * Redisson client made for decisions that must come back fast or fail fast, since a request waits
 * for them. Commands time out after {@code commandTimeout} (default 250 ms) and are not retried,
 * so during an outage each decision falls back (fail open) after at most that long. The client
 * connects lazily: a proxy starts while Redis is down, and its limits fail open until it answers.
 *
 * <pre>{@code
 * try (RedisLimitStore store = RedisLimitStore.connect("redis://10.0.0.5:6379")) {
 *     RedisRateLimiter api = store.limiter("api", RateLimiter.builder().rate("10r/s").build(), true);
 * }
 * }</pre>
 */
public final class RedisLimitStore implements AutoCloseable {

    /** How long a decision waits for Redis by default before the limit decides without it. */
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMillis(250);

    private final RedissonClient client;
    private final String uri;

    private RedisLimitStore(RedissonClient client, String uri) {
        this.client = client;
        this.uri = uri;
    }

    /** A store on the standalone server {@code uri} ({@code redis://[[user]:password@]host:port[/db]}, {@code rediss://}). */
    public static RedisLimitStore connect(String uri) {
        return connect(uri, DEFAULT_COMMAND_TIMEOUT);
    }

    /**
     * A store whose commands time out after {@code commandTimeout}.
     *
     * @throws IllegalArgumentException naming the part of {@code uri} that is wrong
     */
    public static RedisLimitStore connect(String uri, Duration commandTimeout) {
        RedisUri u = RedisUri.parse(uri);
        Config config = RedisClients.standalone(u,
                new RedisClients.Timeouts(commandTimeout, commandTimeout, 0, Duration.ofMillis(50)));
        config.setLazyInitialization(true);
        return new RedisLimitStore(RedisClients.connect(config), u.toString());
    }

    /**
     * A limit with {@code local}'s settings whose bucket is {@code lbkit:limit:ZONE:KEY} on this
     * server; {@code failOpen}: {@link RedisRateLimiter.Builder#failOpen(boolean)}.
     */
    public RedisRateLimiter limiter(String zone, RateLimiter local, boolean failOpen) {
        return RedisRateLimiter.builder(client, local).zone(zone).failOpen(failOpen).build();
    }

    /** Shuts the client down; the limiters made here then decide as when Redis is unreachable. */
    @Override
    public void close() {
        client.shutdown();
    }

    @Override
    public String toString() {
        return "RedisLimitStore[" + uri + "]";
    }
}
