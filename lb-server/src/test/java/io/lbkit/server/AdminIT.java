package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.core.Upstream;
import io.lbkit.config.ConfigException;
import io.lbkit.config.ConfigLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The admin API and reload end to end: a config file, real backends on loopback that count what
 * they serve, real HTTP clients for the proxy and the admin listener, on both engines.
 */
class AdminIT {

    private static final String TOKEN = "admin-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** Real backends that count what they serve. */
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

    private int backend(String name, CountDownLatch entered, CountDownLatch release) throws Exception {
        return backends.start(name, entered, release);
    }

    private int backend(String name) throws Exception {
        return backends.start(name);
    }

    private static String config(String engine, String extraAdmin, String endpoints, String routes) {
        return """
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
                %s
                routes:
                %s
                """.formatted(engine, TOKEN, extraAdmin.indent(2).stripTrailing(), endpoints.indent(6).stripTrailing(),
                routes.indent(2).stripTrailing());
    }

    private static final String ONE_ROUTE = "- { name: all, upstream: app }";

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(proxy.uris().get(0).resolve(path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> admin(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.adminUri().resolve(path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return admin(method, path, body, TOKEN);
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    /** The error of a refusal: its status field and code, and that its text says something. */
    private static void refused(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        JsonNode e = json(r).get("error");
        assertEquals(status, e.get("status").asInt());
        assertEquals(code, e.get("code").asText());
        assertFalse(e.get("text").asText().isBlank());
        assertFalse(r.body().contains(TOKEN), "never the token");
    }

    /** Sends {@code n} requests and returns how many each backend served of them. */
    private Map<String, Integer> spread(int n) throws Exception {
        Map<String, Integer> before = backends.served();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = get("/x");
            assertEquals(200, r.statusCode(), r.body());
        }
        Map<String, Integer> out = new java.util.TreeMap<>();
        backends.served().forEach((k, v) -> {
            int d = v - before.getOrDefault(k, 0);
            if (d > 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    @Test
    void refusesWithoutTokenWithAWrongOneOutsideTheAllowListAndForUnknownNames() throws Exception {
        int a = backend("a");
        Path file = Cli.write(dir, "lbkit.yaml", config("event-loop", "", "- { address: \"127.0.0.1:" + a + "\", id: a }",
                ONE_ROUTE));
        proxy = ProxyServer.start(ConfigLoader.load(file));

        refused(admin("GET", "/api/upstreams", null, null), 401, "unauthorized");
        HttpResponse<String> wrong = admin("GET", "/api/upstreams", null, "admin-token-0123456789abcdeX");
        refused(wrong, 401, "unauthorized");
        assertEquals("Bearer realm=\"lbkit admin\"", wrong.headers().firstValue("WWW-Authenticate").orElseThrow());
        refused(admin("GET", "/api/upstreams/nope", null), 404, "upstream_not_found");
        refused(admin("GET", "/api/upstreams/app/servers/nope", null), 404, "server_not_found");
        refused(admin("PATCH", "/api/upstreams/app/servers/nope", "{\"weight\":2}"), 404, "server_not_found");
        refused(admin("PATCH", "/api/upstreams/app/servers/a", "{\"weight\":0}"), 400, "bad_request");
        refused(admin("PATCH", "/api/upstreams/app/servers/a", "{\"state\":\"sideways\"}"), 400, "bad_request");
        refused(admin("PATCH", "/api/upstreams/app/servers/a", "{\"colour\":\"red\"}"), 400, "bad_request");
        refused(admin("PATCH", "/api/upstreams/app/servers/a", "not json"), 400, "bad_request");
        refused(admin("POST", "/api/upstreams/app/servers", "{\"id\":\"a\",\"server\":\"127.0.0.1:1\"}"), 409, "server_exists");
        refused(admin("DELETE", "/api/upstreams", null), 405, "method_not_allowed");
        assertEquals(1, proxy.upstreams().get("app").endpoint("a").orElseThrow().weight(), "nothing changed");

        // the allow list (changed by a reload, as the token can be) refuses loopback from now on
        Files.writeString(file, config("event-loop", "allow: [10.0.0.0/8]", "- { address: \"127.0.0.1:" + a + "\", id: a }",
                ONE_ROUTE));
        proxy.reloadFromFile();
        refused(admin("GET", "/api/upstreams", null), 403, "forbidden");
        refused(admin("GET", "/api/upstreams", null, null), 403, "forbidden");
        assertEquals(200, get("/x").statusCode(), "the proxy serves on");
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void drainReweightAddRemoveAndADeploymentStepThroughTheApi(String engine) throws Exception {
        int a = backend("a");
        int b = backend("b");
        int c = backend("c");
        Path file = Cli.write(dir, "lbkit.yaml", config(engine, "", """
                - { address: "127.0.0.1:%d", id: a }
                - { address: "127.0.0.1:%d", id: b }""".formatted(a, b), ONE_ROUTE));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        assertEquals(Map.of("a", 4, "b", 4), spread(8));

        // an attempt is counted when the engine completes it, which may be just after the client has its answer
        JsonNode status = json(admin("GET", "/api/upstreams", null));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (status.get("app").get("peers").get(1).get("requests").asInt() < 4
                || status.get("app").get("peers").get(1).get("active").asInt() > 0) {
            assertTrue(System.nanoTime() < deadline, status.toString());
            Thread.sleep(10);
            status = json(admin("GET", "/api/upstreams", null));
        }
        JsonNode peer = status.get("app").get("peers").get(1);
        assertEquals("b", peer.get("id").asText());
        assertEquals("127.0.0.1:" + b, peer.get("server").asText());
        assertEquals("up", peer.get("state").asText());
        assertEquals(1, peer.get("weight").asInt());
        assertEquals(0, peer.get("active").asInt());
        assertEquals(4, peer.get("requests").asInt());
        assertEquals(4, peer.get("responses").get("2xx").asInt());
        assertEquals(4, peer.get("responses").get("total").asInt());
        assertEquals(0, peer.get("fails").asInt());
        assertTrue(peer.has("selected") && peer.has("response_time"), peer.toString());
        assertEquals("round-robin", status.get("app").get("policy").asText());

        // drain b: traffic moves off it, checked on the backends
        HttpResponse<String> drained = admin("PATCH", "/api/upstreams/app/servers/b", "{\"state\":\"drain\"}");
        assertEquals(200, drained.statusCode(), drained.body());
        assertEquals("drain", json(drained).get("state").asText());
        assertEquals("draining", json(admin("GET", "/api/upstreams/app", null)).get("peers").get(1).get("state").asText());
        assertEquals(Map.of("a", 6), spread(6));
        // nginx's own words work too
        assertEquals(200, admin("PATCH", "/api/upstreams/app/servers/b", "{\"drain\":false,\"weight\":3}").statusCode());
        assertEquals(Map.of("a", 2, "b", 6), spread(8), "b back, at weight 3");

        // add c, remove a
        HttpResponse<String> added = admin("POST", "/api/upstreams/app/servers", "{\"id\":\"c\",\"server\":\"127.0.0.1:" + c + "\"}");
        assertEquals(201, added.statusCode(), added.body());
        HttpResponse<String> removed = admin("DELETE", "/api/upstreams/app/servers/a", null);
        assertEquals(200, removed.statusCode(), removed.body());
        assertEquals(List.of("b", "c"), json(removed).findValuesAsText("id"));
        assertEquals(Map.of("b", 6, "c", 2), spread(8));

        // a deployment step: c is drained, moved to a's address, checked (TCP) and readmitted
        HttpResponse<String> step = admin("POST", "/api/upstreams/app/servers/c/deploy",
                "{\"server\":\"127.0.0.1:" + a + "\",\"drain_timeout\":\"10s\",\"ready_timeout\":\"10s\"}");
        assertEquals(200, step.statusCode(), step.body());
        JsonNode report = json(step);
        assertTrue(report.get("completed").asBoolean(), step.body());
        assertEquals(List.of("drain", "wait_idle", "update", "wait_healthy", "readmit"), report.findValuesAsText("phase"));
        assertEquals("127.0.0.1:" + a, report.get("server").get("server").asText());
        assertEquals(Map.of("a", 2, "b", 6), spread(8), "server c now answers from a's address");
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void reloadUnderLoadLosesNothingAndAnInvalidFileIsRefused(String engine) throws Exception {
        CountDownLatch slowEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        int a = backend("a");
        int b = backend("b", slowEntered, release);
        int c = backend("c");
        String ab = """
                - { address: "127.0.0.1:%d", id: a }
                - { address: "127.0.0.1:%d", id: b }""".formatted(a, b);
        Path file = Cli.write(dir, "lbkit.yaml", config(engine, "", ab, ONE_ROUTE));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        Upstream app = proxy.upstreams().get("app");

        // a request held on b while b leaves the upstream and the configuration is swapped
        AtomicReference<HttpResponse<String>> slow = new AtomicReference<>();
        Thread held = new Thread(() -> {
            for (int i = 0; i < 4 && slowEntered.getCount() > 0; i++) { // round robin: b within two tries
                try {
                    HttpResponse<String> r = get("/slow");
                    if (r.body().equals("backend b")) {
                        slow.set(r);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        held.start();
        assertTrue(slowEntered.await(20, TimeUnit.SECONDS));

        // load: two clients sending requests until the reloads are done (at least 200 each, at
        // most 20000), counting every failure
        AtomicInteger failures = new AtomicInteger();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        CountDownLatch loadStarted = new CountDownLatch(2);
        java.util.concurrent.atomic.AtomicBoolean reloadsDone = new java.util.concurrent.atomic.AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        ExecutorService load = Executors.newFixedThreadPool(2);
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            results.add(load.submit(() -> {
                HttpClient own = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                int ok = 0;
                for (int i = 0; i < 20_000 && (i < 200 || !reloadsDone.get()); i++) {
                    sent.incrementAndGet();
                    if (i == 20) {
                        loadStarted.countDown();
                    }
                    try {
                        HttpResponse<String> r = own.send(HttpRequest.newBuilder(proxy.uris().get(0).resolve("/x"))
                                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200 && r.body().startsWith("backend ")) {
                            ok++;
                        } else {
                            failures.incrementAndGet();
                            firstFailure.compareAndSet(null, r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        failures.incrementAndGet();
                        firstFailure.compareAndSet(null, e.toString());
                    }
                }
                return ok;
            }));
        }
        assertTrue(loadStarted.await(30, TimeUnit.SECONDS));

        // changed at runtime: a reload that does not touch a in the file leaves its weight
        assertEquals(200, admin("PATCH", "/api/upstreams/app/servers/a", "{\"weight\":2}").statusCode());

        // reload 1: b leaves, c joins, a new route
        Files.writeString(file, config(engine, "", """
                - { address: "127.0.0.1:%d", id: a }
                - { address: "127.0.0.1:%d", id: c }""".formatted(a, c), """
                - { name: other, match: { pathPrefix: /other }, upstream: app }
                - { name: all, upstream: app }"""));
        HttpResponse<String> reloaded = admin("POST", "/reload", null);
        assertEquals(200, reloaded.statusCode(), reloaded.body());
        assertTrue(json(reloaded).get("reloaded").asBoolean());
        assertSame(app, proxy.upstreams().get("app"), "updated in place, not rebuilt");
        assertEquals(List.of("a", "c"), app.endpoints().stream().map(e -> e.id()).toList());
        assertEquals(2, app.endpoint("a").orElseThrow().weight(), "the runtime weight of a survives");

        // reload 2: an invalid file is refused with its one-line error; the old configuration serves on
        Files.writeString(file, config(engine, "", "- { address: \"127.0.0.1:" + a + "\", id: a, weight: 0 }", ONE_ROUTE));
        HttpResponse<String> bad = admin("POST", "/reload", null);
        refused(bad, 400, "invalid_configuration");
        String text = json(bad).get("error").get("text").asText();
        assertTrue(text.contains("endpoints[0].weight"), text);
        assertFalse(text.contains("\n"));
        // and one that would need a restart
        Files.writeString(file, config(engine.equals("servlet") ? "event-loop" : "servlet", "",
                "- { address: \"127.0.0.1:" + a + "\", id: a }", ONE_ROUTE));
        ConfigException restart = assertThrows(ConfigException.class, proxy::reloadFromFile);
        assertEquals("engine", restart.path());
        assertEquals(List.of("a", "c"), app.endpoints().stream().map(e -> e.id()).toList(), "nothing changed");

        reloadsDone.set(true);
        int ok = 0;
        for (Future<Integer> f : results) {
            ok += f.get(120, TimeUnit.SECONDS);
        }
        load.shutdown();
        assertEquals(0, failures.get(), "failed requests: " + firstFailure.get());
        assertEquals(sent.get(), ok, "every request of the load answered 200 by a backend");
        assertTrue(ok < 40_000, "the reloads ran while the load was still sending");

        // the request held on b (removed, its configuration replaced) completes
        release.countDown();
        held.join(30_000);
        assertNotNull(slow.get(), "the held request finished");
        assertEquals(200, slow.get().statusCode());

        int bBefore = backends.served("b");
        Map<String, Integer> after = spread(6);
        assertEquals(Map.of("a", 4, "c", 2), after, "the new membership, a at its runtime weight 2");
        assertEquals(bBefore, backends.served("b"), "b takes nothing after the reload");
        HttpResponse<String> other = get("/other/x");
        assertEquals(200, other.statusCode());
        assertTrue(other.body().equals("backend a") || other.body().equals("backend c"), other.body());
    }

    @Test
    void runtimeChangesPersistToTheStateFileAndAreRestoredAtStart() throws Exception {
        int a = backend("a");
        int b = backend("b");
        int c = backend("c");
        Path state = dir.resolve("state/lbkit-state.json");
        String endpoints = """
                - { address: "127.0.0.1:%d", id: a }
                - { address: "127.0.0.1:%d", id: b }""".formatted(a, b);
        Path file = Cli.write(dir, "lbkit.yaml", config("event-loop", "stateFile: " + state, endpoints, ONE_ROUTE));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        assertFalse(Files.exists(state), "written on the first change");
        assertEquals(201, admin("POST", "/api/upstreams/app/servers",
                "{\"id\":\"c\",\"server\":\"127.0.0.1:" + c + "\",\"weight\":2}").statusCode());
        assertEquals(200, admin("PATCH", "/api/upstreams/app/servers/a", "{\"state\":\"down\"}").statusCode());
        assertEquals(200, admin("DELETE", "/api/upstreams/app/servers/b", null).statusCode());
        JsonNode written = JSON.readTree(state.toFile()).get("upstreams").get("app").get("servers");
        assertEquals(List.of("a", "c"), written.findValuesAsText("id"));
        proxy.close();

        proxy = ProxyServer.start(ConfigLoader.load(file));
        Upstream app = proxy.upstreams().get("app");
        assertEquals(List.of("a", "c"), app.endpoints().stream().map(e -> e.id()).toList());
        assertEquals(2, app.endpoint("c").orElseThrow().weight());
        assertEquals(io.lbkit.core.EndpointState.DOWN, app.status("a").orElseThrow().state());
        assertEquals("down", json(admin("GET", "/api/upstreams/app", null)).get("peers").get(0).get("state").asText());
        assertEquals(Map.of("c", 4), spread(4), "a stays down, b stays removed");

        // a reload that changes neither a nor b in the file keeps both runtime changes
        Files.writeString(file, config("event-loop", "stateFile: " + state, endpoints, "- { name: other, upstream: app }"));
        proxy.reloadFromFile();
        assertEquals(List.of("a", "c"), app.endpoints().stream().map(e -> e.id()).toList());
        assertEquals(io.lbkit.core.EndpointState.DOWN, app.status("a").orElseThrow().state());
    }

    @Test
    void sighupReloadsTheFile() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(System.getProperty("os.name").startsWith("Windows"), "no SIGHUP");
        int a = backend("a");
        int b = backend("b");
        Path file = Cli.write(dir, "lbkit.yaml", config("event-loop", "", "- { address: \"127.0.0.1:" + a + "\", id: a }",
                ONE_ROUTE));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        org.junit.jupiter.api.Assumptions.assumeTrue(ReloadSignal.install(proxy), "this JVM refuses a SIGHUP handler");
        Files.writeString(file, config("event-loop", "", "- { address: \"127.0.0.1:" + b + "\", id: b }", ONE_ROUTE));
        Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(ProcessHandle.current().pid())).start();
        assertEquals(0, kill.waitFor());
        Upstream app = proxy.upstreams().get("app");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!app.endpoints().stream().map(e -> e.id()).toList().equals(List.of("b"))) {
            assertTrue(System.nanoTime() < deadline, "the reload never came: " + app.endpoints());
            Thread.sleep(20); // the signal is handled on its own thread: poll for its effect
        }
        assertEquals(Map.of("b", 2), spread(2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void stickyBindingsAndHealthSurviveAReload(String engine) throws Exception {
        int a = backend("a");
        int b = backend("b");
        int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        String upstream = """
                  app:
                    healthCheck: { path: /health, interval: 100ms, timeout: 2s, rise: 1, fall: 1 }
                    endpoints:
                      - { address: "127.0.0.1:%d", id: a }
                      - { address: "127.0.0.1:%d", id: b, weight: %d }
                      - { address: "127.0.0.1:%d", id: dead }
                """;
        String sticky = "- { name: all, upstream: app, sticky: { key: \"a-test-key-of-32-bytes-0123456789\" } }";
        Path file = Cli.write(dir, "lbkit.yaml", config(engine, "", "", sticky)
                .replace("upstreams:\n  app:\n    endpoints:\n", "upstreams:\n" + upstream.formatted(a, b, 1, dead)));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        Upstream app = proxy.upstreams().get("app");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        // dead's first check must have failed: before it, dead is CHECKING, which is not healthy either
        while (!(app.status("a").orElseThrow().healthy() && app.status("b").orElseThrow().healthy()
                && proxy.monitor("app").state("dead").orElseThrow() == io.lbkit.health.EndpointHealthState.UNHEALTHY)) {
            assertTrue(System.nanoTime() < deadline, "health checks to settle: " + app.statuses());
            Thread.sleep(20);
        }
        HttpResponse<String> first = get("/x");
        String cookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        cookie = cookie.substring(0, cookie.indexOf(';'));
        String pinned = first.body();

        // a new route in front, b re-weighted: the upstream and its health stay, the binding holds
        Files.writeString(file, config(engine, "", "", "- { name: first, match: { pathPrefix: /first }, upstream: app }\n"
                + sticky).replace("upstreams:\n  app:\n    endpoints:\n", "upstreams:\n" + upstream.formatted(a, b, 5, dead)));
        proxy.reloadFromFile();
        assertFalse(app.status("dead").orElseThrow().healthy(), "dead stays unhealthy: its health was not reset");
        assertEquals(io.lbkit.health.EndpointHealthState.UNHEALTHY, proxy.monitor("app").state("dead").orElseThrow());
        assertEquals(5, app.endpoint("b").orElseThrow().weight());
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uris().get(0).resolve("/x"))
                    .header("Cookie", cookie).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(pinned, r.body(), "the sticky binding survives the reload");
        }
    }

    /** The Prometheus text at /metrics: the endpoints' counters after real traffic, the state gauges, a 401 without the token. */
    @ParameterizedTest
    @ValueSource(strings = {"event-loop", "servlet"})
    void metricsInPrometheusTextFormat(String engine) throws Exception {
        int a = backend("a");
        int b = backend("b");
        String endpoints = "- { address: \"127.0.0.1:%d\", id: a }\n- { address: \"127.0.0.1:%d\", id: b }".formatted(a, b);
        Path file = Cli.write(dir, "lbkit.yaml", config(engine, "", endpoints, ONE_ROUTE) + "sessions: { store: memory }\n");
        proxy = ProxyServer.start(ConfigLoader.load(file));
        assertEquals(Map.of("a", 5, "b", 5), spread(10));
        assertEquals(200, admin("PATCH", "/api/upstreams/app/servers/b", "{\"state\": \"drain\"}").statusCode());

        refused(admin("GET", "/metrics", null, null), 401, "unauthorized");
        HttpResponse<String> r = admin("GET", "/metrics", null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
        String text = r.body();
        assertTrue(text.contains("lbkit_upstream_peer_requests_total{endpoint=\"a\",upstream=\"app\"} 5.0"), text);
        assertTrue(text.contains("lbkit_upstream_peer_responses_total{code_class=\"2xx\",endpoint=\"b\",upstream=\"app\"} 5.0"), text);
        assertTrue(text.contains("lbkit_upstream_peer_response_seconds_count{endpoint=\"a\",upstream=\"app\"} 5"), text);
        assertTrue(text.contains("lbkit_upstream_peer_state{endpoint=\"b\",state=\"draining\",upstream=\"app\"} 1.0"), text);
        assertTrue(text.contains("lbkit_upstream_peer_state{endpoint=\"a\",state=\"up\",upstream=\"app\"} 1.0"), text);
        assertTrue(text.contains("lbkit_upstream_peer_active{endpoint=\"a\",upstream=\"app\"} 0.0"), text);
        assertTrue(text.contains("lbkit_session_store_calls_seconds_count{"), "the session store is metered: " + text);
        assertTrue(text.contains("jvm_memory_used_bytes{"), text);

        // an endpoint removed through the API loses its meters at the next scrape
        assertEquals(200, admin("DELETE", "/api/upstreams/app/servers/b", null).statusCode());
        String after = admin("GET", "/metrics", null).body();
        assertFalse(after.contains("endpoint=\"b\""), after);
        assertTrue(after.contains("lbkit_upstream_peer_requests_total{endpoint=\"a\",upstream=\"app\"}"), after);
    }
}
