package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Endpoints given by host name: resolved by the engine; a name that does not resolve is a connect failure. */
class EndpointNamesIT {

    /** A name reserved never to resolve (RFC 6761). */
    static final String UNKNOWN = "no-such-backend.invalid";

    static TestBackend a;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
    }

    @AfterAll
    static void stop() {
        a.close();
    }

    private static ProxyFixture proxy(ProxyEngine kind, Upstream up) {
        return new ProxyFixture(kind, ProxyConfig.builder().route(Route.builder("all", up).build()).build());
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void anEndpointGivenAsLocalhostIsServed(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(Endpoint.builder("a").host("localhost").port(a.port()).build())
                .build();
        Map<String, List<String>> seen = Outcomes.record(up);
        try (ProxyFixture p = proxy(kind, up)) {
            HttpResponse<String> r = p.get("/id");
            assertEquals(200, r.statusCode());
            assertEquals("a", r.headers().firstValue("X-Served-By").orElseThrow());
            assertEquals(List.of("RESPONSE 200"), ProxyFailuresIT.outcomes(seen, "a", 1));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void anUnresolvableNameIsAConnectFailureAndTheNextEndpointServes(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(Endpoint.builder("unknown").host(UNKNOWN).port(8080).build())
                .endpoint(ProxyFixture.endpoint(a)).build();
        Map<String, List<String>> seen = Outcomes.record(up);
        try (ProxyFixture p = proxy(kind, up)) {
            for (int i = 0; i < 4; i++) { // round robin: the unknown name is picked among the first two
                HttpResponse<String> r = p.get("/id");
                assertEquals(200, r.statusCode());
                assertEquals("a", r.headers().firstValue("X-Served-By").orElseThrow());
            }
            ProxyFailuresIT.outcomes(seen, "a", 4);
        }
        assertEquals(List.of("CONNECT_FAILURE"), seen.get("unknown"));
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void onlyAnUnresolvableNameIs502(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(Endpoint.builder("unknown").host(UNKNOWN).port(8080).build())
                .build();
        Map<String, List<String>> seen = Outcomes.record(up);
        try (ProxyFixture p = proxy(kind, up)) {
            assertEquals(502, p.get("/id").statusCode());
            assertEquals(List.of("CONNECT_FAILURE"), ProxyFailuresIT.outcomes(seen, "unknown", 1));
        }
    }
}
