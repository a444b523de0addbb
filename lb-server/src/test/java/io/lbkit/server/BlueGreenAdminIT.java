package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.config.ConfigLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Blue/green through the admin API ({@code POST /api/routes/NAME/upstream}) on both engines: a
 * client keeps sending while the route switches; no request fails, blue serves nothing that
 * started after the switch, green serves from then on; the switch is audited, refused with the
 * admin API's statuses when wrong, and outlives a reload until switched back.
 */
class BlueGreenAdminIT {

    private static final String TOKEN = "admin-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final CountingBackends backends = new CountingBackends();
    private ProxyServer proxy;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        backends.close();
    }

    private HttpResponse<String> admin(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.adminUri().resolve(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return admin(method, path, body, TOKEN);
    }

    private static void refused(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(code, JSON.readTree(r.body()).get("error").get("code").asText(), r.body());
    }

    private static void await(BooleanSupplier c, String what) throws InterruptedException {
        for (int i = 0; i < 6000 && !c.getAsBoolean(); i++) {
            Thread.sleep(5); // the traffic thread makes it true
        }
        assertTrue(c.getAsBoolean(), "timed out waiting for " + what);
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void aRouteSwitchesUpstreamUnderLoadWithoutALostRequest(String engine) throws Exception {
        int blue = backends.start("blue");
        int green = backends.start("green");
        Path file = dir.resolve("lbkit.yaml");
        Files.writeString(file, """
                engine: %s
                listen: ["127.0.0.1:0"]
                admin: { listen: "127.0.0.1:0", token: %s }
                upstreams:
                  blue: { endpoints: ["127.0.0.1:%d"] }
                  green: { endpoints: ["127.0.0.1:%d"] }
                routes:
                  - { name: web, upstream: blue }
                """.formatted(engine, TOKEN, blue, green));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        assertEquals("blue", JSON.readTree(admin("GET", "/api/routes", null).body()).get("web").get("upstream").asText());

        backends.traffic(proxy.uris().get(0).resolve("/x"), 20_000);
        await(() -> backends.served("blue") >= 50, "blue to serve");
        HttpResponse<String> r;
        try (CapturedStderr err = new CapturedStderr()) {
            r = admin("POST", "/api/routes/web/upstream", "{\"upstream\": \"green\"}");
            assertEquals(1, err.linesWith("what=\"switch upstream\" route=web before=blue after=green").size(),
                    err.text());
        }
        int blueAtSwitch = backends.served("blue");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode out = JSON.readTree(r.body());
        assertEquals("green", out.get("upstream").asText());
        assertEquals("blue", out.get("before").asText());
        await(() -> backends.served("green") >= 200, "green to serve");
        backends.stopTraffic();
        assertEquals(0, backends.failureCount(), backends.failures());
        // one client sends one request at a time: at most the one under way at the switch ends on blue
        assertTrue(backends.served("blue") <= blueAtSwitch + 1, backends.served().toString());

        // refusals, as every admin write
        refused(admin("POST", "/api/routes/nope/upstream", "{\"upstream\": \"green\"}"), 404, "route_not_found");
        refused(admin("POST", "/api/routes/web/upstream", "{\"upstream\": \"red\"}"), 404, "upstream_not_found");
        refused(admin("POST", "/api/routes/web/upstream", "{\"to\": \"green\"}"), 400, "bad_request");
        refused(admin("GET", "/api/routes/web/upstream", null), 405, "method_not_allowed");
        refused(admin("POST", "/api/routes/web/upstream", "{\"upstream\": \"blue\"}", null), 401, "unauthorized");

        // a reload keeps the switch; switching back to the file's upstream ends it
        assertEquals(200, admin("POST", "/reload", null).statusCode());
        assertEquals("green", JSON.readTree(admin("GET", "/api/routes", null).body()).get("web").get("upstream").asText());
        int greenBefore = backends.served("green");
        assertEquals(200, client.send(HttpRequest.newBuilder(proxy.uris().get(0).resolve("/x")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(greenBefore + 1, backends.served("green"), "the reloaded route still sends to green");
        assertEquals(200, admin("POST", "/api/routes/web/upstream", "{\"upstream\": \"blue\"}").statusCode());
        assertEquals(200, admin("POST", "/reload", null).statusCode());
        assertEquals("blue", JSON.readTree(admin("GET", "/api/routes", null).body()).get("web").get("upstream").asText());
    }
}
