package io.lbkit.spring;

import static io.lbkit.spring.BootApps.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.MeteredSessionStore;
import io.lbkit.session.SessionStore;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The session store's calls on the app's MeterRegistry, read over HTTP from Actuator's metrics
 * endpoint of a real app on embedded Tomcat, after real requests that use the session.
 */
class SessionMetricsIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static double count(ConfigurableApplicationContext app, String... tags) throws Exception {
        StringBuilder q = new StringBuilder("/actuator/metrics/" + MeteredSessionStore.CALLS + "?");
        for (String t : tags) {
            q.append("tag=").append(t).append('&');
        }
        HttpResponse<String> r = get(app, q.toString(), Map.of());
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode m : JSON.readTree(r.body()).path("measurements")) {
            if (m.path("statistic").asText().equals("COUNT")) {
                return m.path("value").asDouble();
            }
        }
        throw new AssertionError("no COUNT in " + r.body());
    }

    @Test
    void requestsThatUseTheSessionShowAsStoreCallsAndTheHealthStillNamesTheStore() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "management.endpoints.web.exposure.include=health,metrics",
                "management.endpoint.health.show-details=always")) {
            SessionStore store = app.getBean(SessionStore.class);
            MeteredSessionStore metered = assertInstanceOf(MeteredSessionStore.class, store);
            assertInstanceOf(InMemorySessionStore.class, metered.delegate());

            HttpResponse<String> first = get(app, "/count", Map.of());
            assertTrue(first.body().startsWith("count=1"), first.body());
            String cookie = first.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
            HttpResponse<String> second = get(app, "/count", Map.of("Cookie", cookie));
            assertTrue(second.body().startsWith("count=2"), second.body());

            assertEquals(1.0, count(app, "operation:create", "outcome:ok", "store:memory"));
            assertTrue(count(app, "operation:load", "outcome:ok") >= 1.0, "the second request loaded the session");
            assertEquals(0.0, count(app, "outcome:error"));

            HttpResponse<String> health = get(app, "/actuator/health/lbkitSession", Map.of());
            assertTrue(health.body().contains("\"store\":\"memory\""), health.body());
        }
    }

    @Test
    void offByPropertyTheStoreIsNotWrapped() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                "lbkit.session.metrics.enabled=false")) {
            assertInstanceOf(InMemorySessionStore.class, app.getBean(SessionStore.class));
        }
    }
}
