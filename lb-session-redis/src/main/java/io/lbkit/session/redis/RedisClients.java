package io.lbkit.session.redis;

import io.lbkit.session.SessionStoreException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.redisson.Redisson;
import org.redisson.api.NodeType;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.BaseConfig;
import org.redisson.config.BaseMasterSlaveServersConfig;
import org.redisson.config.ClusterServersConfig;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;
import org.redisson.config.ReadMode;
import org.redisson.config.SentinelServersConfig;
import org.redisson.config.SingleServerConfig;
import org.redisson.config.SubscriptionMode;
import org.redisson.connection.ConnectionListener;

/**
 * The Redisson clients a {@link RedisSessionStore} makes for itself, and what it sets on a
 * server. Every client reads from masters only ({@code ReadMode.MASTER}: loads are plain reads,
 * and a replica could answer with a session that was just changed or deleted), uses the script
 * cache (EVALSHA), pings every second and reconnects after 200 ms.
 */
final class RedisClients {

    /** Reply and connect timeouts and the retries of a command that failed to send or timed out. */
    record Timeouts(Duration command, Duration connect, int retryAttempts, Duration retryDelay) {
    }

    private RedisClients() {
    }

    static Config standalone(RedisUri uri, Timeouts timeouts) {
        Config config = base();
        if (uri.user() != null) {
            config.setUsername(uri.user());
        }
        if (uri.password() != null) {
            config.setPassword(uri.password());
        }
        SingleServerConfig s = config.useSingleServer()
                .setAddress(uri.address())
                .setDatabase(uri.database())
                .setConnectionMinimumIdleSize(2)
                .setConnectionPoolSize(32)
                .setSubscriptionConnectionPoolSize(4);
        apply(s, timeouts);
        return config;
    }

    static Config cluster(List<String> nodeAddresses, Timeouts timeouts) {
        Config config = base();
        ClusterServersConfig c = config.useClusterServers().setScanInterval(1000);
        nodeAddresses.forEach(a -> c.addNodeAddress(address(a)));
        mastersOnly(c);
        apply(c, timeouts);
        return config;
    }

    static Config sentinel(String masterName, int database, List<String> sentinelAddresses, Timeouts timeouts) {
        Config config = base();
        SentinelServersConfig s = config.useSentinelServers()
                .setMasterName(masterName)
                .setDatabase(database)
                .setCheckSentinelsList(false)
                .setScanInterval(1000);
        sentinelAddresses.forEach(a -> s.addSentinelAddress(address(a)));
        mastersOnly(s);
        apply(s, timeouts);
        return config;
    }

    /**
     * Clears {@code nearCache} on every connect and disconnect of the client: any connection
     * event may mean missed invalidations.
     */
    static void clearOnConnectionEvents(Config config, NearCache nearCache) {
        config.setConnectionListener(new ConnectionListener() {
            @Override
            public void onConnect(InetSocketAddress addr, NodeType type) {
                nearCache.clear();
            }

            @Override
            public void onDisconnect(InetSocketAddress addr, NodeType type) {
                nearCache.clear();
            }

            // Redisson 4 still declares these abstract (deprecated) and calls the NodeType
            // overloads above; implemented for completeness
            @Override
            @SuppressWarnings("deprecation")
            public void onConnect(InetSocketAddress addr) {
                nearCache.clear();
            }

            @Override
            @SuppressWarnings("deprecation")
            public void onDisconnect(InetSocketAddress addr) {
                nearCache.clear();
            }
        });
    }

    /** @throws SessionStoreException when Redis cannot be reached */
    static RedissonClient connect(Config config) {
        try {
            return Redisson.create(config);
        } catch (RuntimeException e) {
            throw RedisCalls.failure("connect", e);
        }
    }

    /**
     * Adds {@code E} and {@code x} to {@code notify-keyspace-events} on the master(s), keeping
     * what is set: Redis then publishes {@code __keyevent@<db>__:expired}.
     */
    static void enableExpiredNotifications(RedissonClient client) {
        Config config = client.getConfig();
        if (config.isClusterConfig()) {
            client.getRedisNodes(RedisNodes.CLUSTER).getMasters().forEach(RedisClients::addExpiredFlag);
        } else if (config.isSentinelConfig()) {
            addExpiredFlag(client.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE).getMaster());
        } else {
            addExpiredFlag(client.getRedisNodes(RedisNodes.SINGLE).getInstance());
        }
    }

    private static void addExpiredFlag(RedisNode node) {
        String flags = node.getConfig("notify-keyspace-events").getOrDefault("notify-keyspace-events", "");
        boolean hasE = flags.indexOf('E') >= 0;
        boolean hasX = flags.indexOf('x') >= 0 || flags.indexOf('A') >= 0;
        if (!hasE || !hasX) {
            node.setConfig("notify-keyspace-events", flags + (hasE ? "" : "E") + (hasX ? "" : "x"));
        }
    }

    private static Config base() {
        Config config = new Config();
        config.setCodec(StringCodec.INSTANCE);
        config.setUseScriptCache(true);
        config.setNettyThreads(4);
        return config;
    }

    /** Reads and subscriptions on the master(s), with the pool a standalone server gets. */
    private static void mastersOnly(BaseMasterSlaveServersConfig<?> c) {
        c.setReadMode(ReadMode.MASTER)
                .setSubscriptionMode(SubscriptionMode.MASTER)
                .setMasterConnectionMinimumIdleSize(2)
                .setMasterConnectionPoolSize(32);
    }

    private static void apply(BaseConfig<?> c, Timeouts t) {
        c.setTimeout((int) t.command().toMillis())
                .setConnectTimeout((int) t.connect().toMillis())
                .setRetryAttempts(t.retryAttempts())
                .setRetryDelay(new ConstantDelay(t.retryDelay()))
                .setReconnectionDelay(new ConstantDelay(Duration.ofMillis(200)))
                .setPingConnectionInterval(1000)
                .setSubscriptionTimeout((int) Math.max(2000, t.command().toMillis()));
    }

    private static String address(String a) {
        if (a == null || a.isBlank()) {
            throw new IllegalArgumentException("Redis node address must be host:port, got '" + a + "'");
        }
        return a.startsWith("redis://") || a.startsWith("rediss://") ? a : "redis://" + a;
    }
}
