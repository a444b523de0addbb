package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.AddedHeaders;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AddedHeaderRulesTest {

    private static final Upstream UP = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build();

    private static final AddedHeaders OUTER = AddedHeaders.builder()
            .add("X-A", "a", false).add("X-B", "b", true).addTlsOnly("X-T", "t", true).build();

    /** The fields added, as "name: value" lines. */
    private static List<String> added(ProxyConfig config, Route route, int status, String scheme) {
        List<String> out = new ArrayList<>();
        AddedHeaderRules.apply(config, route, status, scheme, new HeaderSink() {
            @Override
            public void add(String name, String value) {
                out.add(name + ": " + value);
            }

            @Override
            public void set(String name, String value) {
                throw new AssertionError("add_header adds, it never replaces: " + name);
            }
        });
        return out;
    }

    @Test
    void withoutAlwaysOnlyOnNginxsTenStatuses() {
        Route r = Route.builder("r", UP).build();
        ProxyConfig c = ProxyConfig.builder().addedHeaders(OUTER).route(r).build();
        for (int st = 100; st < 600; st++) {
            boolean listed = st == 200 || st == 201 || st == 204 || st == 206 || st == 301 || st == 302 || st == 303
                    || st == 304 || st == 307 || st == 308;
            assertEquals(listed ? List.of("X-A: a", "X-B: b") : List.of("X-B: b"), added(c, r, st, "http"), "" + st);
        }
    }

    @Test
    void tlsOnlyFieldsOnlyOverTls() {
        Route r = Route.builder("r", UP).build();
        ProxyConfig c = ProxyConfig.builder().addedHeaders(OUTER).route(r).build();
        assertEquals(List.of("X-A: a", "X-B: b", "X-T: t"), added(c, r, 200, "https"));
        assertEquals(List.of("X-B: b", "X-T: t"), added(c, r, 503, "https"));
    }

    @Test
    void aRouteWithItsOwnFieldsDoesNotInheritNoneStopsInheritanceNullInherits() {
        Route own = Route.builder("own", UP).addedHeaders(AddedHeaders.builder().add("X-R", "r", false).build()).build();
        Route none = Route.builder("none", UP).addedHeaders(AddedHeaders.none()).build();
        Route inherits = Route.builder("inherits", UP).build();
        ProxyConfig c = ProxyConfig.builder().addedHeaders(OUTER).route(own).route(none).route(inherits).build();
        assertEquals(List.of("X-R: r"), added(c, own, 200, "http"));
        assertEquals(List.of(), added(c, none, 200, "http"));
        assertNull(AddedHeaderRules.effective(c, none));
        assertEquals(List.of("X-A: a", "X-B: b"), added(c, inherits, 200, "http"));
        assertEquals(List.of("X-A: a", "X-B: b"), added(c, null, 200, "http"), "no route: the proxy's");
    }

    @Test
    void seed004PresetIsTheGuidesSetEveryOneAlways() {
        AddedHeaders h = AddedHeaders.securityPreset("seed-004");
        assertEquals(List.of("X-Frame-Options", "X-Content-Type-Options", "X-XSS-Protection", "Referrer-Policy",
                "Content-Security-Policy", "Strict-Transport-Security"),
                h.fields().stream().map(AddedHeaders.Field::name).toList());
        assertTrue(h.fields().stream().allMatch(AddedHeaders.Field::always));
        assertEquals(List.of("Strict-Transport-Security"),
                h.fields().stream().filter(AddedHeaders.Field::tlsOnly).map(AddedHeaders.Field::name).toList());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AddedHeaders.securityPreset("strict"));
        assertEquals("securityHeaders must be 'seed-004', got 'strict'", e.getMessage());
    }

    @Test
    void badNamesAndValuesAreRefusedNamingThem() {
        AddedHeaders.Builder b = AddedHeaders.builder();
        assertEquals("header name must be a token, got 'X A'",
                assertThrows(IllegalArgumentException.class, () -> b.add("X A", "v", false)).getMessage());
        assertEquals("header 'X-A': value must be non-empty visible ASCII or spaces, got ''",
                assertThrows(IllegalArgumentException.class, () -> b.add("X-A", "", false)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.add("X-A", "a\r\nX-Evil: 1", true));
    }
}
