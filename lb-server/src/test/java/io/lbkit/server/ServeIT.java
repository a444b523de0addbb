package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.core.Upstream;
import io.lbkit.config.ConfigException;
import io.lbkit.config.ConfigLoader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve} end to end: a config file, real backends on loopback, a real HTTP client. */
class ServeIT {

    @TempDir
    Path dir;

    private final List<Server> backends = new ArrayList<>();
    private ProxyServer proxy;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        for (Server s : backends) {
            s.stop();
        }
    }

    /** A backend answering {@code backend <name>}; {@code /health} 200; {@code /slow} waits for {@code release}. */
    private int backend(String name, CountDownLatch slowEntered, CountDownLatch release) throws Exception {
        Server s = new Server();
        ServerConnector c = new ServerConnector(s);
        c.setHost("127.0.0.1");
        s.addConnector(c);
        s.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String path = Request.getPathInContext(request);
                if (path.equals("/slow")) {
                    slowEntered.countDown();
                    release.await(30, TimeUnit.SECONDS);
                }
                if (path.equals("/login")) {
                    response.getHeaders().put("X-New-Session-Data", "{\"user\":\"alice\",\"backend\":\"" + name + "\"}");
                }
                if (path.equals("/whoami")) {
                    String data = request.getHeaders().get("X-Session-Data");
                    response.getHeaders().put("Content-Type", "application/json");
                    response.write(true, ByteBuffer.wrap(String.valueOf(data).getBytes(StandardCharsets.UTF_8)), callback);
                    return true;
                }
                response.getHeaders().put("Content-Type", "text/plain");
                response.write(true, ByteBuffer.wrap(("backend " + name + " " + path).getBytes(StandardCharsets.UTF_8)), callback);
                return true;
            }
        });
        s.start();
        backends.add(s);
        return c.getLocalPort();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uris().get(0).resolve(path)).timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void roundRobinHealthChecksStickyAndTheSessionApi() throws Exception {
        CountDownLatch never = new CountDownLatch(0);
        int a = backend("a", new CountDownLatch(1), never);
        int b = backend("b", new CountDownLatch(1), never);
        int dead = freePort();
        Path file = Cli.write(dir, "lbkit.yaml", """
                listen: ["127.0.0.1:0"]
                upstreams:
                  app:
                    endpoints:
                      - { address: "127.0.0.1:%d", id: a }
                      - { address: "127.0.0.1:%d", id: b }
                      - { address: "127.0.0.1:%d", id: dead }
                    healthCheck: { path: /health, interval: 200ms, timeout: 5s, rise: 1, fall: 2 }
                routes:
                  - name: sticky
                    match: { pathPrefix: /cart }
                    upstream: app
                    sticky: { key: "a-test-key-of-32-bytes-0123456789" }
                  - name: all
                    upstream: app
                sessions:
                  store: memory
                  api: { allow: [127.0.0.0/8] }
                """.formatted(a, b, dead));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        Upstream app = proxy.upstreams().get("app");
        await(() -> app.status("a").orElseThrow().healthy() && app.status("b").orElseThrow().healthy()
                && !app.status("dead").orElseThrow().healthy(), "health checks to settle");

        Map<String, Integer> served = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = get("/hello");
            assertEquals(200, r.statusCode(), r.body());
            String by = r.headers().firstValue("X-Served-By").orElseThrow();
            assertEquals("backend " + by + " /hello", r.body());
            served.merge(by, 1, Integer::sum);
        }
        assertEquals(Map.of("a", 5, "b", 5), served, "round robin over the two healthy endpoints");

        HttpResponse<String> first = get("/cart");
        String cookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(cookie.startsWith("srv_id="), cookie);
        String pinned = first.headers().firstValue("X-Served-By").orElseThrow();
        for (int i = 0; i < 5; i++) {
            assertEquals(pinned, get("/cart", "Cookie", cookie.substring(0, cookie.indexOf(';')))
                    .headers().firstValue("X-Served-By").orElseThrow(), "sticky");
        }

        HttpResponse<String> created = client.send(HttpRequest.newBuilder(proxy.uris().get(0).resolve("/session"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"test\",\"data\":\"session_data\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        assertFalse(created.headers().firstValue("X-Served-By").isPresent(), "the session API is served locally");
        JsonNode body = new ObjectMapper().readTree(created.body());
        String id = body.get("session_id").asText();
        assertEquals("test", body.get("data").get("username").asText());
        HttpResponse<String> read = get("/session?session_id=" + id);
        assertEquals(200, read.statusCode());
        assertEquals("session_data", new ObjectMapper().readTree(read.body()).get("data").get("data").asText());
        assertEquals(2, proxy.sessionStore().load(id).orElseThrow().attributes().size());

        // seed 000: the backend sets session data in a response header, the proxy stores it and
        // forwards it on the next request, whichever backend serves it
        HttpResponse<String> login = get("/login");
        assertFalse(login.headers().firstValue("X-New-Session-Data").isPresent(), "never reaches the client");
        String session = login.headers().allValues("Set-Cookie").stream().filter(v -> v.startsWith("LBSESSION="))
                .findFirst().orElseThrow();
        String sessionCookie = session.substring(0, session.indexOf(';'));
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> who = get("/whoami", "Cookie", sessionCookie, "X-Session-Data", "{\"user\":\"mallory\"}");
            JsonNode data = new ObjectMapper().readTree(who.body());
            assertEquals("alice", data.get("user").asText(), "the stored data, not the client's header");
        }
    }

    /** Seed 003's webhook backend: reads the body, answers per backend=/fail_ markers. */
    private int webhookBackend(String name) throws Exception {
        Server s = new Server();
        ServerConnector c = new ServerConnector(s);
        c.setHost("127.0.0.1");
        s.addConnector(c);
        s.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String body = org.eclipse.jetty.io.Content.Source.asString(request, StandardCharsets.ISO_8859_1);
                int status = 200;
                String text;
                if (body.contains("fail_all") || body.contains("fail_" + name)) {
                    status = 404;
                    text = "failure on backend " + name;
                } else if (body.contains("backend=backend_" + name)) {
                    text = "Processing webhook request on backend " + name;
                } else {
                    text = "Wrong backend but ok!";
                }
                response.setStatus(status);
                response.getHeaders().put("Content-Type", "text/plain");
                response.write(true, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), callback);
                return true;
            }
        });
        s.start();
        backends.add(s);
        return c.getLocalPort();
    }

    private HttpResponse<String> post(String path, String form) throws Exception {
        return client.send(HttpRequest.newBuilder(proxy.uris().get(0).resolve(path)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void broadcastTargetedAndHashKeyRoutes() throws Exception {
        int one = webhookBackend("one");
        int two = webhookBackend("two");
        Path file = Cli.write(dir, "lbkit.yaml", """
                listen: ["127.0.0.1:0"]
                upstreams:
                  webhooks:
                    endpoints:
                      - { address: "127.0.0.1:%d", id: backend_one }
                      - { address: "127.0.0.1:%d", id: backend_two }
                  hashed:
                    policy: consistent-hash
                    hashKey: header:X-User
                    endpoints:
                      - { address: "127.0.0.1:%d", id: backend_one }
                      - { address: "127.0.0.1:%d", id: backend_two }
                routes:
                  - name: summary
                    match: { pathPrefix: /summary }
                    upstream: webhooks
                    mode: broadcast
                  - name: targeted
                    match: { pathPrefix: /one }
                    upstream: webhooks
                    mode: targeted
                    target: query:backend
                  - name: hashed
                    match: { pathPrefix: /hashed }
                    upstream: hashed
                  - name: webhook
                    upstream: webhooks
                    mode: broadcast
                    fanOut: { aggregate: all, summary: false }
                """.formatted(one, two, one, two));
        proxy = ProxyServer.start(ConfigLoader.load(file));

        // seed 003 through the all-must-succeed route
        assertEquals(200, post("/", "backend=backend_one").statusCode());
        assertEquals(200, post("/", "backend=backend_two").statusCode());
        HttpResponse<String> r = post("/", "fail_one");
        assertEquals(404, r.statusCode());
        assertEquals("failure on backend one", r.body());
        r = post("/", "fail_two");
        assertEquals(404, r.statusCode());
        assertEquals("failure on backend two", r.body());
        r = post("/", "fail_all");
        assertEquals(404, r.statusCode());
        assertEquals("failure on backend one", r.body(), "the first failing endpoint in config order decides");
        assertEquals("backend_one, backend_two", r.headers().firstValue("X-Served-By").orElseThrow());

        // summary (the default without a primary)
        r = post("/summary", "backend=backend_two");
        assertEquals(200, r.statusCode());
        JsonNode results = new ObjectMapper().readTree(r.body()).get("results");
        assertEquals("Wrong backend but ok!", results.get(0).get("body").asText());
        assertEquals("Processing webhook request on backend two", results.get(1).get("body").asText());

        // targeted: the query parameter or the form field names the endpoint
        r = post("/one", "backend=backend_two");
        assertEquals(200, r.statusCode());
        assertEquals("backend_two", r.headers().firstValue("X-Served-By").orElseThrow());
        assertEquals("Processing webhook request on backend two", r.body());
        r = post("/one?backend=backend_one", "x=1");
        assertEquals("backend_one", r.headers().firstValue("X-Served-By").orElseThrow());
        assertEquals(404, post("/one", "backend=backend_three").statusCode());
        assertEquals(400, post("/one", "nothing").statusCode());

        // hash key: the same X-User always reaches the same endpoint
        Map<String, String> firstSeen = new HashMap<>();
        for (int round = 0; round < 3; round++) {
            for (int u = 0; u < 20; u++) {
                String by = get("/hashed", "X-User", "user" + u).headers().firstValue("X-Served-By").orElseThrow();
                assertEquals(firstSeen.computeIfAbsent("user" + u, k -> by), by, "user" + u);
            }
        }
        assertEquals(2, new java.util.HashSet<>(firstSeen.values()).size(), "keys spread over both endpoints");
    }

    @Test
    void gracefulStopLetsInFlightRequestsFinish() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        int a = backend("a", entered, release);
        Path file = Cli.write(dir, "lbkit.yaml", """
                listen: ["127.0.0.1:0"]
                upstreams: { app: { endpoints: ["127.0.0.1:%d"] } }
                shutdownTimeout: 20s
                """.formatted(a));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        URI slow = proxy.uris().get(0).resolve("/slow");
        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                HttpRequest.newBuilder(slow).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(entered.await(20, TimeUnit.SECONDS), "the request reached the backend");
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(proxy::stop);
        release.countDown();
        HttpResponse<String> r = inFlight.get(30, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertEquals("backend a /slow", r.body());
        stopping.get(30, TimeUnit.SECONDS);
        proxy = null;
    }

    @Test
    void theEventLoopEngineRunsTheSameFile() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        int a = backend("a", never, never);
        int b = backend("b", never, never);
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", """
                engine: event-loop
                listen: ["127.0.0.1:0"]
                proxy: { workers: 2 }
                upstreams: { app: { endpoints: ["127.0.0.1:%d", "127.0.0.1:%d"] } }
                """.formatted(a, b)));
        java.util.Set<String> served = new java.util.HashSet<>();
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = get("/x?e=%C3%A9");
            assertEquals(200, r.statusCode());
            assertTrue(r.body().startsWith("backend "), r.body());
            served.add(r.headers().firstValue("X-Served-By").orElseThrow());
        }
        assertEquals(2, served.size(), "round robin over both endpoints: " + served);
    }

    @Test
    void theEventLoopEngineForwardsSessions() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        int a = backend("a", never, never);
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", """
                engine: event-loop
                listen: ["127.0.0.1:0"]
                proxy: { workers: 1 }
                upstreams: { app: { endpoints: ["127.0.0.1:%d"] } }
                sessions: { store: memory }
                """.formatted(a)));
        HttpResponse<String> login = get("/login");
        assertEquals(200, login.statusCode(), login.body());
        assertTrue(login.headers().firstValue("X-New-Session-Data").isEmpty(), "the patch never reaches the client");
        String cookie = login.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("LBSESSION="))
                .findFirst().orElseThrow(() -> new AssertionError("no session cookie: " + login.headers().map()));
        HttpResponse<String> whoami = get("/whoami", "Cookie", cookie.substring(0, cookie.indexOf(';')));
        assertEquals(200, whoami.statusCode());
        assertEquals("{\"backend\":\"a\",\"user\":\"alice\"}", whoami.body());
        assertEquals("null", get("/whoami", "X-Session-Data", "{\"user\":\"forged\"}").body(), "no session, no data");
    }

    @Test
    void theEventLoopEngineServesTheSessionApi() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        int a = backend("a", never, never);
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", """
                engine: event-loop
                listen: ["127.0.0.1:0"]
                upstreams: { app: { endpoints: ["127.0.0.1:%d"] } }
                sessions:
                  store: memory
                  forward: false
                  api: { path: /admin/session, token: a-token-of-24-characters }
                """.formatted(a)));
        URI api = proxy.uris().get(0).resolve("/admin/session");
        HttpResponse<String> created = client.send(HttpRequest.newBuilder(api)
                .header("Content-Type", "application/json").header("Authorization", "Bearer a-token-of-24-characters")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"ann\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        assertFalse(created.headers().firstValue("X-Served-By").isPresent(), "the session API is served locally");
        String id = new ObjectMapper().readTree(created.body()).get("session_id").asText();
        assertEquals("/admin/session?session_id=" + id, created.headers().firstValue("Location").orElseThrow());
        assertEquals("ann", proxy.sessionStore().load(id).orElseThrow().attribute("user").asText());
        assertEquals(401, get("/admin/session?session_id=" + id).statusCode(), "the token is required");
        HttpResponse<String> proxied = get("/admin/session/x");
        assertEquals("backend a /admin/session/x", proxied.body(), "other paths go to the routes");
    }

    /** The head of a serve file on the event loops with two webhook backends, {@code webhooks}; routes follow. */
    private String twoWebhookBackendsOnTheEventLoop() throws Exception {
        return """
                engine: event-loop
                listen: ["127.0.0.1:0"]
                proxy: { workers: 2 }
                upstreams:
                  webhooks:
                    endpoints:
                      - { address: "127.0.0.1:%d", id: backend_one }
                      - { address: "127.0.0.1:%d", id: backend_two }
                routes:
                """.formatted(webhookBackend("one"), webhookBackend("two"));
    }

    @Test
    void theEventLoopEngineRunsRateLimitsAndTargetedRoutes() throws Exception {
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", twoWebhookBackendsOnTheEventLoop() + """
                  - name: limited
                    match: { pathPrefix: /limited }
                    upstream: webhooks
                    rateLimit: { rate: 1r/m, status: 429 }
                  - name: targeted
                    upstream: webhooks
                    mode: targeted
                    target: query:backend
                """));
        // 1r/m, burst 0: the second request within the minute is refused with the configured status
        assertEquals(200, get("/limited").statusCode());
        HttpResponse<String> refused = get("/limited");
        assertEquals(429, refused.statusCode());
        assertEquals("429 Too Many Requests\n", refused.body());

        HttpResponse<String> r = post("/one", "backend=backend_two");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("backend_two", r.headers().firstValue("X-Served-By").orElseThrow());
        assertEquals("Processing webhook request on backend two", r.body(), "the form body reached the endpoint");
        r = post("/one?backend=backend_one", "x=1");
        assertEquals("backend_one", r.headers().firstValue("X-Served-By").orElseThrow());
        assertEquals(404, post("/one", "backend=backend_three").statusCode());
        assertEquals(400, post("/one", "nothing").statusCode());
    }

    @Test
    void theEventLoopEngineTakesTheClientConnectionSettings() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        int a = backend("a", never, never);
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", """
                engine: event-loop
                listen: [{ host: 127.0.0.1, port: 0, maxConnections: 10 }]
                proxy: { workers: 1, keepaliveRequests: 2, clientHeaderTimeout: 5s, clientKeepaliveTimeout: 5s }
                upstreams: { app: { endpoints: ["127.0.0.1:%d"] } }
                """.formatted(a)));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.uris().get(0).getPort())) {
            s.setSoTimeout(20_000);
            String get = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
            s.getOutputStream().write((get + get).getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int second = all.indexOf("HTTP/1.1 200", 1);
            assertTrue(second > 0, all);
            assertFalse(all.substring(0, second).toLowerCase(java.util.Locale.ROOT).contains("connection: close"), all);
            assertTrue(all.substring(second).toLowerCase(java.util.Locale.ROOT).contains("connection: close"),
                    "keepaliveRequests 2: the second response closes: " + all);
        }
    }

    @Test
    void theEventLoopEngineRunsABroadcastRoute() throws Exception {
        proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", twoWebhookBackendsOnTheEventLoop() + """
                  - name: summary
                    match: { pathPrefix: /summary }
                    upstream: webhooks
                    mode: broadcast
                  - name: webhook
                    upstream: webhooks
                    mode: broadcast
                    fanOut: { aggregate: all, summary: false }
                """));
        HttpResponse<String> r = post("/", "backend=backend_two");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("Wrong backend but ok!", r.body(), "success: the first endpoint's response");
        r = post("/", "fail_all");
        assertEquals(404, r.statusCode());
        assertEquals("failure on backend one", r.body(), "the first failing endpoint in config order decides");
        assertEquals("backend_one, backend_two", r.headers().firstValue("X-Served-By").orElseThrow());
        r = post("/summary", "backend=backend_two");
        assertEquals(200, r.statusCode());
        JsonNode results = new ObjectMapper().readTree(r.body()).get("results");
        assertEquals("Wrong backend but ok!", results.get(0).get("body").asText());
        assertEquals("Processing webhook request on backend two", results.get(1).get("body").asText());
    }

    @Test
    void anUnknownEngineIsRefusedWithThePath() throws Exception {
        int a = backend("a", new CountDownLatch(1), new CountDownLatch(1));
        ConfigException bad = assertThrows(ConfigException.class, () -> ConfigLoader.parse("lbkit.yaml", """
                engine: threads
                upstreams: { app: { endpoints: ["127.0.0.1:%d"] } }
                """.formatted(a)));
        assertEquals("engine", bad.path());
        assertEquals("must be one of [servlet, event-loop], got 'threads'", bad.problem());
    }

    @Test
    void outlierDetectionThatCanNeverEjectIsWarnedAboutAtStart() throws Exception {
        String three = "[\"127.0.0.1:1\", \"127.0.0.1:2\", \"127.0.0.1:3\"]";
        String config = """
                listen: ["127.0.0.1:0"]
                upstreams:
                  small: { endpoints: %s, outlierDetection: true }
                  always: { endpoints: %s, outlierDetection: { alwaysEjectOneHost: true } }
                  raised: { endpoints: %s, outlierDetection: { maxEjectionPercent: 34 } }
                routes: [{ upstream: small }]
                """.formatted(three, three, three);
        try (CapturedStderr err = new CapturedStderr()) {
            proxy = ProxyServer.start(ConfigLoader.parse("lbkit.yaml", config));
            assertEquals("upstream 'small': outlier detection can never eject an endpoint: one of 3 is 33% of the "
                    + "upstream, above maxEjectionPercent 10; set alwaysEjectOneHost: true or maxEjectionPercent: 34 or more",
                    err.warning("can never eject"), "one warning, for 'small' alone");
        }
    }

    @Test
    void sessionApiWithoutATokenIsWarnedAboutAtStart() throws Exception {
        String config = """
                listen: ["127.0.0.1:0"]
                upstreams: { app: { endpoints: ["127.0.0.1:1"] } }
                sessions: { api: %s }
                """;
        try (CapturedStderr err = new CapturedStderr()) {
            proxy = ProxyServer.start(ConfigLoader.parse("open.yaml", config.formatted("true")));
            assertEquals("the session API at /session has no token: every client from [127.0.0.0/8, ::1] can read, "
                    + "change and delete every session (behind a TLS terminator or proxy on this host, every client is "
                    + "loopback); set sessions.api.token", err.warning("session API"));
        }
        proxy.close();
        try (CapturedStderr err = new CapturedStderr()) {
            proxy = ProxyServer.start(ConfigLoader.parse("token.yaml",
                    config.formatted("{ token: a-token-of-24-characters }")));
            assertEquals(List.of(), err.linesWith("session API"));
            assertEquals(List.of(), err.linesWith(" WARN "));
        }
    }

    @Test
    void badConfigExitsTwoNamingFileAndPath() {
        Path file = Cli.write(dir, "bad.yaml", "upstreams: { app: { endpoints: [{ address: '127.0.0.1:1', weight: 0 }] } }");
        Cli.Result r = Cli.run("serve", "--config", file.toString());
        assertEquals(2, r.status());
        assertEquals(List.of("error: " + file + ": upstreams.app.endpoints[0].weight: must be between 1 and 1000000, got 0"),
                r.errLines());
        Cli.Result missing = Cli.run("serve");
        assertEquals(2, missing.status());
        assertNotNull(missing.err());
        assertTrue(missing.err().startsWith("error: missing --config FILE"), missing.err());
    }
}
