package io.lbkit.spring;

import static io.lbkit.spring.BootApps.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.lbkit.config.ConfiguredProxy;
import io.lbkit.servlet.proxy.ProxyFilter;
import io.lbkit.testing.RedisServers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The proxy side of the starter in a real Spring Boot app on embedded Tomcat: a route and an
 * upstream from properties (or from application YAML) over two real HTTP backends on loopback,
 * Actuator's health per upstream following the backends, and invalid values failing start-up with
 * the property's name.
 */
class ProxyIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Backend> backends = new ArrayList<>();

    /** A real HTTP server on loopback: /api/* answers its name, /health 200; stops and restarts on one port. */
    static final class Backend {
        final String name;
        int port;
        HttpServer server;

        Backend(String name) throws IOException {
            this.name = name;
            start();
        }

        void start() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 50);
            port = server.getAddress().getPort();
            server.createContext("/", x -> {
                String data = x.getRequestHeaders().getFirst("X-Session-Data");
                if (x.getRequestURI().getPath().endsWith("/login")) {
                    x.getResponseHeaders().add("X-New-Session-Data", "{\"user\":\"u1\"}");
                }
                byte[] body = (x.getRequestURI().getPath().equals("/health") ? "ok" : name + " " + x.getRequestURI()
                        + (data == null ? "" : " data=" + data)).getBytes(StandardCharsets.UTF_8);
                x.sendResponseHeaders(200, body.length);
                x.getResponseBody().write(body);
                x.close();
            });
            server.start();
        }

        void stop() {
            server.stop(0);
        }
    }

    @AfterEach
    void stopBackends() {
        backends.forEach(Backend::stop);
    }

    private Backend backend(String name) throws IOException {
        Backend b = new Backend(name);
        backends.add(b);
        return b;
    }

    private static String[] with(String... props) {
        List<String> all = new ArrayList<>(List.of("management.endpoints.web.exposure.include=health",
                "management.endpoint.health.show-details=always", "management.endpoint.health.show-components=always"));
        all.addAll(List.of(props));
        return all.toArray(String[]::new);
    }

    @Test
    void aRouteFromPropertiesBalancesOverTwoBackendsAndHealthFollowsThem() throws Exception {
        Backend a = backend("a");
        Backend b = backend("b");
        ConfiguredProxy proxy;
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:" + a.port,
                "lbkit.upstreams.api.endpoints[1]=127.0.0.1:" + b.port,
                "lbkit.upstreams.api.health-check.path=/health",
                "lbkit.upstreams.api.health-check.interval=50ms",
                "lbkit.upstreams.api.health-check.timeout=1s",
                "lbkit.upstreams.api.health-check.rise=1",
                "lbkit.upstreams.api.health-check.fall=1",
                "lbkit.routes[0].match.path-prefix=/api/",
                "lbkit.routes[0].upstream=api"))) {
            assertTrue(RedisServers.await(10_000, () -> eligible(app) == 2), "not both eligible: " + health(app));
            proxy = app.getBean(ConfiguredProxy.class);
            assertNotNull(proxy.checker("api"), "the active checks run with the context");

            Map<String, Integer> counts = new TreeMap<>();
            for (int i = 0; i < 10; i++) {
                HttpResponse<String> r = get(app, "/api/x?i=" + i, Map.of());
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(r.body().endsWith(" /api/x?i=" + i), r.body());
                counts.merge(r.body().substring(0, 1), 1, Integer::sum);
            }
            assertEquals(Map.of("a", 5, "b", 5), counts, "round robin over both backends");
            // the proxy's meters are on the app's registry (Actuator's)
            io.micrometer.core.instrument.MeterRegistry registry = app.getBean(io.micrometer.core.instrument.MeterRegistry.class);
            assertEquals(5, registry.get("lbkit.proxy.requests").tag("endpoint", "127.0.0.1:" + a.port)
                    .tag("code_class", "2xx").timer().count(), "the requests a answered, on the app's registry");
            // a path no route matches is the app's own
            assertTrue(get(app, "/count", Map.of()).body().startsWith("count=1 "));

            JsonNode api = upstream(app);
            assertEquals("UP", api.path("status").asText(), api.toString());
            JsonNode ep = api.path("details").path("endpoints").path("127.0.0.1:" + a.port);
            assertEquals("UP", ep.path("state").asText(), api.toString());
            assertEquals("UP", ep.path("health").asText(), api.toString());

            a.stop();
            b.stop();
            assertTrue(RedisServers.await(10_000, () -> "DOWN".equals(upstream(app).path("status").asText())),
                    "not DOWN after both backends stopped: " + health(app));
            assertEquals(503, get(app, "/actuator/health", Map.of()).statusCode());
            assertEquals(0, upstream(app).path("details").path("eligible").asInt(-1));

            a.start();
            b.start();
            assertTrue(RedisServers.await(10_000, () -> eligible(app) == 2), "not UP after restart: " + health(app));
            assertEquals("UP", upstream(app).path("status").asText());
            assertEquals(200, get(app, "/api/y", Map.of()).statusCode());
        }
        assertNull(proxy.checker("api"), "the active checks stop with the context");
        assertNull(proxy.monitor("api"), "and so does the health monitor");
    }

    @Test
    void theFilesKeysFromApplicationYamlWithTheEdgePolicy(@TempDir Path dir) throws Exception {
        Backend a = backend("a");
        Backend b = backend("b");
        Path yaml = dir.resolve("application.yaml");
        Files.writeString(yaml, """
                lbkit:
                  upstreams:
                    api:
                      policy: least-conn
                      endpoints:
                        - 127.0.0.1:%d
                        - address: 127.0.0.1:%d
                          id: second
                  routes:
                    - name: api
                      match: {pathPrefix: /api/, methods: [GET]}
                      upstream: api
                  proxy:
                    servedByHeader: X-Upstream
                    connectTimeout: 2s
                  securityHeaders: seed-004
                  headers:
                    X-Served: edge
                """.formatted(a.port, b.port));
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class),
                with("spring.config.additional-location=file:" + yaml))) {
            ConfiguredProxy proxy = app.getBean(ConfiguredProxy.class);
            assertEquals(List.of("127.0.0.1:" + a.port, "second"),
                    proxy.upstreams().get("api").endpoints().stream().map(e -> e.id()).toList());
            assertEquals("least-conn", proxy.config().upstreams().get("api").policyName());
            assertEquals(java.time.Duration.ofSeconds(2), proxy.config().proxy().connectTimeout());
            HttpResponse<String> r = get(app, "/api/z", Map.of());
            assertEquals(200, r.statusCode(), r.body());
            assertNotNull(r.headers().firstValue("X-Upstream").orElse(null), r.headers().toString());
            // the edge policy's top level: the preset and an added header, names as written
            assertEquals("SAMEORIGIN", r.headers().firstValue("X-Frame-Options").orElse(null), r.headers().toString());
            assertEquals("edge", r.headers().firstValue("X-Served").orElse(null), r.headers().toString());
            // POST is not matched by the route: the app answers (no handler: 404 or 405)
            assertTrue(BootApps.send(app, "POST", "/api/z", Map.of(), "x").statusCode() >= 400);
        }
    }

    @Test
    void sessionsOfTheAppsStoreAreForwardedToBackends() throws Exception {
        Backend a = backend("a");
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:" + a.port,
                "lbkit.routes[0].match.path-prefix=/api/", "lbkit.routes[0].upstream=api",
                "lbkit.sessions.forward=true"))) {
            HttpResponse<String> login = get(app, "/api/login", Map.of());
            assertEquals("a /api/login", login.body());
            assertTrue(login.headers().firstValue("X-New-Session-Data").isEmpty(), "the patch never reaches the client");
            String id = BootApps.cookie(login, "LBSESSION");
            assertNotNull(id, login.headers().toString());
            // the session is in the app's own store, and the backend gets it with the next request
            assertEquals("u1", BootApps.store(app).load(id).orElseThrow().attribute("user").asText());
            assertEquals("a /api/me data={\"user\":\"u1\"}", get(app, "/api/me", Map.of("Cookie", "LBSESSION=" + id)).body());
        }
        Exception e = assertThrows(Exception.class, () -> BootApps.start(List.of(TestApp.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:8080", "lbkit.routes[0].upstream=api",
                "lbkit.sessions.store=memory")).close());
        assertTrue(BootApps.messages(e).contains("lbkit.sessions.store: the proxy forwards the sessions of the app's store"),
                BootApps.messages(e));
    }

    @Test
    void upstreamsWithoutLbConfigOnTheClassPathFailStartUpNamingTheDependency() {
        ClassLoader withoutLbConfig = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.startsWith("io.lbkit.config.")) {
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }
        };
        RuntimeException e = assertThrows(RuntimeException.class, () -> BootApps.start(withoutLbConfig,
                List.of(TestApp.class), "lbkit.upstreams.api.endpoints[0]=127.0.0.1:8080", "lbkit.routes[0].upstream=api",
                "logging.level.root=OFF").close());
        String m = BootApps.messages(e);
        assertTrue(m.contains("lbkit.upstreams") && m.contains("io.lbkit:lb-config"), m);
    }

    @Test
    void anInvalidValueFailsStartUpNamingTheProperty() {
        Exception e = assertThrows(Exception.class, () -> BootApps.start(List.of(TestApp.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:99999",
                "lbkit.routes[0].upstream=api")).close());
        assertTrue(BootApps.messages(e).contains("lbkit.upstreams.api.endpoints[0]: "), BootApps.messages(e));
        // Spring Boot's failure report names the property
        org.springframework.boot.diagnostics.FailureAnalysis report = new LbkitPropertyFailureAnalyzer().analyze(e);
        assertTrue(report.getDescription().startsWith("Invalid lbkit proxy setting lbkit.upstreams.api.endpoints[0]: "),
                report.getDescription());
        assertTrue(report.getAction().contains("docs/configuration.md"), report.getAction());

        e = assertThrows(Exception.class, () -> BootApps.start(List.of(TestApp.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:8080",
                "lbkit.upstreams.api.health-check.interval=soon",
                "lbkit.routes[0].upstream=api")).close());
        assertTrue(BootApps.messages(e).contains("lbkit.upstreams.api.health-check.interval: must be a duration"),
                BootApps.messages(e));

        e = assertThrows(Exception.class, () -> BootApps.start(List.of(TestApp.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:8080",
                "lbkit.routes[0].upstream=nope")).close());
        assertTrue(BootApps.messages(e).contains("lbkit.routes[0].upstream: no upstream named 'nope'"),
                BootApps.messages(e));

        e = assertThrows(Exception.class, () -> BootApps.start(List.of(TestApp.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:8080")).close());
        assertTrue(BootApps.messages(e).contains("lbkit.routes: is required"), BootApps.messages(e));

        e = assertThrows(Exception.class, () -> BootApps.start(List.of(TestApp.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:8080", "lbkit.routes[0].upstream=api",
                "lbkit.listen=8080")).close());
        assertTrue(BootApps.messages(e).contains("lbkit.listen: is a setting of lb-server's serve"), BootApps.messages(e));
    }

    @Test
    void withoutUpstreamsThereIsNoProxyAndAnAppsOwnFilterReplacesIt() throws Exception {
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class), with())) {
            assertTrue(app.getBeansOfType(ConfiguredProxy.class).isEmpty());
            assertTrue(app.getBeansOfType(ProxyFilter.class).isEmpty());
        }
        Backend a = backend("a");
        try (ConfigurableApplicationContext app = BootApps.start(List.of(TestApp.class, OwnProxyFilter.class), with(
                "lbkit.upstreams.api.endpoints[0]=127.0.0.1:" + a.port, "lbkit.routes[0].upstream=api",
                "lbkit.routes[0].match.path-prefix=/api/"))) {
            assertEquals(1, app.getBeansOfType(ProxyFilter.class).size());
            assertEquals("own", app.getBean(ProxyFilter.class).config().routes().get(0).name(), "the app's own filter");
            // registered by the starter, over the starter's upstream; the properties' route is not in it
            assertEquals("a /own/x", get(app, "/own/x", Map.of()).body());
            assertEquals(404, get(app, "/api/x", Map.of()).statusCode());
        }
    }

    @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
    static class OwnProxyFilter {
        @org.springframework.context.annotation.Bean
        ProxyFilter myProxyFilter(ConfiguredProxy proxy) {
            return new ProxyFilter(io.lbkit.proxy.ProxyConfig.builder()
                    .route(io.lbkit.proxy.Route.builder("own", proxy.upstreams().get("api")).pathPrefix("/own/").build())
                    .build());
        }
    }

    private static JsonNode health(ConfigurableApplicationContext app) {
        try {
            return JSON.readTree(get(app, "/actuator/health", Map.of()).body());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode upstream(ConfigurableApplicationContext app) {
        return health(app).path("components").path("lbkitUpstreams").path("components").path("api");
    }

    private static int eligible(ConfigurableApplicationContext app) {
        return upstream(app).path("details").path("eligible").asInt(-1);
    }
}
