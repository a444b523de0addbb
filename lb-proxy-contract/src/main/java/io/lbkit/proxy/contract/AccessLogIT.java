package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.AccessLog;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.engine.LogFormat;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The access log, the request id and the stub_status page on every engine: what each line says
 * for a proxied request, a retried one and one no route takes; the id the backend gets; the page's
 * text and counts. On the servlet engines a request no route takes is answered by the application
 * behind the filter (here the container's 404), and logged all the same; stub_status counts each
 * request as a connection of its own there (the filter sees requests, not connections).
 */
class AccessLogIT {

    @TempDir
    Path dir;

    static final String FORMAT = "$remote_addr|$request|$status|$body_bytes_sent|$http_referer|$http_user_agent|"
            + "$upstream_addr|$upstream_status|$cookie_a|$request_id";

    /** A port nothing listens on: an attempt there is refused. */
    static int deadPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Waits (bounded) until the log file has {@code n} lines, and returns them. */
    static List<String> lines(AccessLog log, Path file, int n) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> lines;
        do {
            log.flush(Duration.ofSeconds(1));
            lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.ISO_8859_1) : List.of();
            if (lines.size() >= n) {
                return lines;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        } while (System.nanoTime() < deadline);
        return lines;
    }

    /**
     * The lines sorted by their {@code field}-th {@code |}-separated field (the request line): the
     * servlet engine may write a line a moment after its client has the response, so the lines of
     * requests that follow each other closely may come in either order.
     */
    static List<String> byRequest(List<String> lines, int field) {
        List<String> sorted = new java.util.ArrayList<>(lines);
        sorted.sort(java.util.Comparator.comparing(l -> l.split("\\|", -1)[field]));
        return sorted;
    }

    private ProxyConfig config(AccessLog log, UnaryOperator<ProxyConfig.Builder> more, int... ports) {
        Upstream.Builder ub = Upstream.builder("u");
        for (int port : ports) {
            ub.endpoint(Endpoint.of("127.0.0.1", port));
        }
        Upstream u = ub.build();
        return more.apply(ProxyConfig.builder().route(Route.builder("api", u).pathPrefix("/api/").build())
                .accessLog(log)).build();
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void eachRequestIsLoggedWithEveryAttempt(ProxyEngine kind) throws Exception {
        Path file = dir.resolve("access.log");
        int dead = deadPort();
        try (RecordingBackend backend = RecordingBackend.ok();
             AccessLog log = AccessLog.builder().path(file).format(FORMAT, LogFormat.Escape.DEFAULT).build();
             ProxyFixture p = new ProxyFixture(kind, config(log, b -> b, dead, backend.port()))) {
            String r1 = RawHttp.exchange(p.port(), "GET /api/x?q=1 HTTP/1.1", "Host: h", "Referer: http://r.example/\"q\"",
                    "User-Agent: test/1.0", "Cookie: b=2; a=v1", "Connection: close");
            assertEquals(200, RawHttp.status(r1));
            String r2 = RawHttp.exchange(p.port(), "GET /api/y HTTP/1.1", "Host: h", "Connection: close");
            assertEquals(200, RawHttp.status(r2));
            String r3 = RawHttp.exchange(p.port(), "GET /elsewhere HTTP/1.1", "Host: h", "Connection: close");
            assertEquals(404, RawHttp.status(r3));
            List<String> lines = byRequest(lines(log, file, 3), 1);
            assertEquals(3, lines.size(), lines.toString());
            String[] a = lines.get(0).split("\\|");
            assertEquals(List.of("127.0.0.1", "GET /api/x?q=1 HTTP/1.1", "200", "2", "http://r.example/\\x22q\\x22",
                    "test/1.0", "127.0.0.1:" + dead + ", 127.0.0.1:" + backend.port(), "502, 200", "v1"),
                    List.of(a).subList(0, 9), "the retried request");
            assertTrue(a[9].matches("[0-9a-f]{32}"), a[9]);
            String[] b = lines.get(1).split("\\|");
            // the dead endpoint is down for a while now (max_fails 1): one attempt
            assertEquals(List.of("127.0.0.1", "GET /api/y HTTP/1.1", "200", "2", "-", "-", "127.0.0.1:" + backend.port(), "200",
                    "-"), List.of(b).subList(0, 9));
            String[] c = lines.get(2).split("\\|");
            assertEquals(List.of("127.0.0.1", "GET /elsewhere HTTP/1.1", "404"), List.of(c).subList(0, 3), "no route");
            assertEquals(List.of("-", "-"), List.of(c).subList(6, 8), "no upstream for a request no route takes");
            assertEquals(0, log.dropped());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void theProxysOwnAnswersAreLogged(ProxyEngine kind) throws Exception {
        Path file = dir.resolve("own.log");
        try (RecordingBackend backend = RecordingBackend.ok();
             AccessLog log = AccessLog.builder().path(file).format("$request|$status|$upstream_addr", LogFormat.Escape.DEFAULT)
                     .build();
             ProxyFixture p = new ProxyFixture(kind, config(log, b -> b, backend.port()))) {
            String r = RawHttp.exchange(p.port(), "POST /api/big HTTP/1.1", "Host: h", "Content-Length: 2000000",
                    "Expect: 100-continue", "Connection: close");
            // Tomcat sends 100 Continue itself before the filter has the request
            assertEquals(413, RawHttp.status(r.replaceFirst("^HTTP/1\\.1 100[^\r]*\r\n\r\n", "")), r);
            assertEquals(List.of("POST /api/big HTTP/1.1|413|-"), lines(log, file, 1));
            assertEquals(0, backend.heads().size());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void jsonLinesEscapeAsNginx(ProxyEngine kind) throws Exception {
        Path file = dir.resolve("access.json");
        try (RecordingBackend backend = RecordingBackend.ok();
             AccessLog log = AccessLog.builder().path(file)
                     .format("{\"ua\":\"$http_user_agent\",\"ref\":\"$http_referer\",\"s\":$status,\"u\":\"$upstream_status\"}",
                             LogFormat.Escape.JSON).build();
             ProxyFixture p = new ProxyFixture(kind, config(log, b -> b, backend.port()))) {
            RawHttp.exchange(p.port(), "GET /api/j HTTP/1.1", "Host: h", "User-Agent: a\"b\\c", "Connection: close");
            assertEquals(List.of("{\"ua\":\"a\\\"b\\\\c\",\"ref\":\"\",\"s\":200,\"u\":\"200\"}"), lines(log, file, 1));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void requestIdIsPassedFromTrustedPeersAndGeneratedOtherwise(ProxyEngine kind) throws Exception {
        Path file = dir.resolve("ids.log");
        for (boolean trusted : new boolean[] {false, true}) {
            Files.deleteIfExists(file);
            try (RecordingBackend backend = RecordingBackend.ok();
                 AccessLog log = AccessLog.builder().path(file).format("$request_id", LogFormat.Escape.DEFAULT).build();
                 ProxyFixture p = new ProxyFixture(kind, config(log,
                         b -> b.requestIdHeader("X-Request-ID")
                                 .trustedProxies(CidrRules.parse(trusted ? "allow 127.0.0.1; deny all;" : "deny all;")),
                         backend.port()))) {
                RawHttp.exchange(p.port(), "GET /api/1 HTTP/1.1", "Host: h", "Connection: close");
                RawHttp.exchange(p.port(), "GET /api/2 HTTP/1.1", "Host: h", "X-Request-ID: given-by-the-edge-1",
                        "Connection: close");
                List<String> ids = lines(log, file, 2);
                assertEquals(2, backend.heads().size());
                String sent1 = header(backend.heads().get(0), "X-Request-ID");
                String sent2 = header(backend.heads().get(1), "X-Request-ID");
                assertTrue(sent1.matches("[0-9a-f]{32}"), sent1);
                if (trusted) {
                    assertEquals("given-by-the-edge-1", sent2);
                } else {
                    assertTrue(sent2.matches("[0-9a-f]{32}"), "an untrusted peer's id is replaced: " + sent2);
                    assertNotEquals(sent1, sent2);
                }
                assertEquals(List.of(sent1, sent2), ids, "the log prints the id the backend got");
            }
        }
    }

    private static String header(String head, String name) {
        Matcher m = Pattern.compile("(?im)^" + Pattern.quote(name) + ":\\s*(.*?)\\r?$").matcher(head);
        int n = 0;
        String v = null;
        while (m.find()) {
            v = m.group(1);
            n++;
        }
        assertEquals(1, n, "one " + name + " field in\n" + head);
        return v;
    }

    static final Pattern STUB = Pattern.compile("Active connections: (\\d+) \nserver accepts handled requests\n"
            + " (\\d+) (\\d+) (\\d+) \nReading: (\\d+) Writing: (\\d+) Waiting: (\\d+) \n");

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void stubStatusCountsRequestsAndItself(ProxyEngine kind) throws Exception {
        try (RecordingBackend backend = RecordingBackend.ok();
             ProxyFixture p = new ProxyFixture(kind, config(null, b -> b.statusPath("/nginx_status"),
                     backend.port()))) {
            String first = RawHttp.exchange(p.port(), "GET /nginx_status HTTP/1.1", "Host: h", "Connection: close");
            assertEquals(200, RawHttp.status(first));
            assertTrue(RawHttp.head(first).toLowerCase(java.util.Locale.ROOT).contains("content-type: text/plain"), first);
            long[] a = stub(RawHttp.body(first));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, RawHttp.status(RawHttp.exchange(p.port(), "GET /api/" + i + " HTTP/1.1", "Host: h",
                        "Connection: close")));
            }
            long[] b = stub(RawHttp.body(RawHttp.exchange(p.port(), "GET /nginx_status HTTP/1.1", "Host: h",
                    "Connection: close")));
            assertEquals(a[3] + 4, b[3], "three proxied requests and the status request");
            assertEquals(b[1], b[2], "accepts = handled");
            assertTrue(b[1] >= a[1] + 4, "a connection per request");
            if (kind.name().equals("netty")) {
                assertEquals(1, b[5], "Writing: the status request itself");
            } else {
                // the filter may still count the last proxied request for a moment after its client
                // has the response (docs/operations.md)
                assertTrue(b[5] == 1 || b[5] == 2, "Writing: the status request itself, maybe the last request: " + b[5]);
            }
            assertEquals(0, b[4], "Reading");
            assertEquals(405, RawHttp.status(RawHttp.exchange(p.port(), "POST /nginx_status HTTP/1.1", "Host: h",
                    "Content-Length: 0", "Connection: close")));
        }
    }

    /** The seven numbers of a stub_status page: active, accepts, handled, requests, reading, writing, waiting. */
    static long[] stub(String text) {
        Matcher m = STUB.matcher(text);
        assertTrue(m.matches(), "stub_status text: [" + text + "]");
        long[] n = new long[7];
        for (int i = 0; i < 7; i++) {
            n[i] = Long.parseLong(m.group(i + 1));
        }
        return n;
    }
}
