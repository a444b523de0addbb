package io.lbkit.session.redis;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.BaseRedisNodes;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.config.Config;

/** PING on every node a Redisson client uses, whatever its topology: the health check of the store. */
final class RedisPing {

    private RedisPing() {
    }

    /** Whether every node answered PING within {@code timeout}; false (never an exception) otherwise. */
    static boolean all(RedissonClient client, Duration timeout) {
        try {
            return nodes(client).pingAll(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            // a node that is down or a client that is shutting down: not available
            return false;
        }
    }

    private static BaseRedisNodes nodes(RedissonClient client) {
        Config config = client.getConfig();
        if (config.isClusterConfig()) {
            return client.getRedisNodes(RedisNodes.CLUSTER);
        }
        if (config.isSentinelConfig()) {
            return client.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE);
        }
        if (config.isSingleConfig()) {
            return client.getRedisNodes(RedisNodes.SINGLE);
        }
        return client.getRedisNodes(RedisNodes.MASTER_SLAVE);
    }
}
