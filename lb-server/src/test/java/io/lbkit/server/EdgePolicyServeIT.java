package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.sun.net.httpserver.HttpServer;
import io.lbkit.config.ConfigLoader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code serve} with seed 004's edge policy (headers, access, map-keyed limits) on both engines. */
class EdgePolicyServeIT {

    private HttpServer backend;
    private HttpServer canaryBackend;
    private ProxyServer proxy;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        backend = backend("ok\n");
        canaryBackend = backend("canary\n");
    }

    private static HttpServer backend(String answer) throws java.io.IOException {
        HttpServer b = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        b.createContext("/", x -> {
            byte[] body = answer.getBytes(StandardCharsets.US_ASCII);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        b.start();
        return b;
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        backend.stop(0);
        canaryBackend.stop(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void aCanaryByHeaderCookieAndPercent(String engine) throws Exception {
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", """
                engine: %s
                listen: ["127.0.0.1:0"]
                upstreams:
                  stable: { endpoints: ["127.0.0.1:%d"] }
                  next: { endpoints: ["127.0.0.1:%d"] }
                routes:
                  - upstream: stable
                    canary: { upstream: next, when: ["header:X-Canary=1", "cookie:canary=1"], percent: 50%%, key: "query:u" }
                """.formatted(engine, backend.getAddress().getPort(), canaryBackend.getAddress().getPort())));
        assertEquals("canary\n", send(HttpRequest.newBuilder(uri("/")).header("X-Canary", "1")).body());
        assertEquals("canary\n", send(HttpRequest.newBuilder(uri("/")).header("Cookie", "canary=1")).body());
        io.lbkit.core.split.TrafficSplit<String> split = io.lbkit.core.split.TrafficSplit.<String>builder()
                .part("50%", "canary\n").rest("ok\n").build();
        for (int i = 0; i < 20; i++) {
            assertEquals(split.selectOrElse("u" + i, "ok\n"), send(HttpRequest.newBuilder(uri("/?u=u" + i))).body());
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + proxy.uris().get(0).getPort() + path);
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void seed004sPolicyFromTheFile(String engine) throws Exception {
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", """
                engine: %s
                listen: ["127.0.0.1:0"]
                upstreams: { app: { endpoints: ["127.0.0.1:%d"] } }
                securityHeaders: seed-004
                maps:
                  tier: { source: "header:X-Api-Key", entries: { premium-key-123: "" }, default: free }
                routes:
                  - name: status
                    match: { pathPrefix: /nginx-status }
                    upstream: app
                    access: [allow 10.0.0.0/8, deny all]
                  - name: api
                    upstream: app
                    headers: { X-Api: "1" }
                    rateLimits:
                      - { rate: 1r/m, key: "map:tier", status: 429 }
                """.formatted(engine, backend.getAddress().getPort())));
        HttpResponse<String> denied = get("/nginx-status", null);
        assertEquals(403, denied.statusCode());
        assertEquals(List.of("SAMEORIGIN"), denied.headers().allValues("X-Frame-Options"), "always, on the 403");

        HttpResponse<String> first = get("/api", "k1");
        assertEquals(200, first.statusCode(), first.body());
        assertEquals(List.of("1"), first.headers().allValues("X-Api"));
        assertFalse(first.headers().firstValue("X-Frame-Options").isPresent(), "the route has headers of its own");
        assertEquals(429, get("/api", "k2").statusCode(), "the free tier shares one bucket");
        assertEquals(200, get("/api", "premium-key-123").statusCode(), "premium is not in the free tier's limit");
    }

    private HttpResponse<String> get(String path, String apiKey) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.uris().get(0).getPort() + path));
        if (apiKey != null) {
            b.header("X-Api-Key", apiKey);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
