package io.lbkit.spring;

import static io.lbkit.spring.BootApps.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.session.SessionStore;
import io.lbkit.testing.RedisServers;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The session store's health in Actuator's {@code /actuator/health}, read over HTTP from a real
 * app: a real Redis server stopped makes it DOWN (and the app's health 503), started again UP.
 */
class SessionHealthIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] ACTUATOR = {"management.endpoints.web.exposure.include=health",
        "management.endpoint.health.show-details=always", "management.endpoint.health.show-components=always"};

    @Test
    void redisStoppedIsDownAndStartedAgainIsUp() throws Exception {
        try (RedisServers.ProcessServer redis = RedisServers.process()) {
            try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class), with(
                    "lbkit.session.store=" + redis.url(), "lbkit.session.redis.command-timeout=500ms"))) {
                HttpResponse<String> up = get(app, "/actuator/health", Map.of());
                assertEquals(200, up.statusCode(), up.body());
                JsonNode session = JSON.readTree(up.body()).path("components").path("lbkitSession");
                assertEquals("UP", session.path("status").asText(), up.body());
                assertEquals("redis", session.path("details").path("store").asText(), up.body());
                assertFalse(up.body().contains(Integer.toString(redis.port())), "the details name no address: " + up.body());

                redis.kill();
                HttpResponse<String> down = get(app, "/actuator/health", Map.of());
                assertEquals(503, down.statusCode(), down.body());
                JsonNode downSession = JSON.readTree(down.body()).path("components").path("lbkitSession");
                assertEquals("DOWN", downSession.path("status").asText(), down.body());
                assertTrue(downSession.path("details").path("error").asText().contains("PING"), down.body());

                redis.start();
                // the client reconnects in the background: poll the endpoint until it says UP
                assertTrue(RedisServers.await(15_000, () -> "UP".equals(status(app, "/actuator/health/lbkitSession"))),
                        "still " + status(app, "/actuator/health/lbkitSession") + " after Redis came back");
                assertEquals(200, get(app, "/actuator/health", Map.of()).statusCode());
            }
        }
    }

    @Test
    void theInMemoryStoreIsUp() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class), ACTUATOR)) {
            HttpResponse<String> r = get(app, "/actuator/health/lbkitSession", Map.of());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode body = JSON.readTree(r.body());
            assertEquals("UP", body.path("status").asText(), r.body());
            assertEquals("memory", body.path("details").path("store").asText(), r.body());
        }
    }

    @Test
    void offByPropertyOrWithoutASessionStoreThereIsNoIndicator() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                with("management.health.lbkit-session.enabled=false"))) {
            assertTrue(app.getBeansOfType(SessionStoreHealthIndicator.class).isEmpty());
            assertEquals(1, app.getBeansOfType(SessionStore.class).size());
            assertEquals(404, get(app, "/actuator/health/lbkitSession", Map.of()).statusCode());
        }
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                with("lbkit.session.enabled=false"))) {
            assertTrue(app.getBeansOfType(SessionStoreHealthIndicator.class).isEmpty());
            assertEquals(200, get(app, "/actuator/health", Map.of()).statusCode());
        }
    }

    @Test
    void withoutActuatorTheStarterStartsWithoutTheIndicator() throws Exception {
        ClassLoader withoutHealth = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.startsWith("org.springframework.boot.health.") || name.startsWith("org.springframework.boot.actuate.")) {
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }

            @Override
            public java.util.Enumeration<java.net.URL> getResources(String name) throws java.io.IOException {
                // nor their auto-configuration lists: as if those jars were absent
                List<java.net.URL> kept = new java.util.ArrayList<>();
                for (java.net.URL u : java.util.Collections.list(super.getResources(name))) {
                    if (!u.toString().matches(".*/spring-boot-(actuator|health|micrometer)[^/]*\\.jar!.*")) {
                        kept.add(u);
                    }
                }
                return java.util.Collections.enumeration(kept);
            }
        };
        try (ConfigurableApplicationContext app = BootApps.start(withoutHealth, List.of(TestApp.class))) {
            assertTrue(app.getBeansOfType(SessionStore.class).size() == 1);
            assertFalse(app.containsBean("lbkitSessionHealthIndicator"));
            assertEquals("count=1", get(app, "/count", Map.of()).body().split(" ")[0]);
        }
    }

    private static String[] with(String... properties) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(ACTUATOR), java.util.Arrays.stream(properties))
                .toArray(String[]::new);
    }

    private static String status(ConfigurableApplicationContext app, String path) {
        try {
            return JSON.readTree(get(app, path, Map.of()).body()).path("status").asText();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
