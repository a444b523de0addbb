package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Proxying and streaming in both containers: routing, bodies both ways, HEAD, SSE. */
class ProxyStreamingIT {

    static TestBackend a;
    static TestBackend b;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
        b = new TestBackend("b");
    }

    @AfterAll
    static void stop() throws Exception {
        a.close();
        b.close();
    }

    private static ProxyFixture proxy(ProxyEngine kind) {
        Upstream up = Upstream.builder("backend").endpoint(ProxyFixture.endpoint(a))
                .endpoint(ProxyFixture.endpoint(b)).build();
        return new ProxyFixture(kind, ProxyConfig.builder()
                .route(Route.builder("api", up).pathPrefix("/").methods("GET", "POST", "PUT", "HEAD").build())
                .maxRequestBodyBytes(64L << 20)
                .build());
    }

    /**
     * Chunk headers that arrive without their data: Tomcat then reports the input ready and a read
     * gives 0 bytes; the body must go on (it once stalled until the backend's idle timeout).
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void chunkHeadersArrivingAloneDoNotStallTheBody(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind)) {
            String raw = RawHttp.sendChunksApart(p.port(), "/echo", 20, "0123456789", 5);
            assertEquals(200, RawHttp.status(raw), raw);
            assertTrue(RawHttp.body(raw).replaceAll("\r\n[0-9a-fA-F]+\r\n|^[0-9a-fA-F]+\r\n|\r\n0\r\n\r\n$", "")
                    .equals("0123456789".repeat(20)), raw);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void roundRobinWithServedBy(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind)) {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = p.get("/id");
                assertEquals(200, r.statusCode());
                assertEquals(r.body(), r.headers().firstValue("X-Served-By").orElseThrow());
                assertEquals(r.body(), r.headers().firstValue("X-Instance-ID").orElseThrow());
                seen.add(r.body());
            }
            assertEquals(Set.of("a", "b"), seen);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void unmatchedRequestGoesToTheApplication(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind)) {
            HttpResponse<String> r = p.send(p.request("/id").method("DELETE", HttpRequest.BodyPublishers.noBody()).build());
            assertEquals(404, r.statusCode());
            assertTrue(r.headers().firstValue("X-Served-By").isEmpty());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void smallAndTenMebibyteBodiesBothWays(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind)) {
            HttpResponse<String> small = p.send(p.request("/echo")
                    .POST(HttpRequest.BodyPublishers.ofString("hello")).build());
            assertEquals(200, small.statusCode());
            assertEquals("hello", small.body());

            long size = 10L << 20;
            long crc = TestBackend.patternCrc(size);
            // upload, chunked (no Content-Length: the JDK client streams an InputStream publisher)
            HttpResponse<String> up = p.send(p.request("/upload")
                    .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> ProxyFixture.patternStream(size))).build());
            assertEquals(200, up.statusCode());
            assertEquals(size + " " + crc, up.body());
            // upload with Content-Length
            HttpResponse<String> up2 = p.send(p.request("/upload").POST(HttpRequest.BodyPublishers.fromPublisher(
                    HttpRequest.BodyPublishers.ofInputStream(() -> ProxyFixture.patternStream(size)), size)).build());
            assertEquals(size + " " + crc, up2.body());
            // download with Content-Length and chunked
            for (String q : new String[] {"", "&chunked=1"}) {
                HttpResponse<InputStream> down = p.stream(p.request("/download?size=" + size + q).GET().build());
                assertEquals(200, down.statusCode());
                if (q.isEmpty()) {
                    assertEquals(String.valueOf(size), down.headers().firstValue("Content-Length").orElseThrow());
                }
                try (InputStream in = down.body()) {
                    long[] cc = ProxyFixture.countAndCrc(in);
                    assertEquals(size, cc[0]);
                    assertEquals(crc, cc[1]);
                }
            }
            // echo streams both ways at once
            HttpResponse<InputStream> echo = p.stream(p.request("/echo")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> ProxyFixture.patternStream(size))).build());
            try (InputStream in = echo.body()) {
                long[] cc = ProxyFixture.countAndCrc(in);
                assertEquals(size, cc[0]);
                assertEquals(crc, cc[1]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void headHasLengthButNoBody(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind)) {
            HttpResponse<String> r = p.send(p.request("/download?size=1000")
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
            assertEquals(200, r.statusCode());
            assertEquals("1000", r.headers().firstValue("Content-Length").orElseThrow());
            assertEquals("", r.body());
            // the connection is still usable: the next request works
            assertEquals(200, p.get("/id").statusCode());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void sseEventsArriveBeforeTheStreamEnds(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind)) {
            String key = UUID.randomUUID().toString();
            HttpResponse<InputStream> r = p.stream(p.request("/sse?events=3&key=" + key).GET().build());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (int e = 0; e < 3; e++) {
                    // the backend writes event e+1 only after we confirm receipt of event e: if the proxy
                    // buffered, this read would never return (the backend gives up after 30 s)
                    assertEquals("id: " + e, in.readLine());
                    assertEquals("data: event " + e, in.readLine());
                    assertEquals("", in.readLine());
                    TestBackend.allow(key);
                }
                assertNull(in.readLine());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void noDecodingNoUserAgentNoCookieJar(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind)) {
            HttpResponse<String> r = p.send(p.request("/headers?x=1&y=%20")
                    .header("Accept-Encoding", "gzip").build());
            String body = r.body();
            assertTrue(body.startsWith("GET /headers?x=1&y=%20\n"), body);
            assertTrue(body.contains("accept-encoding: gzip\n"), body);
            assertFalse(body.toLowerCase().contains("jetty"), body); // no User-Agent of the proxy's client
        }
    }
}
