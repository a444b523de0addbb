package io.lbkit.servlet.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.health.app.ApplicationHealth;
import io.lbkit.health.app.Health;
import io.lbkit.health.app.NamedCheck;
import io.lbkit.proxy.contract.Http;
import io.lbkit.servlet.testing.TestContainer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HealthServletIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void liveReadyAndDetailedFollowSeed004(TestContainer.Kind kind) throws Exception {
        AtomicBoolean redisUp = new AtomicBoolean(true);
        CountDownLatch never = new CountDownLatch(1);
        try (ApplicationHealth health = ApplicationHealth.builder()
                .liveness("process", () -> Health.up())
                .readiness("redis", () -> redisUp.get() ? Health.up("PONG") : Health.down("connection refused"))
                .check(NamedCheck.readiness("search", () -> {
                    never.await();
                    return Health.up();
                }).withTimeout(Duration.ofMillis(200)).withCritical(false))
                .build();
             TestContainer c = TestContainer.start(kind, ctx -> {
                 var reg = ctx.addServlet("health", new HealthServlet(health));
                 reg.setAsyncSupported(true);
                 reg.addMapping("/health/*");
             })) {
            HttpResponse<String> live = Http.get(c.uri("/health/live"));
            assertEquals(200, live.statusCode());
            assertEquals("no-store", live.headers().firstValue("Cache-Control").orElse(null));
            JsonNode l = JSON.readTree(live.body());
            assertEquals("UP", l.get("status").asText());
            assertTrue(l.get("components").has("process"));
            assertFalse(l.get("components").has("redis"), "liveness runs liveness checks only");

            HttpResponse<String> ready = Http.get(c.uri("/health/ready"));
            assertEquals(200, ready.statusCode(), "a hung non-critical check only degrades readiness");
            JsonNode r = JSON.readTree(ready.body());
            assertEquals("DEGRADED", r.get("status").asText());
            assertEquals("PONG", r.get("components").get("redis").get("detail").asText());
            assertEquals("DOWN", r.get("components").get("search").get("status").asText());
            assertTrue(r.get("components").get("search").get("detail").asText().contains("timed out"),
                    r.get("components").get("search").toString());

            redisUp.set(false);
            HttpResponse<String> notReady = Http.get(c.uri("/health/ready"));
            assertEquals(503, notReady.statusCode());
            assertEquals("DOWN", JSON.readTree(notReady.body()).get("status").asText());
            assertEquals(200, Http.get(c.uri("/health/live")).statusCode(), "liveness ignores Redis");
            HttpResponse<String> detailed = Http.get(c.uri("/health/detailed"));
            assertEquals(200, detailed.statusCode(), "detailed always answers 200");
            JsonNode d = JSON.readTree(detailed.body());
            assertEquals("DOWN", d.get("status").asText());
            assertEquals("connection refused", d.get("components").get("redis").get("detail").asText());
            assertEquals(3, d.get("components").size());

            HttpResponse<String> head = Http.send(HttpRequest.newBuilder(c.uri("/health/ready"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()));
            assertEquals(503, head.statusCode());
            assertEquals("", head.body());
            assertEquals(404, Http.get(c.uri("/health/nope")).statusCode());
        }
    }
}
