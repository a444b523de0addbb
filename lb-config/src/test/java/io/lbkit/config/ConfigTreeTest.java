package io.lbkit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTreeTest {

    private static Map<String, Object> tree(Object upstreamEndpoints, Map<String, Object> proxy) {
        return Map.of(
                "proxy", proxy,
                "upstreams", Map.of("my-api", Map.of(
                        "policy", "least-conn",
                        "endpoints", upstreamEndpoints,
                        "health-check", Map.of("path", "/health", "interval", "1s"))),
                "routes", List.of(Map.of("name", "api", "match", Map.of("path-prefix", "/api/"), "upstream", "my-api")));
    }

    @Test
    void relaxedKeysFindTheFilesKeysAndNamesStayAsWritten() {
        ServeConfig c = ConfigTree.read("lbkit", tree(List.of("127.0.0.1:8081", Map.of("address", "127.0.0.1:8082",
                "weight", "3")), Map.of("connect-timeout", "2s", "READ_TIMEOUT", "5s", "servedByHeader", "off")));
        assertEquals(Duration.ofSeconds(2), c.proxy().connectTimeout());
        assertEquals(Duration.ofSeconds(5), c.proxy().readTimeout());
        assertNull(c.proxy().servedByHeader());
        ServeConfig.UpstreamSpec u = c.upstreams().get("my-api");
        assertEquals("least-conn", u.policyName());
        assertEquals(List.of("127.0.0.1:8081", "127.0.0.1:8082"), u.endpoints().stream().map(e -> e.id()).toList());
        assertEquals(3, u.endpoints().get(1).weight());
        assertEquals("/health", u.activeCheck().path());
        assertEquals(Duration.ofSeconds(1), u.activeCheck().interval());
        assertEquals("/api/", c.routes().get(0).match().pathPrefix());
    }

    @Test
    void anErrorNamesThePlaceAsWritten() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.read("lbkit",
                tree(List.of("127.0.0.1:99999"), Map.of())));
        assertEquals("upstreams.my-api.endpoints[0]", e.path());
        assertTrue(e.problem().contains("99999"), e.problem());

        e = assertThrows(ConfigException.class, () -> ConfigTree.read("lbkit",
                tree(List.of("127.0.0.1:8081"), Map.of("connect-timeout", "soon"))));
        assertEquals("proxy.connect-timeout", e.path());

        e = assertThrows(ConfigException.class, () -> ConfigTree.read("lbkit",
                tree(List.of("127.0.0.1:8081"), Map.of("conect-timeout", "1s"))));
        assertEquals("proxy.conect-timeout", e.path());
        assertTrue(e.problem().startsWith("unknown setting"), e.problem());
    }

    @Test
    void theFileStaysStrict() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("f.yaml",
                "proxy: {connect-timeout: 2s}\nupstreams: {a: {endpoints: ['127.0.0.1:8081']}}\n"));
        assertEquals("proxy.connect-timeout", e.path());
    }

    @Test
    void configuredProxyBuildsUpstreamsRoutesAndMonitors() {
        ServeConfig c = ConfigTree.read("lbkit", tree(List.of("127.0.0.1:8081", "127.0.0.1:8082"), Map.of()));
        try (ConfiguredProxy p = ConfiguredProxy.of(c)) {
            Upstream u = p.upstreams().get("my-api");
            assertEquals(2, u.endpoints().size());
            ProxyConfig pc = p.proxyConfig().build();
            assertEquals(1, pc.routes().size());
            assertEquals("api", pc.routes().get(0).name());
            assertNull(p.monitor("my-api"));
            p.start();
            assertNotNull(p.monitor("my-api"));
            assertNotNull(p.checker("my-api"));
        }
    }
}
