package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.net.http.HttpResponse;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Header rules in both containers: hop-by-hop, forwarding headers and spoofing, Via, Host, session headers. */
class ProxyHeadersIT {

    static TestBackend a;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
    }

    @AfterAll
    static void stop() {
        a.close();
    }

    private static ProxyFixture proxy(ProxyEngine kind, ProxyConfig.Builder b) {
        Upstream up = Upstream.builder("backend").endpoint(ProxyFixture.endpoint(a)).build();
        return new ProxyFixture(kind, b.route(Route.builder("all", up).build()).build());
    }

    private static String backendSaw(ProxyFixture p, String... extraHeaders) throws Exception {
        String[] lines = new String[extraHeaders.length + 3];
        lines[0] = "GET /headers HTTP/1.1";
        lines[1] = "Host: front.example:8080";
        lines[2] = "Connection: close";
        System.arraycopy(extraHeaders, 0, lines, 3, extraHeaders.length);
        String raw = RawHttp.exchange(p.port(), lines);
        assertEquals(200, RawHttp.status(raw), raw);
        return RawHttp.body(raw);
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void hopByHopRequestHeadersAreRemovedIncludingConnectionTokens(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String raw = RawHttp.exchange(p.port(), "GET /headers HTTP/1.1", "Host: front.example",
                    "Connection: close, X-Foo", "X-Foo: secret", "Keep-Alive: timeout=5", "TE: trailers, deflate;q=0.5",
                    "Proxy-Authorization: Basic abc", "Proxy-Connection: keep-alive",
                    "Trailer: X-T", "X-Keep: yes");
            String saw = RawHttp.body(raw);
            assertTrue(saw.contains("\nx-keep: yes\n"), saw);
            // of TE only the trailers token is end-to-end (gRPC backends need it)
            assertTrue(saw.contains("\nte: trailers\n"), saw);
            for (String gone : new String[] {"x-foo", "keep-alive", "proxy-authorization", "proxy-connection",
                    "upgrade", "trailer"}) {
                assertFalse(saw.contains("\n" + gone + ":"), gone + " reached the backend:\n" + saw);
            }
            assertFalse(saw.toLowerCase(Locale.ROOT).contains("x-foo"), saw);
        }
    }

    /**
     * Trailer fields cross the proxy both ways on chunked messages: the client's request trailer
     * reaches the backend, the backend's response trailers reach a client that sent
     * {@code TE: trailers}; a session header in the trailers is dropped like one in the headers.
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void trailersPassBothWaysExceptSessionFields(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String raw = RawHttp.exchange(p.port(), "POST /trailers HTTP/1.1", "Host: front.example",
                    "Connection: close", "TE: trailers", "Transfer-Encoding: chunked", "Trailer: X-Client-T",
                    "Content-Type: text/plain", "", "5\r\nhello\r\n0\r\nX-Client-T: from-client\r\n\r\n");
            assertEquals(200, RawHttp.status(raw), raw);
            String head = RawHttp.head(raw).toLowerCase(Locale.ROOT);
            assertTrue(head.contains("transfer-encoding: chunked"), head);
            String body = RawHttp.body(raw);
            assertTrue(body.contains("body 5 te=trailers"), body);
            int end = body.indexOf("\r\n0\r\n");
            assertTrue(end >= 0, "no last chunk: " + body);
            String trailers = body.substring(end + 5).toLowerCase(Locale.ROOT);
            assertTrue(trailers.contains("x-checksum: sum-5\r\n"), trailers);
            assertTrue(trailers.contains("x-req-trailer: from-client\r\n"), trailers);
            assertFalse(trailers.contains("x-new-session-data"), trailers);
        }
    }

    /** A 204 has no body, so no chunked framing either, even for a client that accepts trailers. */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void noContentResponseGetsNoChunkedFramingForATrailerClient(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String raw = RawHttp.exchange(p.port(), "GET /status?code=204 HTTP/1.1", "Host: front.example",
                    "Connection: close", "TE: trailers");
            assertEquals(204, RawHttp.status(raw), raw);
            assertFalse(RawHttp.head(raw).toLowerCase(Locale.ROOT).contains("transfer-encoding"), raw);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void hopByHopAndSessionResponseHeadersAreRemoved(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String raw = RawHttp.exchange(p.port(), "GET /setheaders HTTP/1.1", "Host: front.example",
                    "Connection: close");
            String head = RawHttp.head(raw).toLowerCase(Locale.ROOT);
            assertEquals(200, RawHttp.status(raw));
            assertTrue(head.contains("\r\nx-custom: kept\r\n"), head);
            assertTrue(head.contains("\r\nserver: backend-a\r\n"), head);
            assertTrue(head.contains("\r\nvia: 1.1 inner, 1.1 lbkit\r\n"), head);
            assertTrue(head.contains("\r\nx-served-by: a\r\n"), head);
            assertTrue(head.contains("\r\ndate: "), head);
            // Jetty adds its own Server header too unless HttpConfiguration.setSendServerVersion(false)
            assertEquals(kind.name().equals("jetty") ? 2 : 1, head.split("\r\nserver:", -1).length - 1, head);
            assertEquals(1, head.split("\r\ndate:", -1).length - 1, "one Date header: " + head);
            for (String gone : new String[] {"x-drop-me", "keep-alive", "proxy-authenticate", "x-new-session-data"}) {
                assertFalse(head.contains("\r\n" + gone + ":"), gone + " reached the client:\n" + head);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void expectContinueIsAnsweredByTheContainerAndNotForwarded(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String raw = RawHttp.exchange(p.port(), "POST /headers HTTP/1.1", "Host: front.example",
                    "Connection: close", "Expect: 100-continue", "Content-Length: 5", "", "hello");
            assertTrue(raw.contains("HTTP/1.1 200"), raw);
            String body = raw.substring(raw.indexOf("POST /headers"));
            assertFalse(body.contains("\nexpect:"), body);
            assertTrue(body.contains("\ncontent-length: 5\n"), body);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void connectTraceAndHttp10ChunkedNeverReachTheBackend(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String connect = RawHttp.exchange(p.port(), "CONNECT /tunnel HTTP/1.1", "Host: x");
            // Tomcat refuses CONNECT itself (501) before any filter; on Jetty the filter answers as nginx
            assertEquals(kind.name().equals("tomcat") ? 501 : 400, RawHttp.status(connect), connect);
            String trace = RawHttp.exchange(p.port(), "TRACE /trace HTTP/1.1", "Host: x", "Connection: close");
            assertEquals(405, RawHttp.status(trace), trace);
            assertTrue(RawHttp.head(trace).toLowerCase(Locale.ROOT).contains("allow: "), trace);
            // RFC 9112 section 6.1: faulty framing; answered, then the connection closes, so the
            // request written behind it is never read
            String chunked10 = RawHttp.exchange(p.port(), "POST /chunked10 HTTP/1.0", "Host: x",
                    "Connection: keep-alive", "Transfer-Encoding: chunked", "",
                    "5\r\nhello\r\n0\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(400, RawHttp.status(chunked10), chunked10);
            assertEquals(1, chunked10.split("HTTP/1\\.[01] ", -1).length - 1, chunked10);
            for (String coding : new String[] {"identity, chunked", "gzip, chunked"}) {
                String odd = RawHttp.exchange(p.port(), "POST /coding HTTP/1.1", "Host: x",
                        "Transfer-Encoding: " + coding, "Connection: close", "", "5\r\nhello\r\n0\r\n\r\n");
                // only chunked alone is forwarded; the container may refuse such framing itself first
                assertTrue(RawHttp.status(odd) == 501 || RawHttp.status(odd) == 400, coding + ": " + odd);
            }
            assertEquals(0, a.hits("/tunnel") + a.hits("/trace") + a.hits("/chunked10") + a.hits("/after")
                    + a.hits("/coding"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aNoContentAnswerWithALengthReachesTheClientAsANoContent(ProxyEngine kind) throws Exception {
        try (RawBackend b = new RawBackend(RawBackend.Mode.NO_CONTENT_WITH_LENGTH);
             ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(Route.builder("all",
                     Upstream.builder("nc").endpoint(io.lbkit.core.Endpoint.of("127.0.0.1", b.port())).build())
                     .build()).build())) {
            String raw = RawHttp.exchange(p.port(), "GET /nc HTTP/1.1", "Host: x", "Connection: close");
            assertEquals(204, RawHttp.status(raw), raw);
            assertEquals("", RawHttp.body(raw), raw);
            assertFalse(RawHttp.head(raw).toLowerCase(Locale.ROOT).contains("content-length: 5"), raw);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void noAcceptEncodingIsAddedAndEncodedAnswersPassUndecoded(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String none = backendSaw(p);
            assertFalse(none.contains("accept-encoding"), none);
            String identity = backendSaw(p, "Accept-Encoding: identity");
            assertEquals(1, identity.split("accept-encoding", -1).length - 1, identity);
            assertTrue(identity.contains("\naccept-encoding: identity\n"), identity);
            // nor a Content-Type the client did not send
            String post = RawHttp.body(RawHttp.exchange(p.port(), "POST /headers HTTP/1.1", "Host: x",
                    "Content-Length: 2", "Connection: close", "", "ab"));
            assertTrue(post.startsWith("POST /headers\n"), post);
            assertFalse(post.contains("content-type"), post);
        }
        try (RawBackend gz = new RawBackend(RawBackend.Mode.GZIP);
             ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(Route.builder("all",
                     Upstream.builder("gz").endpoint(io.lbkit.core.Endpoint.of("127.0.0.1", gz.port())).build())
                     .build()).build())) {
            String raw = RawHttp.exchange(p.port(), "GET /g HTTP/1.1", "Host: x", "Accept-Encoding: gzip",
                    "Connection: close");
            assertEquals(200, RawHttp.status(raw), raw);
            String head = RawHttp.head(raw).toLowerCase(java.util.Locale.ROOT);
            assertTrue(head.contains("content-encoding: gzip"), head);
            assertEquals(new String(RawBackend.GZIP_BODY, java.nio.charset.StandardCharsets.ISO_8859_1),
                    RawHttp.body(raw), "the gzip bytes pass as they are");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void forwardingHeadersFromAnUntrustedPeerAreReplaced(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String saw = backendSaw(p, "X-Forwarded-For: 6.6.6.6", "X-Forwarded-Proto: https",
                    "X-Forwarded-Host: evil.example", "X-Forwarded-Port: 1", "Forwarded: for=6.6.6.6;proto=https",
                    "X-Real-IP-Ignored: 1", "X-Real-IP: 6.6.6.6",
                    // underscore spellings reach CGI-style backends as the same variables
                    "X_Forwarded_For: 6.6.6.6", "x_real_ip: 6.6.6.6", "X_Forwarded-Host: evil.example");
            assertTrue(saw.contains("\nx-forwarded-for: 127.0.0.1\n"), saw);
            assertTrue(saw.contains("\nx-forwarded-proto: http\n"), saw);
            assertTrue(saw.contains("\nx-forwarded-host: front.example:8080\n"), saw);
            assertTrue(saw.contains("\nx-forwarded-port: 8080\n"), saw);
            assertTrue(saw.contains("\nforwarded: for=127.0.0.1;host=\"front.example:8080\";proto=http\n"), saw);
            assertTrue(saw.contains("\nvia: 1.1 lbkit\n"), saw);
            assertTrue(saw.contains("\nx-real-ip: 127.0.0.1\n"), saw);
            assertTrue(saw.contains("\nhost: front.example:8080\n"), saw);
            assertFalse(saw.contains("6.6.6.6"), saw);
            assertFalse(saw.contains("evil"), saw);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void forwardingHeadersFromATrustedProxyAreAppendedTo(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder()
                .trustedProxies(CidrRules.parse("allow 127.0.0.0/8; deny all;")).forwardedBy("_edge"))) {
            String saw = backendSaw(p, "X-Real-IP: 203.0.113.7", "X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https",
                    "X-Forwarded-Host: shop.example", "Forwarded: for=\"[2001:db8::7]\";proto=https",
                    "Via: 1.1 cdn");
            assertTrue(saw.contains("\nx-forwarded-for: 203.0.113.7, 127.0.0.1\n"), saw);
            assertTrue(saw.contains("\nx-real-ip: 203.0.113.7\n"), saw);
            assertTrue(saw.contains("\nx-forwarded-proto: https\n"), saw);
            assertTrue(saw.contains("\nx-forwarded-host: shop.example\n"), saw);
            assertTrue(saw.contains("\nforwarded: for=\"[2001:db8::7]\";proto=https, "
                    + "by=_edge;for=127.0.0.1;host=\"front.example:8080\";proto=http\n"), saw);
            assertTrue(saw.contains("\nvia: 1.1 cdn, 1.1 lbkit\n"), saw);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void obfuscatedAndUnknownForwardedFor(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder().forwardedFor(ProxyConfig.ForwardedFor.OBFUSCATED))) {
            String saw1 = backendSaw(p);
            String saw2 = backendSaw(p);
            String line = saw1.lines().filter(l -> l.startsWith("forwarded: ")).findFirst().orElseThrow();
            assertTrue(line.matches("forwarded: for=_[0-9a-f]{12};host=\"front.example:8080\";proto=http"), line);
            assertTrue(saw2.contains(line), "the identifier is stable per client: " + saw2);
        }
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder().forwardedFor(ProxyConfig.ForwardedFor.UNKNOWN)
                .xForwarded(false))) {
            String saw = backendSaw(p, "X-Forwarded-For: 6.6.6.6");
            assertTrue(saw.contains("\nforwarded: for=unknown;"), saw);
            assertFalse(saw.contains("x-forwarded-for"), saw);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void sessionHeadersAreStrippedInEverySpelling(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder())) {
            String saw = backendSaw(p, "X-Session-ID: forged", "x-session-data: {\"admin\":true}",
                    "X_Session_Id: forged2", "X-NEW-SESSION-DATA: {}", "x_new_session_data: {}", "X-Session: x",
                    "X-Sessionless: kept");
            String lower = saw.toLowerCase(Locale.ROOT);
            assertFalse(lower.contains("forged"), saw);
            assertFalse(lower.contains("admin"), saw);
            assertFalse(lower.contains("new-session") || lower.contains("new_session"), saw);
            assertFalse(lower.contains("x-session:") || lower.contains("x-session-") || lower.contains("x_session"), saw);
            assertTrue(lower.contains("\nx-sessionless: kept\n"), saw);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void hostHeaderCanBeTheEndpointsAndServedByCanBeOff(ProxyEngine kind) throws Exception {
        try (ProxyFixture p = proxy(kind, ProxyConfig.builder().hostHeader(ProxyConfig.HostHeader.ENDPOINT)
                .servedByHeader(null).via(null))) {
            HttpResponse<String> r = p.get("/headers");
            assertTrue(r.body().contains("\nhost: 127.0.0.1:" + a.port() + "\n"), r.body());
            assertFalse(r.body().contains("\nvia:"), r.body());
            assertTrue(r.headers().firstValue("X-Served-By").isEmpty());
            assertTrue(r.headers().firstValue("Via").isEmpty());
        }
    }
}
