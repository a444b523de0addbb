package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Failures, timeouts, retries and error statuses, in both containers. */
class ProxyFailuresIT {

    static TestBackend a;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
    }

    @AfterAll
    static void stop() {
        a.close();
    }

    /** A port on loopback where nothing listens. */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static ProxyFixture proxy(ProxyEngine kind, Upstream up, ProxyConfig.Builder b) {
        return new ProxyFixture(kind, b.route(Route.builder("all", up).build()).build());
    }

    static Map<String, List<String>> record(Upstream up) {
        return Outcomes.record(up);
    }

    /**
     * The outcomes of {@code endpointId} once it has {@code count}, waiting up to 30 s. The outcome
     * of a forwarded response is recorded when the attempt's backend exchange completes, which can
     * be after the client read the whole answer (its Content-Length reached): asserting right away,
     * or after more requests, races that completion, and closing the proxy first cancels it.
     */
    static List<String> outcomes(Map<String, List<String>> seen, String endpointId, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (seen.getOrDefault(endpointId, List.of()).size() < count) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not " + count + " outcomes for " + endpointId + " within 30 s: " + seen);
            }
            Thread.sleep(5);
        }
        return seen.get(endpointId);
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void connectFailureMovesToTheNextEndpointEvenForPost(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint("dead", closedPort()))
                .endpoint(ProxyFixture.endpoint(a)).build();
        Map<String, List<String>> seen = record(up);
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
            HttpResponse<String> post = p.send(p.request("/echo").POST(HttpRequest.BodyPublishers.ofString("once")).build());
            assertEquals(200, post.statusCode());
            assertEquals("once", post.body());
            assertEquals("a", post.headers().firstValue("X-Served-By").orElseThrow());
            assertEquals(List.of("RESPONSE 200"), outcomes(seen, "a", 1), "the POST's attempt on a");
            for (int i = 0; i < 10; i++) {
                assertEquals(200, p.get("/id").statusCode());
            }
            assertEquals(Collections.nCopies(11, "RESPONSE 200"), outcomes(seen, "a", 11), seen.toString());
        }
        assertEquals(List.of("CONNECT_FAILURE"), seen.get("dead"));
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aKeptAliveConnectionTheBackendClosedIsRetriedWithoutBlame(ProxyEngine kind) throws Exception {
        // every second request on a connection is reset by the backend: the proxy's pooled
        // connection is always stale when reused (a backend idle timeout racing the reuse)
        try (RawBackend b = new RawBackend(RawBackend.Mode.ONE_PER_CONNECTION)) {
            io.lbkit.core.Endpoint e = io.lbkit.core.Endpoint.of("127.0.0.1", b.port());
            Upstream up = Upstream.builder("u").endpoint(e).build();
            Map<String, List<String>> seen = record(up);
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
                for (int i = 0; i < 5; i++) {
                    if (i > 0) {
                        // a connection goes back to the pool just after its response completes:
                        // wait (bounded) until it is idle there, so this request surely reuses it
                        awaitIdleConnection(p);
                    }
                    HttpResponse<String> r = p.get("/k" + i);
                    assertEquals(200, r.statusCode(), "request " + i);
                    assertEquals("ok", r.body());
                }
                assertEquals(9, b.requests(), "the first on a fresh connection, each later one stale and then fresh");
                awaitIdleConnection(p); // as above: the POST surely goes out on a stale connection
                // as nginx: a POST that went out is not sent again, even on a stale connection
                HttpResponse<String> post = p.send(p.request("/p").POST(HttpRequest.BodyPublishers.ofString("x")).build());
                assertEquals(502, post.statusCode());
                assertEquals(10, b.requests());
                outcomes(seen, e.id(), 10); // the last GET's may still be completing
            }
            List<String> outcomes = seen.get(e.id());
            assertEquals(5, outcomes.stream().filter(o -> o.equals("RESPONSE 200")).count(), outcomes.toString());
            // 4 stale GETs and the stale POST: not the endpoint's failures
            assertEquals(5, outcomes.stream().filter(o -> o.equals("CANCELLED")).count(), outcomes.toString());
            assertFalse(outcomes.contains("RESET"), outcomes.toString());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aTimeoutWithNoEndpointLeftToRetryOnIs502AsNoLiveUpstreams(ProxyEngine kind) throws Exception {
        try (TestBackend b = new TestBackend("b")) {
            Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).endpoint(ProxyFixture.endpoint(b)).build();
            up.setState(ProxyFixture.endpoint(b).id(), EndpointState.DRAINING); // counts in tries, takes no new request
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().readTimeout(Duration.ofMillis(300)))) {
                // a times out, a retry is allowed (2 tries), but nothing is eligible: nginx's
                // "no live upstreams" is a 502, not the timeout's 504
                assertEquals(502, p.get("/hang").statusCode());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void postThatReachedABackendIsNotResentButGetIs(ProxyEngine kind) throws Exception {
        try (RawBackend reset = new RawBackend(RawBackend.Mode.CLOSE_AFTER_REQUEST)) {
            // maxFails 0: the resetting endpoint is not banned by passive health, so picks keep reaching it
            Upstream up = Upstream.builder("u").endpoint(io.lbkit.core.Endpoint.builder("reset").host("127.0.0.1")
                    .port(reset.port()).maxFails(0).build()).endpoint(ProxyFixture.endpoint(a)).build();
            Map<String, List<String>> seen = record(up);
            int echoBefore = a.hits("/echo");
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
                // round robin starts with the first endpoint: the resetting one
                HttpResponse<String> post = p.send(p.request("/echo").POST(HttpRequest.BodyPublishers.ofString("x")).build());
                // once seen on Tomcat under load: 500 after 30 s; the message says what the client got
                assertEquals(502, post.statusCode(), "body [" + post.body() + "] headers " + post.headers().map()
                        + "; requests at the resetting endpoint " + reset.requests() + ", outcomes " + seen);
                assertEquals(1, reset.requests());
                assertEquals(echoBefore, a.hits("/echo"), "the POST must not be re-sent");

                for (int i = 0; i < 2; i++) { // one of the next two picks starts at the resetting endpoint
                    HttpResponse<String> get = p.get("/id");
                    assertEquals(200, get.statusCode());
                    assertEquals("a", get.body());
                }
                assertTrue(reset.requests() >= 2, "a GET reached the resetting endpoint and was retried on a, got "
                        + reset.requests());
            }
            assertTrue(seen.get("reset").stream().allMatch(s -> s.equals("RESET")), seen.toString());
        }
    }

    /**
     * The endpoint resets the connection as soon as it has a POST's head, many times and from
     * several clients at once: the reset can reach the proxy before the proxy's write of the
     * request (head, or head and body) has completed, and the request reached the endpoint all the
     * same. No such POST may go to the next endpoint, where it would arrive a second time, or
     * announcing a body whose bytes were already consumed (that endpoint would wait for them).
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aPostIsNotResentWhenTheResetRacesTheProxysWrite(ProxyEngine kind) throws Exception {
        try (RawBackend reset = new RawBackend(RawBackend.Mode.RESET_ON_HEAD)) {
            // a is a backup: it serves only a request that the resetting endpoint failed, a re-sent one
            Upstream up = Upstream.builder("u").endpoint(io.lbkit.core.Endpoint.builder("reset").host("127.0.0.1")
                    .port(reset.port()).maxFails(0).build())
                    .endpoint(io.lbkit.core.Endpoint.builder("a").host("127.0.0.1").port(a.port()).backup(true).build())
                    .build();
            int echoBefore = a.hits("/echo");
            int clients = 4;
            int perClient = 10 * Integer.getInteger("lbkit.test.rounds", 5);
            // a re-sent POST without its body ends at the read timeout, not at the backend's 30 s
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().readTimeout(Duration.ofSeconds(2)))) {
                ExecutorService pool = Executors.newFixedThreadPool(clients);
                try {
                    List<Future<Map<Integer, Integer>>> results = new java.util.ArrayList<>();
                    for (int t = 0; t < clients; t++) {
                        results.add(pool.submit(() -> {
                            Map<Integer, Integer> statuses = new java.util.TreeMap<>();
                            for (int i = 0; i < perClient; i++) {
                                HttpResponse<String> r = p.send(p.request("/echo")
                                        .POST(HttpRequest.BodyPublishers.ofString("x")).build());
                                statuses.merge(r.statusCode(), 1, Integer::sum);
                            }
                            return statuses;
                        }));
                    }
                    Map<Integer, Integer> statuses = new java.util.TreeMap<>();
                    for (Future<Map<Integer, Integer>> f : results) {
                        f.get().forEach((st, n) -> statuses.merge(st, n, Integer::sum));
                    }
                    int resent = a.hits("/echo") - echoBefore;
                    assertEquals(0, resent, "POSTs re-sent to a; statuses " + statuses);
                    assertEquals(Map.of(502, clients * perClient), statuses);
                    assertEquals(clients * perClient, reset.requests());
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void readIdleAndTotalTimeoutsGive504(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        Map<String, List<String>> seen = record(up);
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().readTimeout(Duration.ofMillis(300)))) {
            assertEquals(504, p.get("/hang").statusCode());
        }
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().totalTimeout(Duration.ofMillis(300)))) {
            assertEquals(504, p.get("/hang").statusCode());
        }
        assertEquals(List.of("TIMEOUT", "TIMEOUT"), seen.get("a"));
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void connectTimeoutGives504(ProxyEngine kind) throws Exception {
        // a listener whose accept queue is full: further SYNs are dropped and connect() hangs
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<java.net.Socket> fillers = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    java.net.Socket s = new java.net.Socket();
                    try {
                        s.connect(full.getLocalSocketAddress(), 200);
                        fillers.add(s);
                    } catch (IOException e) {
                        s.close();
                        break; // the queue is full now
                    }
                }
                Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint("full", full.getLocalPort())).build();
                Map<String, List<String>> seen = record(up);
                try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().connectTimeout(Duration.ofMillis(300)))) {
                    assertEquals(504, p.get("/id").statusCode());
                }
                assertEquals(List.of("TIMEOUT"), seen.get("full"));
            } finally {
                for (java.net.Socket s : fillers) {
                    s.close();
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void nothingEligibleGives503AndAllFailedGives502(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
            up.setState("a", EndpointState.DOWN);
            HttpResponse<String> r = p.get("/id");
            assertEquals(503, r.statusCode());
            assertEquals("503 Service Unavailable\n", r.body());
            up.setState("a", EndpointState.UP);
            assertEquals(200, p.get("/id").statusCode());
        }
        Upstream dead = Upstream.builder("d").endpoint(ProxyFixture.endpoint("d1", closedPort()))
                .endpoint(ProxyFixture.endpoint("d2", closedPort())).build();
        try (ProxyFixture p = proxy(kind, dead, ProxyConfig.builder())) {
            HttpResponse<String> r = p.get("/id");
            assertEquals(502, r.statusCode());
            assertEquals("502 Bad Gateway\n", r.body());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void invalidResponseGives502AndConfiguredStatusIsRetried(ProxyEngine kind) throws Exception {
        try (RawBackend garbage = new RawBackend(RawBackend.Mode.GARBAGE)) {
            Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint("g", garbage.port())).build();
            Map<String, List<String>> seen = record(up);
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
                assertEquals(502, p.get("/id").statusCode());
            }
            assertEquals(List.of("INVALID_RESPONSE"), seen.get("g"));
        }
        try (TestBackend b = new TestBackend("b")) {
            Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).endpoint(ProxyFixture.endpoint(b)).build();
            int before = a.hits("/status") + b.hits("/status");
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder()
                    .retryPolicy(RetryPolicy.parse("error timeout http_503")))) {
                HttpResponse<String> r = p.get("/status?code=503");
                assertEquals(503, r.statusCode(), "the last 503 passes through once tries are used up");
                assertTrue(r.body().startsWith("status from "), r.body());
                assertEquals(before + 2, a.hits("/status") + b.hits("/status"));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aStatusRetryNeverResendsABodyThatStartedStreaming(ProxyEngine kind) throws Exception {
        // nginx with proxy_request_buffering off: once body bytes went to an endpoint, a retryable
        // status (here 503, after the whole body was read) is passed to the client, not retried
        // with what is left of the body
        try (TestBackend b = new TestBackend("b")) {
            Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).endpoint(ProxyFixture.endpoint(b)).build();
            int before = a.hits("/upload-status") + b.hits("/upload-status");
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder()
                    .retryPolicy(RetryPolicy.parse("error timeout http_503")))) {
                HttpResponse<String> r = p.send(p.request("/upload-status?code=503")
                        .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> ProxyFixture.patternStream(100_000))).build());
                assertEquals(503, r.statusCode(), r.body());
                assertEquals(100_000 + " " + TestBackend.patternCrc(100_000), r.body().trim(),
                        "the answer of the endpoint that read the whole body");
                assertEquals(before + 1, a.hits("/upload-status") + b.hits("/upload-status"), "not sent again");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void bodyLimitGives413UpFrontAndWhileStreaming(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().maxRequestBodyBytes(1000))) {
            int before = a.hits("/upload");
            HttpResponse<String> declared = p.send(p.request("/upload").POST(HttpRequest.BodyPublishers.ofString("x".repeat(2000))).build());
            assertEquals(413, declared.statusCode());
            assertEquals(before, a.hits("/upload"), "a declared oversize body never reaches a backend");
            HttpResponse<String> streamed = p.send(p.request("/upload")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> ProxyFixture.patternStream(200_000))).build());
            assertEquals(413, streamed.statusCode());
            HttpResponse<String> ok = p.send(p.request("/upload").POST(HttpRequest.BodyPublishers.ofString("x".repeat(1000))).build());
            assertEquals(200, ok.statusCode());
        }
    }

    /**
     * A client that writes its whole body before it reads (most do) gets the 413, not a reset:
     * the refused body is drained after the answer (lingering close). Without the drain the
     * container closes with unread bytes and the client's write or read fails.
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void refusedBodyIsDrainedSoAClientStillSendingReads413(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().maxRequestBodyBytes(1000))) {
            int before = a.hits("/upload");
            int rounds = Integer.getInteger("lbkit.test.rounds", 5);
            for (boolean chunked : new boolean[] {true, false}) {
                for (int i = 0; i < rounds; i++) {
                    String raw = RawHttp.sendBodyThenRead(p.port(), "/upload", 2L << 20, chunked);
                    assertEquals(413, RawHttp.status(raw), (chunked ? "chunked" : "declared") + " #" + i + ": " + raw);
                    assertTrue(RawHttp.head(raw).toLowerCase(java.util.Locale.ROOT).contains("connection: close"), raw);
                }
            }
            // the streamed ones may have reached the backend before the limit was passed, the declared ones never
            assertTrue(a.hits("/upload") - before <= rounds, "hits " + (a.hits("/upload") - before));
            HttpResponse<String> ok = p.send(p.request("/upload").POST(HttpRequest.BodyPublishers.ofString("x".repeat(1000))).build());
            assertEquals(200, ok.statusCode());
        }
    }

    /**
     * nginx {@code client_body_timeout}: a client that stops sending its body gets 408 and the
     * connection closes; the backend attempt ends as cancelled (the endpoint is not blamed). A
     * body whose every pause is shorter than the timeout passes, however long it takes in all.
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aStalledRequestBodyGets408(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        Map<String, List<String>> seen = record(up);
        ProxyConfig.Builder cfg = ProxyConfig.builder().clientBodyTimeout(Duration.ofSeconds(2));
        try (ProxyFixture p = proxy(kind, up, cfg)) {
            String raw = RawHttp.sendPartOfBodyThenRead(p.port(), "/upload", 100, 10);
            assertEquals(408, RawHttp.status(raw), raw);
            assertTrue(RawHttp.head(raw).toLowerCase(java.util.Locale.ROOT).contains("connection: close"), raw);
            assertEquals(List.of("CANCELLED"), seen.get(ProxyFixture.endpoint(a).id()), "outcomes " + seen);
            String slow = RawHttp.sendPiecesApart(p.port(), "/upload", 8, "abc", 300); // 2.4 s in pauses of 0.3 s
            assertEquals(200, RawHttp.status(slow), slow);
            assertEquals("24 ", RawHttp.body(slow).substring(0, 3), "the backend got the whole body: " + slow);
        }
        // a buffered (fan-out) body times out the same way, before any backend is asked
        int before = a.hits("/upload");
        ProxyConfig buffered = ProxyConfig.builder().clientBodyTimeout(Duration.ofSeconds(2))
                .route(Route.builder("all", up).broadcast(FanOut.builder().build()).build()).build();
        try (ProxyFixture p = new ProxyFixture(kind, buffered)) {
            String raw = RawHttp.sendPartOfBodyThenRead(p.port(), "/upload", 100, 10);
            assertEquals(408, RawHttp.status(raw), raw);
            assertEquals(before, a.hits("/upload"), "no backend saw the incomplete body");
        }
    }

    /**
     * The backend connection is idle while the proxy waits for the client's body, so with
     * readTimeout shorter than clientBodyTimeout (or equal, the defaults) the backend idle timeout
     * fires first: still the client's stall, so 408, connection closed (read until the server
     * closes), the endpoint not blamed.
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aStalledBodyIs408AlsoWhenTheBackendIdleTimeoutFiresFirst(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        Map<String, List<String>> seen = record(up);
        ProxyConfig.Builder cfg = ProxyConfig.builder().clientBodyTimeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(1)); // shorter; with equal values (the defaults) it is a race
        try (ProxyFixture p = proxy(kind, up, cfg)) {
            String raw = RawHttp.sendPartOfBodyThenRead(p.port(), "/upload", 100, 10);
            assertEquals(408, RawHttp.status(raw), raw + " outcomes " + seen);
            assertEquals(List.of("CANCELLED"), seen.get(ProxyFixture.endpoint(a).id()), "outcomes " + seen);
        }
    }

    /**
     * The backend answers while it reads the body (full duplex); the client then stalls: the
     * exchange is aborted (nothing else can be said once the response started), the endpoint is
     * not blamed.
     */
    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aStalledBodyAfterTheResponseStartedDoesNotBlameTheEndpoint(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        Map<String, List<String>> seen = record(up);
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().clientBodyTimeout(Duration.ofSeconds(2)))) {
            String raw;
            try {
                raw = RawHttp.sendPartOfBodyThenRead(p.port(), "/echo-flush", 100, 10);
            } catch (java.net.SocketException e) {
                raw = e.toString(); // an abort may reset the connection
            }
            Thread.sleep(500);
            assertEquals(List.of("CANCELLED"), seen.get(ProxyFixture.endpoint(a).id()), "outcomes " + seen + " raw " + raw);
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void refusedBufferedBodyIsDrainedToo(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        ProxyConfig cfg = ProxyConfig.builder().maxRequestBodyBytes(1000)
                .route(Route.builder("all", up).broadcast(FanOut.builder().build()).build()).build();
        try (ProxyFixture p = new ProxyFixture(kind, cfg)) {
            int before = a.hits("/upload");
            String raw = RawHttp.sendBodyThenRead(p.port(), "/upload", 2L << 20, true);
            assertEquals(413, RawHttp.status(raw), raw);
            assertEquals(before, a.hits("/upload"), "a buffered body over the limit never reaches a backend");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void oversizedHeadersGive431AndBadHostGives400(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder().maxRequestHeaderBytes(2048))) {
            HttpResponse<String> r = p.send(p.request("/id").header("X-Big", "y".repeat(3000)).build());
            assertEquals(431, r.statusCode());
            String raw = RawHttp.exchange(p.port(), "GET /id HTTP/1.1", "Host: bad host!", "Connection: close");
            assertEquals(400, RawHttp.status(raw));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void responseFailingAfterItStartedAbortsTheClientConnection(ProxyEngine kind) throws Exception {
        try (RawBackend partial = new RawBackend(RawBackend.Mode.PARTIAL_CHUNKED)) {
            Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint("p", partial.port())).build();
            Map<String, List<String>> seen = record(up);
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
                HttpResponse<InputStream> r = p.stream(p.request("/id").GET().build());
                assertEquals(200, r.statusCode());
                // the client must not take the truncated body for a complete one
                assertThrows(IOException.class, () -> {
                    try (InputStream in = r.body()) {
                        in.readAllBytes();
                    }
                });
            }
            assertEquals(List.of("RESET"), seen.get("p"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aResponseHeaderOverBufferSizeIsAn502InvalidResponse(ProxyEngine kind) throws Exception {
        // nginx: "upstream sent too big header" (proxy_buffer_size) gives 502
        try (RawBackend big = new RawBackend(RawBackend.Mode.BIG_HEADER)) {
            Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint("big", big.port())).build();
            Map<String, List<String>> seen = record(up);
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
                HttpResponse<String> r = p.get("/big");
                assertEquals(502, r.statusCode(), r.body());
                assertEquals("502 Bad Gateway\n", r.body());
            }
            assertEquals(List.of("INVALID_RESPONSE"), seen.get("big"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aCutResponseToAClosingClientKeepsItsChunkedFramingSoTheCutShows(ProxyEngine kind) throws Exception {
        // a client that sent Connection: close would otherwise get a body delimited by the close,
        // and the abort would look like the end of a complete response (nginx keeps chunking)
        try (RawBackend partial = new RawBackend(RawBackend.Mode.PARTIAL_CHUNKED)) {
            Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint("p", partial.port())).build();
            try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
                String raw = RawHttp.exchange(p.port(), "GET /cut HTTP/1.1", "Host: x", "Connection: close");
                assertEquals(200, RawHttp.status(raw), raw);
                assertTrue(RawHttp.head(raw).toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked"), raw);
                assertTrue(RawHttp.body(raw).startsWith("5\r\nhello"), raw);
                assertFalse(RawHttp.body(raw).endsWith("0\r\n\r\n"), "no last chunk: the client sees the cut: " + raw);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void backendKilledUnderLoadFailsNoIdempotentRequest(ProxyEngine kind) throws Exception {
        TestBackend victim = new TestBackend("victim");
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).endpoint(ProxyFixture.endpoint(victim)).build();
        try (ProxyFixture p = proxy(kind, up, ProxyConfig.builder())) {
            AtomicInteger done = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Integer>> results = new java.util.ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    results.add(pool.submit(() -> {
                        int failures = 0;
                        for (int i = 0; i < 100; i++) {
                            // small responses: the kill falls between or before responses, never inside a
                            // body (a body cut after it started is aborted, as nginx does, and not retried)
                            HttpResponse<String> r = p.get("/id");
                            if (r.statusCode() != 200 || !r.body().equals(r.headers().firstValue("X-Served-By").orElse(""))) {
                                failures++;
                            }
                            if (done.incrementAndGet() == 100) {
                                victim.kill(); // killed while the others keep going
                            }
                        }
                        return failures;
                    }));
                }
                int failures = 0;
                for (Future<Integer> f : results) {
                    failures += f.get();
                }
                assertEquals(0, failures);
                assertEquals(400, done.get());
            } finally {
                pool.shutdownNow();
                victim.close();
            }
        }
    }

    /** Waits up to 10 s until a backend connection of the proxy is idle in its pool. */
    private static void awaitIdleConnection(ProxyFixture p) throws InterruptedException {
        if (!p.proxy.awaitIdleBackendConnection(10_000)) {
            throw new AssertionError("no idle backend connection in the pool after 10 s");
        }
    }
}
