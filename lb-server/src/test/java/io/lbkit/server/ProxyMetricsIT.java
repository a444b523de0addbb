package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.config.ConfigLoader;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The proxy's own meters at {@code /metrics} on the admin listener, on both engines: a known mix
 * of requests (200s, one retried after a refused connection, a 404 no route takes, a 429 from a
 * rate limit) and an endpoint drained through the admin API, then the series scraped and their
 * values checked; {@code admin.proxyMetrics: false} leaves them out.
 */
class ProxyMetricsIT {

    private static final String TOKEN = "admin-token-0123456789abcdef";

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

    private static int deadPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private ProxyServer start(String engine, String adminExtra) throws Exception {
        int a = backends.start("a");
        int dead = deadPort();
        String yaml = """
                engine: %s
                listen: ["127.0.0.1:0"]
                shutdownTimeout: 10s
                admin:
                  listen: 127.0.0.1:0
                  token: %s
                %s
                upstreams:
                  app:
                    endpoints:
                      - { address: "127.0.0.1:%d", id: dead }
                      - { address: "127.0.0.1:%d", id: a }
                routes:
                  - { name: api, upstream: app, match: { pathPrefix: /api/ } }
                  - name: lim
                    upstream: app
                    match: { pathPrefix: /lim/ }
                    rateLimit: { rate: 1r/m, burst: 0, nodelay: true, status: 429 }
                """.formatted(engine, TOKEN, adminExtra, dead, a);
        return ProxyServer.start(ConfigLoader.load(Cli.write(dir, "lbkit.yaml", yaml)));
    }

    private int get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(proxy.uris().get(0).resolve(path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(proxy.adminUri().resolve(path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + TOKEN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The samples of the scrape whose names start with {@code prefix}: "name{labels}" → value. */
    private static TreeMap<String, String> samples(String text, String prefix) {
        TreeMap<String, String> out = new TreeMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                int sp = line.lastIndexOf(' ');
                out.put(line.substring(0, sp), line.substring(sp + 1));
            }
        }
        return out;
    }

    /** Scrapes until the requests' counts sum to {@code n} (an engine records an exchange as it ends), at most 10 s. */
    private String scrapeAfter(int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String text;
        do {
            text = admin("GET", "/metrics", null).body();
            int sum = samples(text, "lbkit_proxy_requests_seconds_count").values().stream()
                    .mapToInt(v -> (int) Double.parseDouble(v)).sum();
            if (sum >= n) {
                return text;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        } while (System.nanoTime() < deadline);
        return text;
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void theProxysMetersAreScraped(String engine) throws Exception {
        proxy = start(engine, "");
        assertEquals(200, get("/api/1"));   // dead first (round robin): refused, retried on a
        assertEquals(200, get("/api/2"));
        assertEquals(200, get("/api/3"));
        assertEquals(200, get("/lim/1"));
        assertEquals(429, get("/lim/2"));
        assertEquals(404, get("/elsewhere"));
        assertEquals(200, admin("PATCH", "/api/upstreams/app/servers/dead", "{\"state\": \"drain\"}").statusCode());

        String text = scrapeAfter(6);
        TreeMap<String, String> requests = samples(text, "lbkit_proxy_requests_seconds_count");
        assertEquals("3", requests.get("lbkit_proxy_requests_seconds_count{code_class=\"2xx\",endpoint=\"a\",route=\"api\",upstream=\"app\"}"), text);
        assertEquals("1", requests.get("lbkit_proxy_requests_seconds_count{code_class=\"2xx\",endpoint=\"a\",route=\"lim\",upstream=\"app\"}"), text);
        assertEquals("1", requests.get("lbkit_proxy_requests_seconds_count{code_class=\"4xx\",endpoint=\"-\",route=\"lim\",upstream=\"app\"}"), text);
        assertEquals("1", requests.get("lbkit_proxy_requests_seconds_count{code_class=\"4xx\",endpoint=\"-\",route=\"-\",upstream=\"-\"}"), text);
        assertEquals(4, requests.size(), requests.toString());
        assertEquals(java.util.Map.of(
                "lbkit_proxy_retries_total{endpoint=\"dead\",reason=\"connect_error\",route=\"api\",upstream=\"app\"}", "1.0"),
                samples(text, "lbkit_proxy_retries_total"));
        assertEquals(java.util.Map.of("lbkit_proxy_rejections_total{reason=\"rate_limit\",route=\"lim\",status=\"429\"}", "1.0"),
                samples(text, "lbkit_proxy_rejections_total"));
        assertEquals("4", samples(text, "lbkit_proxy_upstream_header_seconds_count")
                .get("lbkit_proxy_upstream_header_seconds_count{endpoint=\"a\",upstream=\"app\"}"), text);
        assertEquals("4", samples(text, "lbkit_proxy_upstream_connect_seconds_bucket")
                .get("lbkit_proxy_upstream_connect_seconds_bucket{endpoint=\"a\",upstream=\"app\",le=\"+Inf\"}"), text);
        assertEquals("1", samples(text, "lbkit_proxy_upstream_response_seconds_count")
                .get("lbkit_proxy_upstream_response_seconds_count{endpoint=\"dead\",upstream=\"app\"}"), text);
        assertEquals("27.0", samples(text, "lbkit_proxy_sent_bytes_total").get("lbkit_proxy_sent_bytes_total{route=\"api\"}"),
                "3 x \"backend a\"");
        assertEquals("1.0", samples(text, "lbkit_upstream_health_transitions_total")
                .get("lbkit_upstream_health_transitions_total{endpoint=\"dead\",to=\"draining\",upstream=\"app\"}"), text);
        assertTrue(text.contains("# TYPE lbkit_proxy_client_connections gauge"), text);
    }

    @Test
    void proxyMetricsOffLeavesThemOut() throws Exception {
        proxy = start("event-loop", "  proxyMetrics: false");
        assertEquals(200, get("/api/1"));
        String text = admin("GET", "/metrics", null).body();
        assertFalse(text.contains("lbkit_proxy_requests_seconds"), text);
        assertFalse(text.contains("lbkit_proxy_client_connections"), text);
        assertTrue(text.contains("lbkit_upstream_peer_requests_total{endpoint=\"a\",upstream=\"app\"} 1.0"), text);
    }
}
