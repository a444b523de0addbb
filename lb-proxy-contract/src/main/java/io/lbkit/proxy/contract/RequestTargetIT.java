package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What an endpoint receives is the client's request target, byte for byte (nginx forwards
 * {@code $request_uri} unchanged), and what the client gets for bodiless answers carries no
 * header the backend did not send. Targets are written as ISO-8859-1 strings, one char per byte.
 */
class RequestTargetIT {

    private static ProxyFixture proxy(ProxyEngine kind, ProxyConfig.Builder b, Endpoint... endpoints) {
        Upstream.Builder u = Upstream.builder("u");
        for (Endpoint e : endpoints) {
            u.endpoint(e);
        }
        return new ProxyFixture(kind, b.route(Route.builder("all", u.build()).build()).build());
    }

    private static String get(ProxyFixture p, String target, String... headers) throws Exception {
        String[] lines = new String[headers.length + 3];
        lines[0] = "GET " + target + " HTTP/1.1";
        lines[1] = "Host: h.example";
        System.arraycopy(headers, 0, lines, 2, headers.length);
        lines[lines.length - 1] = "Connection: close";
        return RawHttp.exchange(p.port(), lines);
    }

    /** The request line the backend got for {@code target}, after checking the client got 200. */
    private static String forwarded(ProxyFixture p, RecordingBackend b, String target) throws Exception {
        String r = get(p, target);
        assertEquals(200, RawHttp.status(r), "status for " + target + ": " + r);
        return b.lastRequestLine();
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void queryBytesReachTheBackendUnchanged(ProxyEngine kind) throws Exception {
        try (RecordingBackend b = RecordingBackend.ok();
             ProxyFixture p = proxy(kind, ProxyConfig.builder(), Endpoint.of("127.0.0.1", b.port()))) {
            for (String target : new String[] {"/echo?d=%zz", "/echo?d=%4", "/q?a=%C3%A9&b=%20%2B%25", "/sp%20ace?x=1",
                "/a/../b", "/echo?q=a+b&&=&x"}) {
                assertEquals("GET " + target + " HTTP/1.1", forwarded(p, b, target));
            }
            if (!kind.name().equals("tomcat")) {
                // raw UTF-8 in the query: é and € must not become Latin-1 or '?'
                String utf8 = "/echo?e=\u00c3\u00a9&f=\u00e2\u0082\u00ac";
                assertEquals("GET " + utf8 + " HTTP/1.1", forwarded(p, b, utf8));
                String reserved = "/p;a=b?x=[1]&y={2}|\"<>";
                assertEquals("GET " + reserved + " HTTP/1.1", forwarded(p, b, reserved));
            } else {
                // Tomcat refuses raw non-ASCII bytes and [ ] { } | " < > in the target itself (its
                // connector's relaxedQueryChars), before any filter runs: a container rule
                int before = b.heads().size();
                assertEquals(400, RawHttp.status(get(p, "/echo?e=\u00c3\u00a9")));
                assertEquals(before, b.heads().size());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aMalformedEscapeBansNoEndpoint(ProxyEngine kind) throws Exception {
        try (RecordingBackend a = RecordingBackend.ok(); RecordingBackend c = RecordingBackend.ok();
             ProxyFixture p = proxy(kind, ProxyConfig.builder(),
                     Endpoint.builder("a").host("127.0.0.1").port(a.port()).maxFails(1).failTimeout(Duration.ofMinutes(5)).build(),
                     Endpoint.builder("c").host("127.0.0.1").port(c.port()).maxFails(1).failTimeout(Duration.ofMinutes(5)).build())) {
            for (int i = 0; i < 4; i++) {
                assertEquals(200, RawHttp.status(get(p, "/echo?d=%zz")), "a query the proxy does not decode is forwarded");
                assertEquals(400, RawHttp.status(get(p, "/x%zz")), "a malformed escape in the path is the client's error");
                assertEquals(400, RawHttp.status(get(p, "/x%4")));
            }
            int aBefore = a.heads().size();
            int cBefore = c.heads().size();
            for (int i = 0; i < 4; i++) {
                assertEquals(200, RawHttp.status(get(p, "/ok")));
            }
            // round robin over both: neither was banned by the bad requests
            assertEquals(2, a.heads().size() - aBefore);
            assertEquals(2, c.heads().size() - cBefore);
            for (String h : a.heads()) {
                assertFalse(h.startsWith("GET /x"), "no path with a malformed escape reached an endpoint: " + h);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void pathsTheContainerAcceptsAreForwardedUnchanged(ProxyEngine kind) throws Exception {
        try (RecordingBackend b = RecordingBackend.ok();
             ProxyFixture p = proxy(kind, ProxyConfig.builder(), Endpoint.of("127.0.0.1", b.port()))) {
            if (kind.name().equals("tomcat")) {
                // the backend client once parsed "//double" as an authority and sent "//slash"
                assertEquals("GET //double//slash HTTP/1.1", forwarded(p, b, "//double//slash"));
                assertEquals("GET /a/%2e%2e/b HTTP/1.1", forwarded(p, b, "/a/%2e%2e/b"));
            } else if (kind.name().equals("jetty")) {
                // Jetty's URI compliance refuses these before the filter: a container rule
                assertEquals(400, RawHttp.status(get(p, "//double//slash")));
                assertEquals(400, RawHttp.status(get(p, "/a/%2e%2e/b")));
                // bytes that are not UTF-8 in the query: Jetty replaces them, so they cannot be
                // forwarded unchanged; refused rather than altered
                int before = b.heads().size();
                assertEquals(400, RawHttp.status(get(p, "/q?x=\u00ff")));
                assertEquals(before, b.heads().size());
            } else {
                // an engine that reads the request line itself forwards all of them, as nginx
                for (String target : new String[] {"//double//slash", "/a/%2e%2e/b", "/q?x=\u00ff"}) {
                    assertEquals("GET " + target + " HTTP/1.1", forwarded(p, b, target));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void bodilessAnswersGetNoContentLengthTheBackendDidNotSend(ProxyEngine kind) throws Exception {
        for (String response : new String[] {"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n"}) {
            try (RecordingBackend b = new RecordingBackend(response);
                 ProxyFixture p = proxy(kind, ProxyConfig.builder(), Endpoint.of("127.0.0.1", b.port()))) {
                for (String method : new String[] {"GET", "HEAD"}) {
                    String r = RawHttp.exchange(p.port(), method + " /x HTTP/1.1", "Host: h.example",
                            "Connection: close");
                    String head = RawHttp.head(r).toLowerCase(Locale.ROOT);
                    assertFalse(head.contains("content-length"), method + " " + response.substring(9, 12) + ": " + head);
                    assertFalse(head.contains("transfer-encoding"), head);
                    assertEquals("", RawHttp.body(r));
                }
            }
        }
        // HEAD: the backend's Content-Length is the GET's length and passes unchanged
        try (RecordingBackend b = new RecordingBackend("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
             ProxyFixture p = proxy(kind, ProxyConfig.builder(), Endpoint.of("127.0.0.1", b.port()))) {
            String r = RawHttp.exchange(p.port(), "HEAD /x HTTP/1.1", "Host: h.example", "Connection: close");
            assertTrue(RawHttp.head(r).toLowerCase(Locale.ROOT).contains("content-length: 5"), r);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void proxyInstructionsFromTheBackendAreHidden(ProxyEngine kind) throws Exception {
        try (RecordingBackend b = new RecordingBackend("HTTP/1.1 200 OK\r\nX-Accel-Buffering: no\r\n"
                + "X-Accel-Redirect: /internal\r\nX-Pad: avoid browser bug\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok");
             ProxyFixture p = proxy(kind, ProxyConfig.builder(), Endpoint.of("127.0.0.1", b.port()))) {
            String head = RawHttp.head(get(p, "/x")).toLowerCase(Locale.ROOT);
            assertFalse(head.contains("x-accel-"), head);
            assertFalse(head.contains("x-pad"), head);
            assertTrue(head.contains("x-kept: yes"), head);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void theTiersOwnHeadersFromAClientAreRemoved(ProxyEngine kind) throws Exception {
        try (RecordingBackend b = RecordingBackend.ok();
             ProxyFixture p = proxy(kind, ProxyConfig.builder(), Endpoint.of("127.0.0.1", b.port()))) {
            assertEquals(200, RawHttp.status(get(p, "/x", "X-Served-By: evil", "X_Served_By: evil", "X-Instance-ID: evil",
                    "x_instance_id: evil", "X-Other: kept")));
            String head = b.heads().get(b.heads().size() - 1).toLowerCase(Locale.ROOT);
            assertFalse(head.contains("evil"), head);
            assertTrue(head.contains("x-other: kept"), head);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void hostForHttp10WithoutHostAndNginxHost(ProxyEngine kind) throws Exception {
        try (RecordingBackend b = RecordingBackend.ok()) {
            Endpoint e = Endpoint.of("127.0.0.1", b.port());
            try (ProxyFixture p = proxy(kind, ProxyConfig.builder(), e)) {
                assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "GET /ten HTTP/1.0")));
                String head = b.heads().get(b.heads().size() - 1);
                // no server name: the endpoint's address ($proxy_host), never the proxy's own address
                assertTrue(head.contains("\r\nHost: 127.0.0.1:" + b.port() + "\r\n"), head);
                assertFalse(head.contains("X-Forwarded-Host"), head);
                assertFalse(head.contains(":" + p.port()), head);
            }
            try (ProxyFixture p = proxy(kind, ProxyConfig.builder().serverName("www.example.com"), e)) {
                assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "GET /ten HTTP/1.0")));
                String head = b.heads().get(b.heads().size() - 1);
                assertTrue(head.contains("\r\nHost: www.example.com\r\n"), head);
                assertTrue(head.contains("\r\nX-Forwarded-Host: www.example.com\r\n"), head);
            }
            try (ProxyFixture p = proxy(kind, ProxyConfig.builder().hostHeader(ProxyConfig.HostHeader.HOST), e)) {
                assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "GET /x HTTP/1.1",
                        "Host: WWW.Example.COM:8080", "Connection: close")));
                String head = b.heads().get(b.heads().size() - 1);
                assertTrue(head.contains("\r\nHost: www.example.com\r\n"), head); // nginx $host
                assertTrue(head.contains("\r\nX-Forwarded-Host: WWW.Example.COM:8080\r\n"), head);
            }
        }
    }
}
