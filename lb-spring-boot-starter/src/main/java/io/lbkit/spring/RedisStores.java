package io.lbkit.spring;

import io.lbkit.session.SessionStore;
import io.lbkit.session.redis.RedisSessionStore;
import io.lbkit.session.redis.RedisSessionStoreBuilder;
import java.time.Duration;
import java.util.List;
import org.redisson.api.RedissonClient;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.core.env.Environment;

/**
 * Builds the Redis store and asks it whether Redis answers. Only this class names lb-session-redis
 * types, so the auto-configuration and the health indicator load without that module on the
 * classpath.
 */
final class RedisStores {

    private RedisStores() {
    }

    /**
     * The Redis store. A URI in {@code lbkit.session.store} names the server; {@code redis} takes
     * the app's own Redis, first found of: {@code lbkit.session.redis.sentinel.*} or
     * {@code .cluster.nodes}; the app's one {@link RedissonClient} bean (shared, not closed with the
     * store); Spring Data Redis's {@code spring.data.redis.*} (url, else sentinel, else cluster,
     * else host, port, username, password, database, ssl.enabled; the defaults are Spring's,
     * localhost:6379).
     */
    static SessionStore create(LbkitProperties.Session p, Environment env, ListableBeanFactory beans) {
        LbkitProperties.Redis r = p.getRedis();
        RedisSessionStoreBuilder b = RedisSessionStore.builder()
                .settings(p.settings())
                .keyPrefix(r.getKeyPrefix())
                .commandTimeout(r.getCommandTimeout())
                .connectTimeout(r.getConnectTimeout())
                .nearCache(r.isNearCache());
        if (!p.isAppRedis()) {
            return b.uri(p.getStore().strip()).build();
        }
        if (r.getSentinel().getMaster() != null) {
            return b.sentinel(r.getSentinel().getMaster(), r.getSentinel().getNodes()).build();
        }
        if (!r.getCluster().getNodes().isEmpty()) {
            return b.cluster(r.getCluster().getNodes()).build();
        }
        RedissonClient client = beans.getBeanProvider(RedissonClient.class).getIfUnique();
        if (client != null) {
            return b.client(client).build();
        }
        return springDataRedis(b, env).build();
    }

    private static RedisSessionStoreBuilder springDataRedis(RedisSessionStoreBuilder b, Environment env) {
        String prefix = "spring.data.redis.";
        String url = env.getProperty(prefix + "url");
        if (url != null && !url.isBlank()) {
            return b.uri(url.strip());
        }
        String user = env.getProperty(prefix + "username");
        String password = env.getProperty(prefix + "password");
        String master = env.getProperty(prefix + "sentinel.master");
        String[] cluster = env.getProperty(prefix + "cluster.nodes", String[].class);
        if (master != null || cluster != null && cluster.length > 0) {
            if (user != null) {
                b.username(user);
            }
            if (password != null) {
                b.password(password);
            }
            return master != null
                    ? b.sentinel(master, List.of(env.getProperty(prefix + "sentinel.nodes", String[].class, new String[0])))
                    : b.cluster(List.of(cluster));
        }
        boolean ssl = env.getProperty(prefix + "ssl.enabled", Boolean.class, false);
        String host = env.getProperty(prefix + "host", "localhost");
        int port = env.getProperty(prefix + "port", Integer.class, 6379);
        int database = env.getProperty(prefix + "database", Integer.class, 0);
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host; // an IPv6 literal
        String credentials = password == null ? "" : (user == null ? "" : encode(user)) + ":" + encode(password) + "@";
        return b.uri((ssl ? "rediss://" : "redis://") + credentials + h + ":" + port + "/" + database);
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    static boolean isRedis(SessionStore store) {
        return store instanceof RedisSessionStore;
    }

    /** Whether the Redis store's nodes answer PING within {@code timeout}. */
    static boolean ping(SessionStore store, Duration timeout) {
        return ((RedisSessionStore) store).ping(timeout);
    }
}
