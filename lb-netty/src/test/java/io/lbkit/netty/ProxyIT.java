package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.core.retry.RetryPolicy;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.RequestValue;
import io.lbkit.proxy.Route;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The event-loop engine against real sockets on 127.0.0.1: balancing, targets, headers, failures, framing. */
class ProxyIT extends ProxyITBase {

    @Test
    void roundRobinOverTwoBackends() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        TestBackend b = backend(TestBackend.named("b"));
        int port = start(config(upstream(a, b)).build());
        List<String> served = new ArrayList<>();
        try (RawClient c = new RawClient(port)) {
            for (int i = 0; i < 4; i++) {
                RawClient.Response r = c.send(RawClient.get("/x")).read();
                assertEquals(200, r.status());
                served.add(r.text());
                String id = r.header("X-Served-By");
                assertEquals("127.0.0.1:" + (r.text().equals("a") ? a.port() : b.port()), id);
            }
        }
        assertNotEquals(served.get(0), served.get(1), served.toString());
        assertEquals(served.get(0), served.get(2), served.toString());
        assertEquals(served.get(1), served.get(3), served.toString());
        assertEquals(2, a.requests.size());
        assertEquals(2, b.requests.size());
    }

    @Test
    void theRequestTargetReachesTheEndpointByteForByte() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(config(upstream(a)).build());
        String[] targets = {
            "/q?e=\u00c3\u00a9&d=%zz&p=%4&s=a+b%20c",   // raw UTF-8 and malformed escapes in the query
            "//a//b",                                  // nginx forwards it as sent
            "/caf\u00c3\u00a9/x;p=1?[1]",              // raw UTF-8 in the path
            "/a/%2e%2e/b",
        };
        for (String t : targets) {
            try (RawClient c = new RawClient(port)) {
                assertEquals(200, c.send(RawClient.get(t)).read().status(), t);
            }
            TestBackend.Request seen = a.requests.poll(10, TimeUnit.SECONDS);
            assertNotNull(seen, t);
            assertEquals(t, seen.target());
        }
    }

    @Test
    void aMalformedEscapeInThePathIs400AndReachesNoEndpoint() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(config(upstream(a)).build());
        for (String t : new String[] {"/a%zz", "/a%4", "/a%00b", "/../x"}) {
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(RawClient.get(t)).read();
                assertEquals(400, r.status(), t);
                assertEquals("400 Bad Request\n", r.text());
            }
        }
        assertEquals(0, a.connections.get());
    }

    @Test
    void spoofedForwardingAndSessionHeadersAreReplaced() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            c.send("GET /x HTTP/1.1\r\nHost: front.example\r\nX-Forwarded-For: 6.6.6.6\r\nX_Forwarded_For: 6.6.6.6\r\n"
                    + "X-Real-IP: 6.6.6.6\r\nX-Session-ID: forged\r\nx_new_session_data: {}\r\nConnection: keep-alive, X-Drop\r\n"
                    + "X-Drop: 1\r\nX-Keep: 2\r\n\r\n");
            assertEquals(200, c.read().status());
        }
        TestBackend.Request seen = a.requests.poll(10, TimeUnit.SECONDS);
        assertEquals(List.of("127.0.0.1"), seen.headers("X-Forwarded-For"));
        assertEquals("127.0.0.1", seen.header("X-Real-IP"));
        assertNull(seen.header("X_Forwarded_For"));
        assertNull(seen.header("X-Session-ID"));
        assertNull(seen.header("x_new_session_data"));
        assertNull(seen.header("X-Drop"));
        assertNull(seen.header("Connection"));
        assertEquals("2", seen.header("X-Keep"));
        assertEquals("front.example", seen.header("Host"));
        assertEquals("1.1 lbkit", seen.header("Via"));
        assertEquals("http", seen.header("X-Forwarded-Proto"));
    }

    @Test
    void aHashKeyOnTheUriPicksWhereLbCoreDoes() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        TestBackend b = backend(TestBackend.named("b"));
        TestBackend c3 = backend(TestBackend.named("c"));
        Upstream u = Upstream.builder("hashed").policy(BalancingPolicy.consistentHash())
                .endpoint(Endpoint.of("127.0.0.1", a.port())).endpoint(Endpoint.of("127.0.0.1", b.port()))
                .endpoint(Endpoint.of("127.0.0.1", c3.port())).build();
        int port = start(ProxyConfig.builder()
                .route(Route.builder("h", u).hashKey(RequestValue.uri()).build()).build());
        String[] targets = {"/u/1", "/u/2?x=1", "/caf\u00c3\u00a9?q=\u00c3\u00a9", "/u/4", "/u/5"};
        String[] keys = {"/u/1", "/u/2?x=1", "/café?q=é", "/u/4", "/u/5"};
        for (int i = 0; i < targets.length; i++) {
            Selection expected = u.pick(PickRequest.create().hashKey(keys[i]));
            expected.complete(Outcome.CANCELLED, 0, 0);
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(RawClient.get(targets[i])).read();
                assertEquals(expected.endpoint().id(), r.header("X-Served-By"), keys[i]);
            }
        }
    }

    @Test
    void aDownEndpointPassesTheRequestToTheNext() throws Exception {
        TestBackend live = backend(TestBackend.named("live"));
        int port = start(config(upstream(deadPort(), live.port())).build());
        for (int i = 0; i < 4; i++) {
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(RawClient.get("/x")).read();
                assertEquals(200, r.status());
                assertEquals("live", r.text());
            }
        }
    }

    @Test
    void aKeptAliveConnectionTheEndpointClosedIsRetriedOnAFreshOne() throws Exception {
        ThreadLocal<int[]> onThisConnection = ThreadLocal.withInitial(() -> new int[1]);
        TestBackend a = backend(new TestBackend("once", (req, body, out) -> {
            if (onThisConnection.get()[0]++ > 0) {
                throw new IOException("closing a kept-alive connection as the next request arrives");
            }
            TestBackend.respond(out, 200, "fresh");
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            assertEquals("fresh", c.send(RawClient.get("/1")).read().text());
            RawClient.Response r = c.send(RawClient.get("/2")).read();
            assertEquals(200, r.status());
            assertEquals("fresh", r.text());
            // a POST that may have reached the endpoint is not sent again
            r = c.send("POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx").read();
            assertEquals(502, r.status());
        }
        assertEquals(2, a.connections.get()); // /1 on the first, /2 and the POST on the second
    }

    @Test
    void aConfiguredStatusIsRetriedOnTheNextEndpoint() throws Exception {
        TestBackend busy = backend(new TestBackend("busy", (req, body, out) -> TestBackend.respond(out, 503, "busy")));
        TestBackend ok = backend(TestBackend.named("ok"));
        int port = start(config(upstream(busy, ok)).retryPolicy(RetryPolicy.parse("error timeout http_503")).build());
        for (int i = 0; i < 2; i++) {
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(RawClient.get("/x")).read();
                assertEquals(200, r.status());
                assertEquals("ok", r.text());
            }
        }
        assertEquals(2, ok.requests.size());
    }

    @Test
    void everyEndpointRefusingIs502() throws Exception {
        int port = start(config(upstream(deadPort(), deadPort())).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals(502, r.status());
            assertEquals("502 Bad Gateway\n", r.text());
            assertEquals("text/plain;charset=utf-8", r.header("Content-Type"));
        }
    }

    @Test
    void nothingEligibleIs503() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        Upstream u = upstream(a);
        u.setState("127.0.0.1:" + a.port(), EndpointState.DOWN);
        int port = start(config(u).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals(503, r.status());
            assertEquals("503 Service Unavailable\n", r.text());
        }
        assertEquals(0, a.connections.get());
    }

    @Test
    void noByteForTheReadTimeoutIs504() throws Exception {
        TestBackend a = backend(new TestBackend("slow", (req, body, out) -> {
            hold();
            TestBackend.respond(out, 200, "late");
        }));
        int port = start(config(upstream(a)).readTimeout(Duration.ofMillis(300)).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals(504, r.status());
            assertEquals("504 Gateway Timeout\n", r.text());
        }
    }

    @Test
    void bodilessAnswersGetNoInventedContentLength() throws Exception {
        TestBackend a = backend(new TestBackend("a", (req, body, out) -> {
            switch (req.target()) {
                case "/304" -> TestBackend.head(out, "HTTP/1.1 304 Not Modified", "ETag: \"v1\"");
                case "/head-len" -> TestBackend.head(out, "HTTP/1.1 200 OK", "Content-Length: 1234");
                case "/head-nolen" -> TestBackend.head(out, "HTTP/1.1 200 OK", "Content-Type: text/plain");
                case "/204" -> TestBackend.head(out, "HTTP/1.1 204 No Content", "Content-Length: 0");
                default -> TestBackend.respond(out, 200, "after");
            }
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/304")).read();
            assertEquals(304, r.status());
            assertNull(r.header("Content-Length"));
            assertNull(r.header("Transfer-Encoding"));
            assertEquals("\"v1\"", r.header("ETag"));

            r = c.send("HEAD /head-len HTTP/1.1\r\nHost: h\r\n\r\n").read(true, null);
            assertEquals(200, r.status());
            assertEquals("1234", r.header("Content-Length"));

            r = c.send("HEAD /head-nolen HTTP/1.1\r\nHost: h\r\n\r\n").read(true, null);
            assertEquals(200, r.status());
            assertNull(r.header("Content-Length"));

            r = c.send(RawClient.get("/204")).read();
            assertEquals(204, r.status());
            assertNull(r.header("Content-Length"));

            // the connection is still in step: no stray body bytes came with the answers above
            r = c.send(RawClient.get("/after")).read();
            assertEquals(200, r.status());
            assertEquals("after", r.text());
        }
    }

    @Test
    void keptAliveBackendConnectionsAreReused() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(config(upstream(a)).build(), 1);
        for (int i = 0; i < 5; i++) {
            try (RawClient c = new RawClient(port)) { // a new client connection each time, the same loop
                assertEquals(200, c.send(RawClient.get("/x")).read().status());
            }
        }
        assertEquals(5, a.requests.size());
        assertEquals(1, a.connections.get());
    }

    @Test
    void eachEventLoopKeepsItsOwnBackendConnections() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(config(upstream(a)).build(), 2);
        for (int i = 0; i < 6; i++) {
            try (RawClient c = new RawClient(port)) { // client connections are spread over the two loops in turn
                assertEquals(200, c.send(RawClient.get("/x")).read().status());
            }
        }
        assertEquals(6, a.requests.size());
        assertEquals(2, a.connections.get()); // one per loop, each reused by the clients of its loop
    }

    @Test
    void anIdleClientConnectionIsClosed() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        proxy = NettyProxyServer.builder(config(upstream(a)).build()).bind("127.0.0.1", 0).workers(1)
                .clientIdleTimeout(Duration.ofMillis(200)).build();
        proxy.start();
        try (RawClient c = new RawClient(proxy.port())) {
            assertTrue(c.closedByPeer(), "a connection that never sent a request stays open");
        }
        try (RawClient c = new RawClient(proxy.port())) {
            assertEquals(200, c.send(RawClient.get("/x")).read().status());
            assertTrue(c.closedByPeer(), "a kept-alive connection stays open while idle");
        }
        try (RawClient c = new RawClient(proxy.port())) {
            c.send("GET /x HTTP/1.1\r\nHost: h\r\n"); // a head that never ends
            assertTrue(c.closedByPeer(), "an unfinished request head keeps the connection");
        }
    }

    @Test
    void manyClientsAtOnceEachGetTheirOwnAnswers() throws Exception {
        TestBackend.Handler echo = (req, body, out) -> TestBackend.respond(out, 200, req.target() + " "
                + new String(body.readAllBytes(), StandardCharsets.UTF_8));
        TestBackend a = backend(new TestBackend("a", echo));
        TestBackend b = backend(new TestBackend("b", echo));
        int port = start(config(upstream(a, b)).build(), 2);
        int clients = 8;
        int each = 100;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
        try {
            List<java.util.concurrent.Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                int client = t;
                done.add(pool.submit(() -> {
                    int ok = 0;
                    try (RawClient c = new RawClient(port)) {
                        for (int i = 0; i < each; i++) {
                            String id = "/c" + client + "/r" + i;
                            RawClient.Response r = i % 2 == 0 ? c.send(RawClient.get(id)).read()
                                    : c.send("POST " + id + " HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody").read();
                            assertEquals(200, r.status());
                            assertEquals(id + (i % 2 == 0 ? " " : " body"), r.text());
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            for (java.util.concurrent.Future<Integer> f : done) {
                assertEquals(each, f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(clients * each, a.requests.size() + b.requests.size());
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        TestBackend a = backend(new TestBackend("a", (req, body, out) -> {
            if (req.target().equals("/1")) {
                Thread.sleep(100); // the first answer is the slowest: order must not follow speed
            }
            TestBackend.respond(out, 200, req.target());
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            c.send(RawClient.get("/1") + "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" + RawClient.get("/3"));
            assertEquals("/1", c.read().text());
            assertEquals("/2", c.read().text());
            assertEquals("/3", c.read().text());
        }
    }

    @Test
    void gracefulStopLetsARunningExchangeFinish() throws Exception {
        TestBackend a = backend(new TestBackend("a", (req, body, out) -> {
            hold();
            TestBackend.respond(out, 200, "finished");
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            c.send(RawClient.get("/x"));
            assertNotNull(a.requests.poll(10, TimeUnit.SECONDS));
            NettyProxyServer p = proxy;
            Thread stopper = new Thread(() -> p.stop(Duration.ofSeconds(20)));
            stopper.start();
            boolean refused = false;
            for (int i = 0; i < 500 && !refused; i++) {
                try {
                    new Socket(InetAddress.getLoopbackAddress(), port).close();
                    Thread.sleep(10);
                } catch (ConnectException e) {
                    refused = true;
                }
            }
            assertTrue(refused, "the listener still accepts while stopping");
            assertTrue(stopper.isAlive(), "stop did not wait for the running exchange");
            release.countDown();
            RawClient.Response r = c.read();
            assertEquals(200, r.status());
            assertEquals("finished", r.text());
            assertEquals("close", r.header("Connection"));
            stopper.join(20_000);
            assertFalse(stopper.isAlive());
        }
        proxy = null;
    }

    @Test
    void refusedRequestsNeverReachAnEndpoint() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(config(upstream(a)).build());
        String big = "x".repeat(33_000);
        String[][] cases = {
            {"TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", "405"},
            {"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", "400"},
            {"GET / HTTP/1.1\r\n\r\n", "400"},
            {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400"},
            {"POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
            {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501"},
            {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n", "413"},
            {"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + big + "\r\n\r\n", "431"},
            {"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + big + big + "\r\n\r\n", "431"},
            {"GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", "414"},
        };
        for (String[] k : cases) {
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(k[0]).read();
                assertEquals(Integer.parseInt(k[1]), r.status(), k[0].length() > 200 ? k[0].substring(0, 60) : k[0]);
                if (r.status() == 405) {
                    assertNotNull(r.header("Allow"));
                }
            }
        }
        assertEquals(0, a.connections.get());
    }

    @Test
    void aStreamedBodyOverTheLimitIs413() throws Exception {
        TestBackend a = backend(new TestBackend("sink", (req, body, out) -> {
            body.readAllBytes();
            TestBackend.respond(out, 200, "read");
        }));
        int port = start(config(upstream(a)).maxRequestBodyBytes(10).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send("POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n").read();
            assertEquals(413, r.status());
            assertEquals("413 Content Too Large\n", r.text());
            assertEquals("close", r.header("Connection"));
        }
    }

    @Test
    void chunkedBodiesStreamBothWays() throws Exception {
        TestBackend a = backend(new TestBackend("echo", (req, body, out) -> {
            byte[] b = body.readAllBytes();
            TestBackend.head(out, "HTTP/1.1 200 OK", "Transfer-Encoding: chunked");
            TestBackend.chunk(out, b, 0, b.length / 2);
            TestBackend.chunk(out, b, b.length / 2, b.length - b.length / 2);
            TestBackend.lastChunk(out);
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            c.send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            RawClient.Response r = c.read();
            assertEquals(200, r.status());
            assertEquals("chunked", r.header("Transfer-Encoding"));
            assertEquals("hello world", r.text());
        }
        assertEquals("chunked", a.requests.poll(10, TimeUnit.SECONDS).header("Transfer-Encoding"));
    }

    @Test
    void responseTrailersPassWhenTheBackendDeclaresThem() throws Exception {
        TestBackend a = backend(new TestBackend("trailers", (req, body, out) -> {
            TestBackend.head(out, "HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Trailer: X-Sum");
            byte[] b = "data".getBytes(StandardCharsets.US_ASCII);
            TestBackend.chunk(out, b, 0, b.length);
            out.write("0\r\nX-Sum: 42\r\nSet-Cookie: no=1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            c.send(RawClient.get("/t"));
            String seen = readUntil(c, "\r\n0\r\n");
            assertTrue(seen.contains("Trailer: X-Sum"), seen);
            String rest = readUntil(c, "\r\n\r\n");
            assertEquals("X-Sum: 42\r\n\r\n", rest); // a field that may not be a trailer stays behind
        }
    }

    @Test
    void anHttp10ClientGetsABodyOfUnknownLengthEndedByTheClose() throws Exception {
        TestBackend a = backend(new TestBackend("chunks", (req, body, out) -> {
            TestBackend.head(out, "HTTP/1.1 200 OK", "Transfer-Encoding: chunked");
            byte[] b = "0123456789".getBytes(StandardCharsets.US_ASCII);
            TestBackend.chunk(out, b, 0, b.length);
            TestBackend.lastChunk(out);
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send("GET /old HTTP/1.0\r\nHost: h\r\n\r\n").read();
            assertEquals(200, r.status());
            assertNull(r.header("Transfer-Encoding"));
            assertEquals("0123456789", r.text());
        }
    }

    @Test
    void expectContinueIsAnsweredWhenTheEndpointTakesTheBody() throws Exception {
        TestBackend a = backend(new TestBackend("echo", (req, body, out) ->
                TestBackend.respond(out, 200, new String(body.readAllBytes(), StandardCharsets.UTF_8))));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            c.send("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            assertEquals(100, c.read().status());
            RawClient.Response r = c.send("hello").read();
            assertEquals(200, r.status());
            assertEquals("hello", r.text());
        }
        assertNull(a.requests.poll(10, TimeUnit.SECONDS).header("Expect"));
    }

    @Test
    void aStalledRequestBodyIs408() throws Exception {
        TestBackend a = backend(new TestBackend("sink", (req, body, out) -> {
            body.readAllBytes();
            TestBackend.respond(out, 200, "read");
        }));
        int port = start(config(upstream(a)).clientBodyTimeout(Duration.ofMillis(300))
                .readTimeout(Duration.ofSeconds(20)).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc").read();
            assertEquals(408, r.status());
            assertEquals("close", r.header("Connection"));
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void serverSentEventsArriveOneByOne() throws Exception {
        TestBackend a = backend(new TestBackend("sse", (req, body, out) -> {
            TestBackend.head(out, "HTTP/1.1 200 OK", "Content-Type: text/event-stream", "Transfer-Encoding: chunked");
            byte[] one = "data: one\n\n".getBytes(StandardCharsets.UTF_8);
            TestBackend.chunk(out, one, 0, one.length);
            out.flush();
            hold(); // the second event waits until the client has read the first
            byte[] two = "data: two\n\n".getBytes(StandardCharsets.UTF_8);
            TestBackend.chunk(out, two, 0, two.length);
            TestBackend.lastChunk(out);
        }));
        int port = start(config(upstream(a)).build());
        try (RawClient c = new RawClient(port)) {
            c.send(RawClient.get("/events"));
            String seen = readUntil(c, "data: one\n\n");
            assertFalse(seen.contains("two"));
            release.countDown();
            seen = readUntil(c, "0\r\n\r\n");
            assertTrue(seen.contains("data: two\n\n"), seen);
        }
    }

    private static String readUntil(RawClient c, String marker) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (!got.toString(StandardCharsets.ISO_8859_1).contains(marker)) {
            int b = c.in.read(); // bounded by the socket timeout
            if (b < 0) {
                throw new IOException("closed before " + marker.trim() + ": " + got.toString(StandardCharsets.ISO_8859_1));
            }
            got.write(b);
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }
}
