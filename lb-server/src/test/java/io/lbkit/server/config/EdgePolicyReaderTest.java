package io.lbkit.server.config;

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
