package io.lbkit.spring;

import static io.lbkit.spring.BootApps.cookie;
import static io.lbkit.spring.BootApps.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.session.SessionStore;
import io.lbkit.session.redis.RedisSessionStore;
import io.lbkit.testing.RedisServers;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two instances of one Spring Boot app share their sessions through a real Redis server
 * ({@code lbkit.session.store: redis://...}), as two backends behind a load balancer do.
 */
class RedisSessionsIT {

    @Test
    void anUnreachableRedisFailsStartUpNamingTheProperty() {
        int port = RedisServers.freePort();   // nothing listens there
        String m = SessionAutoConfigurationIT.assertStartFails("lbkit.session.store",
                "lbkit.session.store=redis://:not-this-one@127.0.0.1:" + port,
                "lbkit.session.redis.connect-timeout=500ms");
        assertTrue(m.contains("redis://****@127.0.0.1:" + port), m);
        assertTrue(!m.contains("not-this-one"), m);
    }

    @Test
    void twoAppInstancesShareSessionsThroughRedis() throws Exception {
        try (RedisServers.Server redis = RedisServers.standalone()) {
            String[] props = {"lbkit.session.store=" + redis.url(), "lbkit.session.redis.key-prefix=boot:session:",
                "lbkit.session.idle-timeout=20m", "lbkit.instance-id.enabled=true"};
            try (ConfigurableApplicationContext a = BootApps.start(List.of(TestApp.class), props);
                 ConfigurableApplicationContext b = BootApps.start(List.of(TestApp.class), props)) {
                SessionStore storeA = BootApps.store(a);
                assertInstanceOf(RedisSessionStore.class, storeA);

                HttpResponse<String> first = get(a, "/count", Map.of());
                String id = cookie(first, "LBSESSION");
                assertNotNull(id, "Set-Cookie: " + first.headers().allValues("Set-Cookie"));
                assertEquals("count=1 id=" + id + " timeout=1200", first.body());

                HttpResponse<String> second = get(b, "/count", Map.of("Cookie", "LBSESSION=" + id));
                assertEquals("count=2 id=" + id + " timeout=1200", second.body());
                // two instances answered: the instance-id header says which
                String instanceA = first.headers().firstValue("X-Instance-ID").orElseThrow();
                String instanceB = second.headers().firstValue("X-Instance-ID").orElseThrow();
                assertTrue(!instanceA.equals(instanceB), instanceA + " vs " + instanceB);

                assertEquals("count=3 id=" + id + " timeout=1200",
                        get(a, "/count", Map.of("Cookie", "LBSESSION=" + id)).body());

                String key = ((RedisSessionStore) storeA).keyOf(id);
                assertTrue(key.startsWith("boot:session:"), key);
                assertEquals("1", redis.cli("EXISTS", key).strip());
                long ttl = Long.parseLong(redis.cli("TTL", key).strip());
                assertTrue(ttl > 0 && ttl <= 1200, "TTL " + ttl);
                assertEquals(3, b.getBean(SessionStore.class).load(id).orElseThrow().attribute("count").intValue());
            }
        }
    }
}
