package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.config.ConfigLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The admin listener's event stream ({@code GET /api/stream}) and the dashboard's files, over real
 * sockets, with real backends and traffic on loopback.
 */
class AdminStreamIT {

    private static final String TOKEN = "admin-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final CountingBackends backends = new CountingBackends();
    private ProxyServer proxy;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        backends.stopTraffic();
        if (proxy != null) {
            proxy.close();
        }
        backends.close();
    }

    private void start(String engine, String... ids) throws Exception {
        StringBuilder endpoints = new StringBuilder();
        for (String id : ids) {
            endpoints.append("      - { address: \"127.0.0.1:").append(backends.start(id)).append("\", id: ").append(id).append(" }\n");
        }
        Path file = Cli.write(dir, "lbkit.yaml", """
                engine: %s
                listen: ["127.0.0.1:0"]
                shutdownTimeout: 10s
                admin:
                  listen: 127.0.0.1:0
                  token: %s
                upstreams:
                  app:
                    endpoints:
                %s
                routes:
                  - { name: all, upstream: app }
                """.formatted(engine, TOKEN, endpoints.toString().stripTrailing()));
        proxy = ProxyServer.start(ConfigLoader.load(file));
    }

    private HttpResponse<String> admin(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.adminUri().resolve(path)).timeout(Duration.ofSeconds(20));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theStreamRefusesWithoutTheTokenAndWithAWrongOne() throws Exception {
        start("event-loop", "a");
        for (String token : new String[] {null, "admin-token-0123456789abcdeX"}) {
            try (SseClient s = new SseClient(proxy.adminUri(), token)) {
                assertEquals(401, s.status);
                assertEquals("application/json", s.headers.get("content-type"));
                assertEquals("Bearer realm=\"lbkit admin\"", s.headers.get("www-authenticate"));
                JsonNode e = JSON.readTree(s.body()).get("error");
                assertEquals("unauthorized", e.get("code").asText());
            }
        }
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(proxy.adminUri().resolve("/api/stream"))
                .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode(), post.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void eventsCarryEveryEndpointWithItsStateWeightRatesLatencyErrorsAndHealth(String engine) throws Exception {
        start(engine, "a", "b");
        backends.traffic(proxy.uris().get(0).resolve("/x"), 50_000);
        try (SseClient s = new SseClient(proxy.adminUri(), TOKEN)) {
            assertEquals(200, s.status);
            assertEquals("text/event-stream; charset=utf-8", s.headers.get("content-type"));
            assertEquals("no-store", s.headers.get("cache-control"));

            Map<String, String> first = s.next();
            assertEquals("status", first.get("event"));
            assertEquals("1", first.get("id"));
            JsonNode peers = JSON.readTree(first.get("data")).get("upstreams").get("app").get("peers");
            assertEquals(List.of("a", "b"), peers.findValuesAsText("id"));
            assertTrue(peers.get(0).get("rps").isNull(), "no rate before a second event: " + peers);

            // the next events: rates over the last interval, with traffic flowing to both endpoints
            JsonNode event = null;
            for (int i = 0; i < 30; i++) {
                Map<String, String> next = s.next();
                assertEquals(String.valueOf(i + 2), next.get("id"));
                event = JSON.readTree(next.get("data"));
                JsonNode ps = event.get("upstreams").get("app").get("peers");
                if (ps.get(0).get("rps").asDouble() > 0 && ps.get(1).get("rps").asDouble() > 0
                        && ps.get(0).get("latency_ms").isObject() && ps.get(1).get("latency_ms").isObject()) {
                    break;
                }
                event = null;
            }
            assertNotNull(event, "no event with traffic on both endpoints in 30 events");
            assertTrue(event.get("interval_ms").asLong() > 0, event.toString());
            assertNotNull(java.time.Instant.parse(event.get("time").asText()));
            assertEquals("round-robin", event.get("upstreams").get("app").get("policy").asText());
            for (JsonNode p : event.get("upstreams").get("app").get("peers")) {
                String id = p.get("id").asText();
                assertEquals("up", p.get("state").asText(), id);
                assertEquals("up", p.get("health").asText(), id);
                assertEquals(1, p.get("weight").asInt(), id);
                assertTrue(p.get("server").asText().startsWith("127.0.0.1:"), id);
                assertTrue(p.get("active").isInt(), id);
                assertTrue(p.get("requests").asLong() > 0, id);
                assertEquals(0, p.get("fails").asLong(), id);
                assertEquals(0, p.get("responses").get("5xx").asLong(), id);
                assertEquals(0.0, p.get("errors_per_s").asDouble(), id);
                assertTrue(p.get("health_checks").isObject(), id);
                JsonNode l = p.get("latency_ms");
                double p50 = l.get("p50").asDouble();
                double p95 = l.get("p95").asDouble();
                double p99 = l.get("p99").asDouble();
                assertTrue(p50 > 0 && p50 <= p95 && p95 <= p99, id + ": " + l);
                assertTrue(l.get("avg").asDouble() > 0, id + ": " + l);
            }

            // a drain shows in the next event
            HttpResponse<String> drained = client.send(HttpRequest.newBuilder(proxy.adminUri().resolve("/api/upstreams/app/servers/b"))
                    .header("Authorization", "Bearer " + TOKEN).method("PATCH", HttpRequest.BodyPublishers.ofString("{\"state\":\"drain\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, drained.statusCode(), drained.body());
            JsonNode b = JSON.readTree(s.next().get("data")).get("upstreams").get("app").get("peers").get(1);
            assertEquals("draining", b.get("state").asText());
            assertEquals("draining", b.get("health").asText());
        }
        backends.stopTraffic();
        assertEquals(0, backends.failureCount(), backends.failures());
    }

    @Test
    void atMostTwoStreamsAndAStreamEndsWhenItsClientGoesAway() throws Exception {
        start("event-loop", "a");
        SseClient one = new SseClient(proxy.adminUri(), TOKEN);
        try (SseClient two = new SseClient(proxy.adminUri(), TOKEN)) {
            assertEquals(200, one.status);
            assertEquals(200, two.status);
            one.next();
            two.next();
            try (SseClient three = new SseClient(proxy.adminUri(), TOKEN)) {
                assertEquals(503, three.status);
                assertEquals("5", three.headers.get("retry-after"));
                assertEquals("too_many_streams", JSON.readTree(three.body()).get("error").get("code").asText());
            }
            // the API still answers beside two streams
            assertEquals(200, admin("/api/upstreams", TOKEN).statusCode());

            // the first client goes away: its stream ends at a write, and a new stream is admitted
            one.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int status;
            do {
                assertTrue(System.nanoTime() < deadline, "the stream of a closed client did not end");
                try (SseClient again = new SseClient(proxy.adminUri(), TOKEN)) {
                    status = again.status;
                    if (status == 200) {
                        assertEquals("status", again.next().get("event"));
                    }
                }
                if (status != 200) {
                    Thread.sleep(100);
                }
            } while (status != 200);
            two.next(); // the other stream goes on
        }
    }

    @Test
    void theDashboardIsServedWithoutTheTokenAndHoldsNoData() throws Exception {
        start("event-loop", "alpha-7");
        Set<String> files = new TreeSet<>();
        for (String path : new String[] {"/dashboard", "/dashboard/", "/dashboard/dashboard.js", "/dashboard/dashboard.css"}) {
            HttpResponse<String> r = admin(path, null);
            assertEquals(200, r.statusCode(), path);
            String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
            assertTrue(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), csp);
            assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElseThrow());
            assertFalse(r.body().contains("alpha-7"), path + " names no endpoint");
            assertFalse(r.body().contains(TOKEN), path);
            files.add(r.headers().firstValue("Content-Type").orElseThrow());
        }
        assertEquals(Set.of("text/html; charset=utf-8", "text/javascript; charset=utf-8", "text/css; charset=utf-8"), files);
        assertTrue(admin("/dashboard", null).body().contains("<script src=\"/dashboard/dashboard.js\""));
        // anything else under it needs the token like the API
        assertEquals(401, admin("/dashboard/other.js", null).statusCode());
        assertEquals(404, admin("/dashboard/other.js", TOKEN).statusCode());
    }
}
