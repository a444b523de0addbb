package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Targeted routing: a header, query parameter or form field names the endpoint, strictly. */
class TargetedIT {

    static TestBackend a;
    static TestBackend b;
    static TestBackend c;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
        b = new TestBackend("b");
        c = new TestBackend("c");
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
        c.close();
    }

    static Upstream upstream() {
        return Upstream.builder("targets").endpoint(ProxyFixture.endpoint(a)).endpoint(ProxyFixture.endpoint(b))
                .endpoint(ProxyFixture.endpoint(c)).build();
    }

    static ProxyFixture proxy(ProxyEngine kind, Route route) {
        return new ProxyFixture(kind, ProxyConfig.builder().route(route).build());
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void headerNamesTheEndpoint(ProxyEngine kind) throws Exception {
        Upstream up = upstream();
        try (ProxyFixture p = proxy(kind, Route.builder("t", up).target(RequestValue.header("X-Backend")).build())) {
            for (String id : new String[] {"b", "b", "c", "a", "c", "c", "b"}) {
                HttpResponse<String> r = p.send(p.request("/id").header("X-Backend", " " + id + " ").GET().build());
                assertEquals(200, r.statusCode());
                assertEquals(id, r.body());
                assertEquals(id, r.headers().firstValue("X-Served-By").orElseThrow());
            }
            assertEquals(400, p.get("/id").statusCode(), "no value");
            assertEquals(404, p.send(p.request("/id").header("X-Backend", "zzz").GET().build()).statusCode(),
                    "no such endpoint");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void unavailableTargetIs503AndNeverAnotherEndpoint(ProxyEngine kind) throws Exception {
        Upstream up = upstream();
        try (ProxyFixture p = proxy(kind, Route.builder("t", up).target(RequestValue.query("backend")).build())) {
            up.setState("b", EndpointState.DOWN);
            int ha = a.hits("/id");
            int hc = c.hits("/id");
            for (int i = 0; i < 4; i++) {
                assertEquals(503, p.get("/id?backend=b").statusCode());
            }
            assertEquals(ha, a.hits("/id"));
            assertEquals(hc, c.hits("/id"));
            assertEquals(0, up.status("a").orElseThrow().inFlight());
            assertEquals(0, up.status("c").orElseThrow().inFlight());
            up.setState("b", EndpointState.UP);
            assertEquals("b", p.get("/id?x=1&backend=b&backend=c").body(), "the first parameter of that name");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void formFieldNamesTheEndpointAndTheBodyStillReachesIt(ProxyEngine kind) throws Exception {
        Upstream up = upstream();
        try (ProxyFixture p = proxy(kind, Route.builder("t", up).target(RequestValue.param("backend")).build())) {
            String form = "event=push&backend=c&payload=" + "x".repeat(50_000);
            HttpResponse<String> r = p.send(p.request("/upload")
                    .header("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("c", r.headers().firstValue("X-Served-By").orElseThrow());
            CRC32 crc = new CRC32();
            byte[] bytes = form.getBytes(StandardCharsets.US_ASCII);
            crc.update(bytes);
            assertEquals(bytes.length + " " + crc.getValue(), r.body(), "the exact body reached the backend");

            // percent-encoded value
            r = p.send(p.request("/id").header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("backend=%61")).build());
            assertEquals("a", r.body());
            // the query parameter wins over the form field
            r = p.send(p.request("/id?backend=b").header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("backend=a")).build());
            assertEquals("b", r.body());
            // a body that is not a form is not read for the target
            r = p.send(p.request("/id").header("Content-Type", "text/plain")
                    .POST(HttpRequest.BodyPublishers.ofString("backend=a")).build());
            assertEquals(400, r.statusCode());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void cookieAndMetadataTargets(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("targets")
                .endpoint(Endpoint.builder("a").host("127.0.0.1").port(a.port()).metadata(Map.of("zone", "east")).build())
                .endpoint(Endpoint.builder("b").host("127.0.0.1").port(b.port()).metadata(Map.of("zone", "west")).build())
                .build();
        try (ProxyFixture p = proxy(kind, Route.builder("t", up).target(RequestValue.cookie("zone"), "zone").build())) {
            assertEquals("b", p.send(p.request("/id").header("Cookie", "x=1; zone=west").GET().build()).body());
            assertEquals("a", p.send(p.request("/id").header("Cookie", "zone=\"east\"").GET().build()).body());
            assertEquals(404, p.send(p.request("/id").header("Cookie", "zone=b").GET().build()).statusCode(),
                    "matched on metadata, not on ids");
        }
    }

    @Test
    void builderValidation() {
        Upstream up = upstream();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Route.builder("t", up).hashKey(RequestValue.formField("k")).build());
        assertEquals("route 't': hashKey cannot read the request body, got form:k", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RequestValue.header("bad header"));
        assertEquals("header name must be a header name, got 'bad header'", e.getMessage());
    }
}
