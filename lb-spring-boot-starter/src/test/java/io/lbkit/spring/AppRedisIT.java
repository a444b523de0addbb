package io.lbkit.spring;

import static io.lbkit.spring.BootApps.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.session.redis.RedisSessionStore;
import io.lbkit.testing.RedisServers;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code lbkit.session.store: redis}: the app's own Redis settings, each with a real Redis: Spring
 * Data Redis's {@code spring.data.redis.*}, the app's Redisson client (shared, left open when the
 * store closes), Sentinel from lbkit's properties; and the settings that cannot work refused at
 * start-up, naming the property.
 */
class AppRedisIT {

    /** Two requests of one session through the app; answers the session id after checking its key is in Redis. */
    private static String sessionKeptIn(ConfigurableApplicationContext app, RedisServers.Server redis) throws Exception {
        return sessionKeptIn(app, redis, 0);
    }

    private static String sessionKeptIn(ConfigurableApplicationContext app, RedisServers.Server redis, int db)
            throws Exception {
        HttpResponse<String> first = get(app, "/count", Map.of());
        String id = first.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0].substring("LBSESSION=".length());
        assertTrue(get(app, "/count", Map.of("Cookie", "LBSESSION=" + id)).body().startsWith("count=2 "));
        RedisSessionStore store = assertInstanceOf(RedisSessionStore.class, BootApps.store(app));
        assertEquals("1", redis.cli("-n", Integer.toString(db), "EXISTS", store.keyOf(id)).trim(),
                "the session is in this Redis, database " + db);
        return id;
    }

    @Test
    void springDataRedisSettings() throws Exception {
        try (RedisServers.Server redis = RedisServers.standalone();
             ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class), "lbkit.session.store=redis",
                     "spring.data.redis.host=" + redis.host(), "spring.data.redis.port=" + redis.port(),
                     "spring.data.redis.database=3")) {
            String id = sessionKeptIn(app, redis, 3);
            assertEquals("0", redis.cli("EXISTS", "lbkit:session:" + id).trim(), "not in database 0");
        }
    }

    /** The app's Redisson client. */
    @Configuration(proxyBeanMethods = false)
    static class AppsRedisson {
        static String url;

        @Bean(destroyMethod = "shutdown")
        RedissonClient appRedisson() {
            Config c = new Config();
            c.useSingleServer().setAddress(url);
            return Redisson.create(c);
        }
    }

    @Test
    void theAppsRedissonClientIsSharedAndLeftOpen() throws Exception {
        try (RedisServers.Server redis = RedisServers.standalone()) {
            AppsRedisson.url = redis.url();
            try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class, AppsRedisson.class),
                    "lbkit.session.store=redis", "spring.data.redis.port=1")) { // Spring Data's settings lose to the client
                sessionKeptIn(app, redis);
                RedissonClient client = app.getBean(RedissonClient.class);
                BootApps.store(app).close();
                assertFalse(client.isShutdown(), "the store does not shut down the app's client");
            }
        }
    }

    @Test
    void sentinelFromLbkitsProperties() throws Exception {
        try (RedisServers.Sentinel sentinel = RedisServers.sentinel();
             ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class), "lbkit.session.store=redis",
                     "lbkit.session.redis.sentinel.master=" + RedisServers.Sentinel.MASTER,
                     "lbkit.session.redis.sentinel.nodes=" + sentinel.sentinelAddress())) {
            sessionKeptIn(app, sentinel.master());
        }
    }

    @Test
    void settingsThatCannotWorkFailStartUpNamingTheProperty() {
        SessionAutoConfigurationIT.assertStartFails("lbkit.session.redis.sentinel",
                "lbkit.session.store=redis", "lbkit.session.redis.sentinel.master=m");
        SessionAutoConfigurationIT.assertStartFails("lbkit.session.redis.sentinel and lbkit.session.redis.cluster",
                "lbkit.session.store=redis", "lbkit.session.redis.sentinel.master=m",
                "lbkit.session.redis.sentinel.nodes=127.0.0.1:1", "lbkit.session.redis.cluster.nodes=127.0.0.1:2");
        SessionAutoConfigurationIT.assertStartFails("lbkit.session.store=redis",
                "lbkit.session.store=redis://127.0.0.1:1", "lbkit.session.redis.cluster.nodes=127.0.0.1:2");
    }
}
