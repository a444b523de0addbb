package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import org.junit.jupiter.api.Test;

class AdmissionTest {

    private static final Upstream UP = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build();
    private static final Route ROUTE = Route.builder("r", UP).build();
    private static final ProxyConfig CONFIG = ProxyConfig.builder().route(ROUTE).maxRequestBodyBytes(1000).build();

    private static Admission.Refusal check(TestRequest req, long length) {
        return Admission.check(CONFIG, ROUTE, req, length);
    }

    private static TestRequest get(String path) {
        return new TestRequest("GET", path).header("Host", "h.example");
    }

    @Test
    void aPlainRequestPasses() {
        assertNull(check(get("/a%2Fb").query("d=%zz"), -1));
        assertNull(check(new TestRequest("GET", "/").protocol("HTTP/1.0"), 0), "HTTP/1.0 may omit Host");
        assertNull(check(get("/").header("Transfer-Encoding", "chunked"), -1));
        assertNull(check(get("/"), 1000));
    }

    @Test
    void refusalsWithNginxStatuses() {
        assertEquals(400, check(new TestRequest("GET", "/"), -1).status(), "HTTP/1.1 without Host");
        assertEquals(400, check(get("/").header("Host", "other.example"), -1).status(), "two Hosts");
        assertEquals(400, check(new TestRequest("GET", "/").header("Host", "a b"), -1).status());
        assertEquals(400, check(new TestRequest("CONNECT", "/").header("Host", "h"), -1).status());
        assertEquals(405, check(new TestRequest("TRACE", "/").header("Host", "h"), -1).status());
        assertEquals(400, check(new TestRequest("POST", "/").protocol("HTTP/1.0").header("Transfer-Encoding", "chunked"), -1)
                .status());
        assertEquals(501, check(get("/").header("Transfer-Encoding", "identity, chunked"), -1).status());
        assertEquals(501, check(get("/").header("Transfer-Encoding", "chunked").header("Transfer-Encoding", "chunked"), -1)
                .status());
        Admission.Refusal path = check(get("/a%zz"), -1);
        assertEquals(400, path.status());
        assertEquals("a malformed percent-escape in the path", path.reason());
        Admission.Refusal big = check(get("/"), 1001);
        assertEquals(413, big.status());
        assertTrue(big.bodyTooLarge());
    }

    @Test
    void aRequestNoRouteTakesStillGetsItsOwnChecks() {
        assertEquals(400, Admission.check(CONFIG, null, new TestRequest("CONNECT", "/").header("Host", "h"), -1).status());
        assertEquals(413, Admission.check(CONFIG, null, get("/"), 1001).status(), "the proxy's limit");
        assertNull(Admission.check(CONFIG, null, get("/"), 10));
    }

    @Test
    void aBroadcastRouteHasItsOwnBodyLimit() {
        Route broadcast = Route.builder("b", UP).broadcast(FanOut.builder().maxBodyBytes(5000).build()).build();
        assertEquals(5000, Admission.bodyLimit(CONFIG, broadcast));
        assertNull(Admission.check(CONFIG, broadcast, get("/"), 4000));
        assertEquals(1000, Admission.bodyLimit(CONFIG, ROUTE));
    }
}
