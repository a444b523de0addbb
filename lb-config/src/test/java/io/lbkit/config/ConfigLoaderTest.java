package io.lbkit.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.config.ServeConfig.HashKey;
import io.lbkit.config.ServeConfig.RouteSpec;
import io.lbkit.config.ServeConfig.UpstreamSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final String FULL = """
            listen:
              - port: 8080
                host: 127.0.0.1
                maxRequestHeaderSize: 16k
            proxy:
              connectTimeout: 2s
              readTimeout: 30s
              clientBodyTimeout: 15s
              maxBodySize: 10m
              hostHeader: endpoint
            upstreams:
              app:
                policy: least-conn
                slowStart: 30s
                failureStatuses: [502, 503]
                endpoints:
                  - address: 127.0.0.1:9001
                    id: app1
                    weight: 3
                    maxFails: 2
                    failTimeout: 1m30s
                  - 127.0.0.1:9002
                  - address: "[::1]:9003"
                    backup: true
                  - { address: 127.0.0.1:9004, state: drain }
                healthCheck:
                  path: /health
                  expectStatus: [200-299, 304]
                  interval: 5s
                  rise: 3
                outlierDetection:
                  consecutive5xx: 7
              cache:
                policy: consistent-hash
                hashKey: header:X-User
                endpoints: [127.0.0.1:9101, 127.0.0.1:9102]
            routes:
              - name: api
                match: { pathPrefix: /api, methods: [get, post] }
                upstream: app
                retry: { on: [error, timeout, http_503], tries: 3, timeout: 10s }
                sticky: { key: "${STICKY_KEY}" }
                rateLimit: { rate: 10r/s, burst: 20, nodelay: true }
              - name: everything
                upstream: cache
            sessions:
              store: memory
              api: { allow: [10.0.0.0/8], token: "${API_TOKEN:-s3cret}" }
            trust:
              proxies: [127.0.0.1/32]
            """;

    private static ServeConfig parse(String name, String text) {
        return ConfigLoader.parse(name, text, Map.of("STICKY_KEY", "0123456789abcdef-key")::get);
    }

    private static ConfigException error(String text) {
        return assertThrows(ConfigException.class, () -> parse("lbkit.yaml", text));
    }

    @Test
    void readsEverySection() {
        ServeConfig c = parse("lbkit.yaml", FULL);
        assertEquals(List.of(new ServeConfig.Listener("127.0.0.1", 8080, 16384)), c.listeners());
        UpstreamSpec app = c.upstreams().get("app");
        assertEquals("least-conn", app.policyName());
        assertEquals(Duration.ofSeconds(30), app.slowStart());
        assertEquals(java.util.Set.of(502, 503), app.failureStatuses());
        assertEquals(50, app.panicThresholdPercent());
        Endpoint first = app.endpoints().get(0);
        assertEquals("app1", first.id());
        assertEquals("127.0.0.1", first.host());
        assertEquals(9001, first.port());
        assertEquals(3, first.weight());
        assertEquals(2, first.maxFails());
        assertEquals(Duration.ofSeconds(90), first.failTimeout());
        assertEquals("127.0.0.1:9002", app.endpoints().get(1).id());
        assertEquals("::1", app.endpoints().get(2).host());
        assertTrue(app.endpoints().get(2).backup());
        assertEquals(Map.of("127.0.0.1:9004", io.lbkit.core.EndpointState.DRAINING), app.states());
        assertEquals("/health", app.activeCheck().path());
        assertEquals(2, app.activeCheck().expectStatus().size());
        assertArrayEquals(new int[] {200, 299}, app.activeCheck().expectStatus().get(0));
        assertArrayEquals(new int[] {304, 304}, app.activeCheck().expectStatus().get(1));
        assertEquals(Duration.ofSeconds(5), app.activeCheck().interval());
        assertEquals(Duration.ofSeconds(5), app.activeCheck().fastInterval());
        assertEquals(3, app.activeCheck().rise());
        assertEquals(3, app.activeCheck().fall());
        assertEquals(7, app.outlier().consecutive5xx());
        assertEquals(Duration.ofSeconds(30), app.outlier().baseEjectionTime());
        assertEquals(new HashKey(HashKey.Source.HEADER, "X-User"), c.upstreams().get("cache").hashKey());

        RouteSpec api = c.routes().get(0);
        assertEquals("api", api.name());
        assertEquals("/api", api.match().pathPrefix());
        assertEquals(java.util.Set.of("GET", "POST"), api.match().methods());
        assertEquals(3, api.retry().tries());
        assertEquals(Duration.ofSeconds(10), api.retry().timeout());
        assertEquals(Duration.ofSeconds(2), c.proxy().connectTimeout());
        assertEquals(Duration.ofSeconds(30), c.proxy().readTimeout());
        assertEquals(Duration.ofSeconds(15), c.proxy().clientBodyTimeout());
        assertEquals(Duration.ZERO, c.proxy().totalTimeout());
        assertEquals(ServeConfig.ProxySpec.HostHeaderMode.ENDPOINT, c.proxy().hostHeader());
        assertEquals("X-Served-By", c.proxy().servedByHeader());
        assertEquals("srv_id", api.sticky().cookie());
        assertEquals(Duration.ofSeconds(300), api.sticky().maxAge());
        assertEquals("0123456789abcdef-key", api.sticky().key());
        assertFalse(api.sticky().toString().contains("0123456789abcdef"), "the key never appears in toString");
        assertEquals(20, api.rateLimit().burst());
        assertTrue(api.rateLimit().nodelay());
        assertEquals(10L << 20, c.proxy().maxBodyBytes());
        assertTrue(c.sessions().forward(), "forwarding is on by default with a store");
        assertEquals(RouteSpec.Mode.PROXY, c.routes().get(1).mode());

        assertEquals("memory", c.sessions().store());
        assertEquals(Duration.ofHours(24), c.sessions().idleTimeout());
        assertEquals("s3cret", c.sessions().apiToken());
        assertEquals(List.of("10.0.0.0/8"), c.sessions().apiAllow());
        assertTrue(c.trust().trustedProxies().isAllowed(new byte[] {127, 0, 0, 1}));
        assertFalse(c.trust().trustedProxies().isAllowed(new byte[] {127, 0, 0, 2}));
        assertEquals(Duration.ofSeconds(30), c.shutdownTimeout());
    }

    @Test
    void minimalFileGetsOneCatchAllRoute() {
        ServeConfig c = parse("min.yaml", "upstreams: { app: { endpoints: [127.0.0.1:9001] } }");
        assertEquals(8080, c.listeners().get(0).port());
        assertEquals(1 << 20, c.proxy().maxBodyBytes(), "nginx client_max_body_size default 1m");
        assertEquals(Duration.ofSeconds(60), c.proxy().readTimeout(), "nginx proxy_read_timeout default 60s");
        assertEquals(Duration.ofSeconds(60), c.proxy().clientBodyTimeout(), "nginx client_body_timeout default 60s");
        assertEquals(200, c.proxy().threads());
        assertEquals(50, parse("t.yaml", "proxy: { threads: 50 }\nupstreams: { app: { endpoints: [127.0.0.1:9001] } }")
                .proxy().threads());
        assertEquals(1, c.routes().size());
        assertEquals("app", c.routes().get(0).upstream());
        assertEquals("/", c.routes().get(0).match().pathPrefix());
        assertNull(c.sessions());
        assertFalse(c.trust().trustedProxies().isAllowed(new byte[] {127, 0, 0, 1}), "no proxy is trusted by default");
    }

    @Test
    void clientConnectionSettingsHaveNginxDefaultsAndTheServletEngineRefusesWhatItCannotDo() {
        ServeConfig c = parse("min.yaml", "upstreams: { app: { endpoints: [127.0.0.1:9001] } }");
        assertEquals(Duration.ofSeconds(60), c.proxy().clientHeaderTimeout(), "nginx client_header_timeout");
        assertEquals(Duration.ofSeconds(75), c.proxy().clientKeepaliveTimeout(), "nginx keepalive_timeout");
        assertEquals(1000, c.proxy().keepaliveRequests(), "nginx keepalive_requests");
        assertEquals(Duration.ofSeconds(60), c.proxy().keepaliveTimeout(), "the upstream pool's, unchanged");
        assertEquals(0, c.listeners().get(0).maxConnections(), "no limit");
        ServeConfig e = parse("e.yaml", """
                engine: event-loop
                listen: [{ port: 8081, maxConnections: 5000 }, "127.0.0.1:8082"]
                proxy: { clientHeaderTimeout: 10s, clientKeepaliveTimeout: 30s, keepaliveRequests: 100 }
                upstreams: { app: { endpoints: [127.0.0.1:9001] } }
                """);
        assertEquals(new ServeConfig.Listener("0.0.0.0", 8081, 8192, 5000), e.listeners().get(0));
        assertEquals(0, e.listeners().get(1).maxConnections());
        assertEquals(Duration.ofSeconds(10), e.proxy().clientHeaderTimeout());
        assertEquals(Duration.ofSeconds(30), e.proxy().clientKeepaliveTimeout());
        assertEquals(100, e.proxy().keepaliveRequests());
        String up = "\nengine: servlet\nupstreams: { app: { endpoints: [127.0.0.1:9001] } }";
        ConfigException header = error("proxy: { clientHeaderTimeout: 10s }" + up);
        assertEquals("proxy.clientHeaderTimeout", header.path());
        assertTrue(header.problem().startsWith("applies to engine: event-loop only"), header.problem());
        assertEquals("proxy.keepaliveRequests", error("proxy: { keepaliveRequests: 10 }" + up).path());
        ConfigException idle = error("proxy: { clientKeepaliveTimeout: 30s }" + up);
        assertEquals("proxy.clientKeepaliveTimeout", idle.path());
        assertEquals("must be longer than clientBodyTimeout (60000 ms) on engine: servlet, where it is Jetty's idle "
                + "timeout and would cut a stalled body before its 408, got 30000 ms", idle.problem());
        assertEquals(Duration.ofSeconds(90), parse("s.yaml", "proxy: { clientKeepaliveTimeout: 90s }" + up)
                .proxy().clientKeepaliveTimeout());
        assertEquals(2, parse("s.yaml", "listen: [{ port: 1, maxConnections: 2 }]" + up).listeners().get(0).maxConnections(),
                "the servlet engine takes a connection limit too");
        assertEquals("proxy.keepaliveRequests", error("engine: event-loop\nproxy: { keepaliveRequests: 0 }" + up).path());
        assertEquals("listen[0].maxConnections", error("listen: [{ port: 1, maxConnections: -1 }]" + up).path());
    }

    @Test
    void jsonFilesAreReadAsJson(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("lbkit.json");
        Files.writeString(f, "{\"upstreams\": {\"a\": {\"endpoints\": [\"127.0.0.1:1\"]}}, \"listen\": [\"127.0.0.1:9999\"]}");
        ServeConfig c = ConfigLoader.load(f);
        assertEquals(new ServeConfig.Listener("127.0.0.1", 9999, 8192), c.listeners().get(0));
    }

    @Test
    void errorsNameFilePathAndProblem() {
        assertEquals("lbkit.yaml: upstreams.app.endpoints[0].weight: must be between 1 and 1000000, got 0",
                error("upstreams: { app: { endpoints: [{address: '127.0.0.1:1', weight: 0}] } }").getMessage());
        assertEquals("upstreams.app.endpoints[0].wieght",
                error("upstreams: { app: { endpoints: [{address: '127.0.0.1:1', wieght: 2}] } }").path());
        assertEquals("upstreams.app.endpoints[1]",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1', '127.0.0.1:1'] } }").path());
        assertEquals("upstreams.app.endpoints[0].address",
                error("upstreams: { app: { endpoints: [{address: '127.0.0.1:99999'}] } }").path());
        ConfigException rise = error("upstreams: { app: { endpoints: ['127.0.0.1:1'], healthCheck: { rise: 0 } } }");
        assertEquals("upstreams.app.healthCheck.rise", rise.path());
        assertEquals("must be between 1 and 1000, got 0", rise.problem());
        ConfigException status = error("upstreams: { app: { endpoints: ['127.0.0.1:1'], healthCheck: { expectStatus: [700] } } }");
        assertEquals("upstreams.app.healthCheck.expectStatus[0]", status.path());
        ConfigException interval = error("upstreams: { app: { endpoints: ['127.0.0.1:1'], healthCheck: { interval: -1s } } }");
        assertEquals("upstreams.app.healthCheck.interval", interval.path());
        assertTrue(interval.problem().contains("'-1s'"), interval.problem());
        assertEquals("upstreams.app.policy",
                error("upstreams: { app: { policy: fastest, endpoints: ['127.0.0.1:1'] } }").path());
        assertEquals("upstreams.app.hashKey",
                error("upstreams: { app: { policy: maglev, endpoints: ['127.0.0.1:1'] } }").path());
        assertEquals("routes[0].upstream",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nroutes: [{ upstream: nope }]").path());
        assertEquals("sessions.forward",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nsessions: { forward: maybe }").path());
        assertEquals("sessions.api.path",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nsessions: { api: { path: session } }").path());
        assertEquals("routes[0].sticky.key",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nroutes: [{ upstream: app, sticky: { key: short } }]").path());
        assertEquals("routes[0].rateLimit.rate",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nroutes: [{ upstream: app, rateLimit: { rate: 1.5r/s } }]").path());
        assertEquals("routes[0].retry.on",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nroutes: [{ upstream: app, retry: { on: [http_418] } }]").path());
        assertEquals("routes[0].rateLimit.key",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nroutes: [{ upstream: app, rateLimit: { rate: 1r/s, key: 'header:X-User' } }]").path());
        assertEquals("sessions.store",
                error("upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nsessions: { store: mysql }").path());
        ConfigException threads = error("proxy: { threads: 2 }\nupstreams: { app: { endpoints: ['127.0.0.1:1'] } }");
        assertEquals("proxy.threads", threads.path());
        assertEquals("must be between 4 and 10000, got 2", threads.problem());
        assertEquals("upstreams", error("listen: [8080]").path());
        assertEquals("lisen", error("lisen: 8080\nupstreams: { app: { endpoints: ['127.0.0.1:1'] } }").path());
    }

    @Test
    void hostHeaderModesAndServerName() {
        ServeConfig c = parse("lbkit.yaml", "proxy: { hostHeader: host, serverName: www.example.com }\n"
                + "upstreams: { app: { endpoints: ['127.0.0.1:1'] } }");
        assertEquals(ServeConfig.ProxySpec.HostHeaderMode.HOST, c.proxy().hostHeader());
        assertEquals("www.example.com", c.proxy().serverName());
        ServeConfig d = parse("lbkit.yaml", "upstreams: { app: { endpoints: ['127.0.0.1:1'] } }");
        assertEquals(ServeConfig.ProxySpec.HostHeaderMode.CLIENT, d.proxy().hostHeader());
        assertEquals(null, d.proxy().serverName());
        ConfigException bad = error("proxy: { serverName: 'a b' }\nupstreams: { app: { endpoints: ['127.0.0.1:1'] } }");
        assertEquals("proxy.serverName", bad.path());
    }

    @Test
    void outlierDetectionMapsEnvoysAlwaysEjectOneHost() {
        String upstream = "upstreams: { app: { endpoints: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'], outlierDetection: %s } }";
        ServeConfig.OutlierSpec small = parse("lbkit.yaml", upstream.formatted("{ alwaysEjectOneHost: true }"))
                .upstreams().get("app").outlier();
        assertTrue(small.alwaysEjectOneHost());
        assertEquals(10, small.maxEjectionPercent(), "Envoy's default stays");
        assertFalse(parse("lbkit.yaml", upstream.formatted("{ consecutive5xx: 3 }")).upstreams().get("app").outlier()
                .alwaysEjectOneHost(), "off by default, as in Envoy");
        assertFalse(parse("lbkit.yaml", upstream.formatted("true")).upstreams().get("app").outlier().alwaysEjectOneHost());

        ConfigException bad = error(upstream.formatted("{ alwaysEjectOneHost: sometimes }"));
        assertEquals("lbkit.yaml: upstreams.app.outlierDetection.alwaysEjectOneHost: must be true or false, got 'sometimes'",
                bad.getMessage());
        ConfigException zero = error(upstream.formatted("{ consecutive5xx: 0 }"));
        assertEquals("upstreams.app.outlierDetection.consecutive5xx", zero.path());
        assertEquals("must be between 1 and 1000000, got 0", zero.problem());
        assertEquals(Duration.ofSeconds(600), parse("lbkit.yaml", upstream.formatted("{ baseEjectionTime: 10m }"))
                .upstreams().get("app").outlier().maxEjectionTime(), "the cap defaults to the base when that is longer");
    }

    @Test
    void broadcastAndTargetedRoutes() {
        ServeConfig c = parse("lbkit.yaml", """
                upstreams:
                  webhooks: { endpoints: [{ address: '127.0.0.1:9001', id: backend_one }, { address: '127.0.0.1:9002', id: backend_two }] }
                routes:
                  - name: all
                    match: { pathPrefix: /all }
                    upstream: webhooks
                    mode: broadcast
                  - name: quorum
                    match: { pathPrefix: /q }
                    upstream: webhooks
                    mode: broadcast
                    fanOut: { aggregate: quorum, quorum: 1, primary: backend_two }
                  - name: one
                    upstream: webhooks
                    mode: targeted
                    target: query:backend
                """);
        RouteSpec all = c.routes().get(0);
        assertEquals(RouteSpec.Mode.BROADCAST, all.mode());
        assertEquals(new ServeConfig.FanOutSpec(ServeConfig.FanOutSpec.Aggregate.ALL, 0, null, true), all.fanOut());
        assertEquals(new ServeConfig.FanOutSpec(ServeConfig.FanOutSpec.Aggregate.QUORUM, 1, "backend_two", false),
                c.routes().get(1).fanOut());
        RouteSpec one = c.routes().get(2);
        assertEquals(RouteSpec.Mode.TARGETED, one.mode());
        assertEquals(new ServeConfig.TargetSpec(HashKey.Source.QUERY, "backend"), one.target());

        String up = "upstreams: { w: { endpoints: [{ address: '127.0.0.1:1', id: a }] } }\n";
        assertEquals("routes[0].fanOut.quorum",
                error(up + "routes: [{ upstream: w, mode: broadcast, fanOut: { aggregate: all, quorum: 2 } }]").path());
        assertEquals("routes[0].fanOut.quorum",
                error(up + "routes: [{ upstream: w, mode: broadcast, fanOut: { aggregate: quorum } }]").path());
        assertEquals("routes[0].fanOut.primary",
                error(up + "routes: [{ upstream: w, mode: broadcast, fanOut: { primary: b } }]").path());
        assertEquals("routes[0].fanOut",
                error(up + "routes: [{ upstream: w, fanOut: { aggregate: all } }]").path());
        assertEquals("routes[0].target",
                error(up + "routes: [{ upstream: w, mode: targeted }]").path());
        assertEquals("routes[0].target",
                error(up + "routes: [{ upstream: w, mode: targeted, target: uri }]").path());
        assertEquals("routes[0].target",
                error(up + "routes: [{ upstream: w, target: 'header:X-B' }]").path());
    }

    @Test
    void adminListenerIsOffUnlessConfiguredAndNeedsAToken() {
        String ups = "upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\n";
        assertNull(ConfigLoader.parse("lbkit.yaml", ups).admin());
        ServeConfig.AdminSpec a = ConfigLoader.parse("lbkit.yaml", ups
                + "admin: { listen: '127.0.0.1:9090', token: '${T}', stateFile: /var/lib/lbkit/state.json }",
                k -> k.equals("T") ? "a-token-of-sixteen-or-more" : null).admin();
        assertEquals("127.0.0.1", a.host());
        assertEquals(9090, a.port());
        assertEquals("a-token-of-sixteen-or-more", a.token());
        assertEquals(List.of("127.0.0.0/8", "::1"), a.allowList(), "loopback by default");
        assertEquals(Path.of("/var/lib/lbkit/state.json"), a.stateFile());
        assertFalse(a.toString().contains("sixteen"), "the token stays out of logs");
        assertEquals("admin.token", error(ups + "admin: { listen: 9090 }").path());
        assertEquals("admin.token", error(ups + "admin: { listen: 9090, token: short }").path());
        assertEquals("admin.listen", error(ups + "admin: { listen: 'x:y', token: a-token-of-sixteen-or-more }").path());
        assertEquals("admin.allow", error(ups + "admin: { listen: 9090, token: a-token-of-sixteen-or-more, allow: [10.0.0.0/99] }").path());
        assertEquals("admin.tokn", error(ups + "admin: { listen: 9090, tokn: a-token-of-sixteen-or-more }").path());
    }

    @Test
    void unsetEnvironmentVariableIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("x.yaml",
                "upstreams: { app: { endpoints: ['127.0.0.1:1'] } }\nroutes: [{ upstream: app, sticky: { key: '${NOPE}' } }]",
                k -> null));
        assertEquals("routes[0].sticky.key", e.path());
        assertEquals("environment variable NOPE is not set", e.problem());
    }

    @Test
    void syntaxErrorsGiveLineAndColumn() {
        ConfigException e = error("upstreams:\n  app: [\n");
        assertEquals("", e.path());
        assertTrue(e.problem().startsWith("not valid YAML at line"), e.problem());
        assertEquals("lbkit.yaml: the file is empty", error("").getMessage());
    }

    @Test
    void missingFileIsAConfigError(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("none.yaml")));
        assertEquals("no such file", e.problem());
    }
}
