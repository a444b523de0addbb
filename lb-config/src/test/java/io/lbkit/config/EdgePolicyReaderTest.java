package io.lbkit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.proxy.AddedHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

class EdgePolicyReaderTest {

    private static final String UP = "upstreams: { app: { endpoints: ['127.0.0.1:9001'] } }\n";

    private static ServeConfig parse(String text) {
        return ConfigLoader.parse("lbkit.yaml", text);
    }

    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> parse(text)).getMessage();
    }

    @Test
    void seed004AtTheTopAndARouteWithItsOwnHeadersAndRules() {
        ServeConfig c = parse(UP + """
                securityHeaders: seed-004
                headers:
                  X-Served: edge
                  X-Policy: { value: strict, always: true }
                access: [allow 10.0.0.0/8, allow 127.0.0.1, deny all]
                routes:
                  - name: admin
                    match: { pathPrefix: /admin }
                    upstream: app
                    headers: { X-Admin: "1" }
                    access: [allow 203.0.113.5, deny all]
                  - name: rest
                    upstream: app
                """);
        EdgePolicy p = c.policy();
        List<AddedHeaders.Field> top = p.top().headers().fields();
        assertEquals(8, top.size(), "six of the preset, two of headers");
        assertEquals(new AddedHeaders.Field("X-Served", "edge", false, false), top.get(6));
        assertEquals(new AddedHeaders.Field("X-Policy", "strict", true, false), top.get(7));
        assertTrue(p.top().access().isAllowed(new byte[] {127, 0, 0, 1}));
        assertFalse(p.top().access().isAllowed(new byte[] {(byte) 203, 0, 113, 5}));

        EdgePolicy.Level admin = p.routes().get("admin");
        assertEquals(List.of(new AddedHeaders.Field("X-Admin", "1", false, false)), admin.headers().fields());
        assertTrue(admin.access().isAllowed(new byte[] {(byte) 203, 0, 113, 5}));
        assertNull(p.routes().get("rest"), "inherits the top level");
    }

    @Test
    void mapsGeoTablesGeoBlocksMapMatchesAndKeyedRateLimits(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Path geoFile = dir.resolve("countries.txt");
        java.nio.file.Files.writeString(geoFile, "10.0.0.0/8 US;\n192.0.2.0/24 GB;\n");
        String text = UP + """
                maps:
                  tier: { source: "header:X-Api-Key", entries: { premium-key-123: premium, "~^biz-": business }, default: free }
                geo:
                  country: { file: countries.txt, default: "no" }
                  office: { entries: { 203.0.113.0/24: "yes" }, default: "no" }
                geoBlock: { geo: country, values: ["no"] }
                routes:
                  - name: premium
                    upstream: app
                    mapMatch: { map: tier, values: [premium, business] }
                    geoBlock: { geo: office, values: ["no"] }
                  - name: rest
                    upstream: app
                    rateLimits:
                      - { rate: 10r/s, burst: 20, nodelay: true, key: "map:tier", status: 429 }
                      - { rate: 100r/m, key: "header:X-Api-Key", maxKeys: 1000 }
                    limitDryRun: true
                """;
        ServeConfig c = ConfigLoader.parse(dir.resolve("lbkit.yaml").toString(), text);
        EdgePolicy p = c.policy();
        assertEquals("US", p.top().geoBlock().table().lookup(new byte[] {10, 1, 1, 1}));
        assertEquals("no", p.top().geoBlock().table().lookup(new byte[] {8, 8, 8, 8}), "the config's default");
        EdgePolicy.Level premium = p.routes().get("premium");
        assertEquals("premium", premium.mapMatch().lookup("PREMIUM-KEY-123"));
        assertEquals("business", premium.mapMatch().lookup("biz-1"));
        assertEquals(List.of("premium", "business"), premium.mapValues());
        assertEquals("yes", premium.geoBlock().table().lookup(new byte[] {(byte) 203, 0, 113, 9}));
        EdgePolicy.Level rest = p.routes().get("rest");
        assertEquals(2, rest.rateLimits().size());
        assertEquals(429, rest.rateLimits().get(0).limiter().rejectStatus());
        assertTrue(rest.rateLimits().get(0).limiter().isNoDelay());
        assertEquals("free", rest.rateLimits().get(0).map().lookup(null));
        assertEquals("header:X-Api-Key", rest.rateLimits().get(1).key().toString());
        assertEquals(1000, rest.rateLimits().get(1).limiter().maximumKeys());
        assertTrue(rest.limitDryRun());
    }

    @Test
    void unknownMapsAndGeoTablesAreNamed() {
        assertEquals("lbkit.yaml: routes[0].mapMatch.map: no map named 'tier' (defined: [])",
                error(UP + "routes: [{ upstream: app, mapMatch: { map: tier, values: [a] } }]\n"));
        assertEquals("lbkit.yaml: geoBlock.geo: no geo table named 'c' (defined: [])",
                error(UP + "geoBlock: { geo: c, values: [a] }\n"));
        assertEquals("lbkit.yaml: routes[0].rateLimits[0].key: must be client-ip, uri, header:NAME, cookie:NAME, "
                + "query:NAME (or map:NAME for a rate limit key), got 'ip'",
                error(UP + "routes: [{ upstream: app, rateLimits: [{ rate: 1r/s, key: ip }] }]\n"));
    }

    @Test
    void aSharedZoneIsReadAndCheckedWithoutConnecting() {
        ServeConfig c = parse(UP + """
                routes:
                  - name: api
                    upstream: app
                    rateLimits:
                      - { rate: 1r/s }
                      - { rate: 10r/s, zone: { name: api-1, store: "redis://10.255.255.1:6379" } }
                      - { rate: 10r/s, zone: { name: api.2, store: "rediss://h:6380/2", failOpen: false } }
                """);
        EdgePolicy.Level api = c.policy().routes().get("api");
        assertEquals(3, api.rateLimits().size());
        assertNull(api.sharedZones().get(0));
        assertEquals(new EdgePolicy.SharedZone("api-1", "redis://10.255.255.1:6379", true), api.sharedZones().get(1));
        assertEquals(new EdgePolicy.SharedZone("api.2", "rediss://h:6380/2", false), api.sharedZones().get(2));
        assertEquals("lbkit.yaml: routes[0].rateLimits[0].zone.store: must be a redis:// or rediss:// URI",
                error(UP + "routes: [{ upstream: app, rateLimits: [{ rate: 1r/s, zone: { name: a, store: memory } }] }]\n"));
        assertEquals("lbkit.yaml: routes[0].rateLimits[0].zone.name: must be letters, digits and -_., got 'a b'",
                error(UP + "routes: [{ upstream: app, rateLimits: [{ rate: 1r/s, zone: { name: a b, store: redis://h } }] }]\n"));
    }

    @Test
    void keyedConnectionLimits() {
        ServeConfig c = parse(UP + """
                maps:
                  tier: { source: "header:X-Api-Key", entries: { premium-key: "" }, default: free }
                routes:
                  - name: api
                    upstream: app
                    connLimits:
                      - { max: 10, key: "header:X-Api-Key", status: 429 }
                      - { max: 100, key: "map:tier", maxKeys: 50 }
                """);
        EdgePolicy.Level api = c.policy().routes().get("api");
        assertEquals(2, api.connLimits().size());
        assertEquals(10, api.connLimits().get(0).limiter().maxConcurrent());
        assertEquals(429, api.connLimits().get(0).limiter().rejectStatus());
        assertEquals("header:X-Api-Key", api.connLimits().get(0).key().toString());
        assertEquals(503, api.connLimits().get(1).limiter().rejectStatus(), "nginx's limit_conn_status");
        assertEquals(50, api.connLimits().get(1).limiter().maximumKeys());
        assertEquals("free", api.connLimits().get(1).map().lookup("other"));
        assertEquals("lbkit.yaml: routes[0].connLimits[0].max: is required: the requests of one key in flight at "
                + "once (limit_conn N)", error(UP + "routes: [{ upstream: app, connLimits: [{ key: uri }] }]\n"));
    }

    @Test
    void limitRateOnTheEventLoopEngineOnly() {
        EdgePolicy.Level dl = parse(UP + "routes: [{ name: dl, upstream: app, limitRate: 64k, limitRateAfter: 1m }]\n")
                .policy().routes().get("dl");
        assertEquals(64 * 1024, dl.limitRate());
        assertEquals(1024 * 1024, dl.limitRateAfter());
        assertEquals("lbkit.yaml: routes[0].limitRate: is applied by the event-loop engine only (engine: servlet "
                + "does not pace responses)",
                error("engine: servlet\n" + UP + "routes: [{ upstream: app, limitRate: 1k }]\n"));
    }

    @Test
    void nothingSetIsNoPolicy() {
        assertSame(EdgePolicy.NONE, parse(UP).policy());
    }

    @Test
    void badSettingsNameTheirPlace() {
        assertEquals("lbkit.yaml: securityHeaders: must be 'seed-004', got 'strict'",
                error(UP + "securityHeaders: strict\n"));
        assertEquals("lbkit.yaml: headers.X-A: header 'X-A': value must be non-empty visible ASCII or spaces, got 'é'",
                error(UP + "headers: { X-A: é }\n"));
        assertEquals("lbkit.yaml: access[0]: must be 'allow CIDR|all' or 'deny CIDR|all', got 'permit 10.0.0.0/8'",
                error(UP + "access: [permit 10.0.0.0/8]\n"));
        assertTrue(error(UP + "access: [allow 10.0.0.0/33]\n").startsWith("lbkit.yaml: access[0]: bad CIDR"));
        assertTrue(error(UP + "headers: { X-A: { value: v, when: always } }\n")
                .startsWith("lbkit.yaml: headers.X-A.when: unknown setting"));
    }
}
