package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.contract.Outcomes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What the event-loop engine does on client connections that the servlet engine cannot (nginx's
 * {@code client_header_timeout}, {@code keepalive_timeout}, {@code keepalive_requests}, a malformed
 * chunked body, a connection limit), graceful stop, and slowloris. Real sockets on 127.0.0.1; the
 * timeouts are short and nothing asserts on how long anything took, only on what the client got.
 */
class ClientConnectionIT extends ProxyITBase {

    private NettyProxyServer.Builder builder(ProxyConfig config) {
        return NettyProxyServer.builder(config).bind("127.0.0.1", 0).workers(2);
    }

    private int start(NettyProxyServer.Builder b) {
        proxy = b.build();
        proxy.start();
        return proxy.port();
    }

    @Test
    void aRequestHeadThatDoesNotArriveWithinTheHeaderTimeoutIsClosedWithoutAnAnswer() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        // the keep-alive timeout is longer than the client's 20 s socket timeout: only the header timeout can close
        int port = start(builder(config(upstream(a)).build()).clientHeaderTimeout(Duration.ofMillis(300))
                .clientKeepAliveTimeout(Duration.ofSeconds(60)));
        try (RawClient c = new RawClient(port)) {
            assertTrue(c.closedByPeer(), "a connection that sends nothing has the header timeout from its opening");
        }
        try (RawClient c = new RawClient(port)) {
            c.send("GET /x HTTP/1.1\r\nHost: h\r\n"); // a head that never ends
            assertTrue(c.closedByPeer(), "closed, and no answer came first (nginx logs 408 and sends nothing)");
        }
        try (RawClient c = new RawClient(port)) {
            assertEquals(200, c.send(RawClient.get("/1")).read().status());
            c.send("GET /2 HT"); // the next request's first bytes start its header timeout
            assertTrue(c.closedByPeer(), "the second head's header timeout");
        }
        assertEquals(1, a.requests.size(), "only the complete head reached the backend");
    }

    @Test
    void aKeptAliveConnectionWaitsTheKeepAliveTimeoutNotTheHeaderTimeoutForItsNextRequest() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(builder(config(upstream(a)).build()).clientHeaderTimeout(Duration.ofMillis(200))
                .clientKeepAliveTimeout(Duration.ofSeconds(60)));
        try (RawClient c = new RawClient(port)) {
            assertEquals(200, c.send(RawClient.get("/1")).read().status());
            Thread.sleep(1000); // idle for five header timeouts: the keep-alive timeout applies, not the header one
            RawClient.Response r = c.send(RawClient.get("/2")).read();
            assertEquals(200, r.status());
            assertNull(r.header("Connection"));
        }
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedAfterTheKeepAliveTimeout() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(builder(config(upstream(a)).build()).clientKeepAliveTimeout(Duration.ofMillis(300)));
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/1")).read();
            assertEquals(200, r.status());
            assertNull(r.header("Connection"), "kept alive");
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void theLastOfKeepAliveRequestsSaysConnectionCloseAndTheConnectionCloses() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(builder(config(upstream(a)).build()).keepAliveRequests(3));
        try (RawClient c = new RawClient(port)) {
            for (int i = 1; i <= 3; i++) {
                RawClient.Response r = c.send(RawClient.get("/" + i)).read();
                assertEquals(200, r.status());
                assertEquals(i == 3 ? "close" : null, r.header("Connection"), "response " + i);
            }
            assertTrue(c.closedByPeer());
        }
        try (RawClient c = new RawClient(port)) {
            // pipelined: as nginx, the third answer closes and the fourth request is not read
            c.send(RawClient.get("/1") + RawClient.get("/2") + RawClient.get("/3") + RawClient.get("/4"));
            assertNull(c.read().header("Connection"));
            assertNull(c.read().header("Connection"));
            assertEquals("close", c.read().header("Connection"));
            assertTrue(c.closedByPeer());
        }
        // a refused request counts too (nginx counts every request)
        try (RawClient c = new RawClient(port)) {
            c.send("TRACE / HTTP/1.1\r\nHost: h\r\n\r\n" + RawClient.get("/2") + RawClient.get("/3"));
            assertEquals(405, c.read().status());
            assertEquals(200, c.read().status());
            RawClient.Response r = c.read();
            assertEquals(200, r.status());
            assertEquals("close", r.header("Connection"));
            assertTrue(c.closedByPeer());
        }
    }

    /** A chunked body the client gets wrong: 400, closed, and the backend never gets a complete request. */
    @Test
    void aMalformedChunkedBodyIs400AndNeverReachesABackendAsAValidRequest() throws Exception {
        AtomicInteger completed = new AtomicInteger();
        TestBackend a = backend(new TestBackend("a", (req, body, out) -> {
            long n = body.transferTo(OutputStream.nullOutputStream());
            completed.incrementAndGet();
            TestBackend.respond(out, 200, "got " + n);
        }));
        Upstream up = upstream(a);
        Map<String, List<String>> seen = Outcomes.record(up);
        int port = start(builder(config(up).build()));
        String head = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        String[] bodies = {
            "5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n",         // a chunk size that is not hex
            "5\r\nhelloXY3\r\nabc\r\n0\r\n\r\n",           // no CRLF after the chunk's data
            "5\r\nhello\r\n0\r\nno colon here\r\n\r\n",    // a trailer line that is not a field
            "5\r\nhello\r\nfffffffffffffffff\r\n",         // a chunk size that overflows
        };
        for (String body : bodies) {
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(head + body).read();
                assertEquals(400, r.status(), body);
                assertEquals("close", r.header("Connection"), body);
                assertTrue(c.closedByPeer(), body);
            }
        }
        // the body was already streaming to the backend when the bad chunk came: that attempt is cut
        try (RawClient c = new RawClient(port)) {
            c.send(head.replace("/up", "/streaming") + "5\r\nhello\r\n");
            TestBackend.Request got;
            do {
                got = a.requests.poll(10, TimeUnit.SECONDS);
                assertNotNull(got, "the request went to the backend");
            } while (!got.target().equals("/streaming"));
            RawClient.Response r = c.send("5\r\nworld\r\n?\r\n").read();
            assertEquals(400, r.status());
            assertTrue(c.closedByPeer());
        }
        // the proxy still serves well-formed chunked bodies
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(head + "5\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n").read();
            assertEquals(200, r.status());
            assertEquals("got 8", r.text());
        }
        assertEquals(1, completed.get(), "only the well-formed body completed at the backend");
        String id = up.endpoints().get(0).id();
        for (int i = 0; i < 1000 && !seen.getOrDefault(id, List.of()).contains("RESPONSE 200"); i++) {
            Thread.sleep(10); // the last outcome is recorded once the response was written, maybe after the client read it
        }
        List<String> outcomes = seen.get(id);
        assertEquals(6, outcomes.size(), outcomes.toString());
        assertEquals("RESPONSE 200", outcomes.get(outcomes.size() - 1));
        assertTrue(outcomes.subList(0, outcomes.size() - 1).stream().allMatch(o -> o.equals("CANCELLED")),
                "a client's bad body never blames the endpoint: " + outcomes);
    }

    @Test
    void atMaxConnectionsTheListenerStopsAcceptingUntilOneCloses() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(builder(config(upstream(a)).build()).maxConnections(2));
        RawClient c1 = new RawClient(port);
        try (RawClient c2 = new RawClient(port)) {
            assertEquals(200, c1.send(RawClient.get("/1")).read().status());
            assertEquals(200, c2.send(RawClient.get("/2")).read().status());
            // the third connection completes in the kernel's accept queue but is not taken while two are open
            try (Socket c3 = new Socket(InetAddress.getLoopbackAddress(), port)) {
                c3.getOutputStream().write(RawClient.get("/3").getBytes(StandardCharsets.ISO_8859_1));
                c3.setSoTimeout(500);
                InputStream in = c3.getInputStream();
                assertThrows(SocketTimeoutException.class, in::read, "served while the limit is in use");
                assertEquals(2, proxy.openClientConnections());
                assertEquals(200, c2.send(RawClient.get("/2b")).read().status(), "the open ones are still served");
                c1.close(); // a slot frees: the waiting connection is accepted and its request read
                c3.setSoTimeout(20_000);
                String status = TestBackend.readLine(in);
                assertNotNull(status);
                assertTrue(status.startsWith("HTTP/1.1 200"), status);
            }
        } finally {
            c1.close();
        }
    }

    @Test
    void gracefulStopClosesIdleConnectionsRefusesNewOnesAndLetsARunningExchangeFinish() throws Exception {
        TestBackend a = backend(new TestBackend("a", (req, body, out) -> {
            if (req.target().equals("/slow")) {
                hold();
            }
            TestBackend.respond(out, 200, "done " + req.target());
        }));
        int port = start(builder(config(upstream(a)).build()));
        try (RawClient idle = new RawClient(port); RawClient busy = new RawClient(port);
             RawClient half = new RawClient(port)) {
            assertEquals(200, idle.send(RawClient.get("/1")).read().status()); // kept alive, idle now
            half.send("GET /never HTTP/1.1\r\n"); // a head still arriving
            busy.send(RawClient.get("/slow"));
            a.requests.poll(10, TimeUnit.SECONDS); // /1
            assertNotNull(a.requests.poll(10, TimeUnit.SECONDS)); // /slow is at the backend
            NettyProxyServer p = proxy;
            Thread stopper = new Thread(() -> p.stop(Duration.ofSeconds(20)));
            stopper.start();
            assertTrue(idle.closedByPeer(), "an idle kept-alive connection closes at once");
            assertTrue(half.closedByPeer(), "a connection with no exchange running closes at once");
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
            RawClient.Response r = busy.read();
            assertEquals(200, r.status());
            assertEquals("done /slow", r.text());
            assertEquals("close", r.header("Connection"));
            assertTrue(busy.closedByPeer());
            stopper.join(20_000);
            assertFalse(stopper.isAlive());
        }
        proxy = null;
    }

    /**
     * Slowloris: many connections send a request head one byte at a time, slower than the header
     * timeout allows. Every one is closed before its head completes and none is ever answered, while
     * other clients are served all along.
     */
    @Test
    void slowlorisConnectionsAreClosedAfterTheHeaderTimeoutWhileOthersAreServed() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(builder(config(upstream(a)).build()).clientHeaderTimeout(Duration.ofSeconds(1)));
        byte[] slowHead = "GET /slow HTTP/1.1\r\nHost: h\r\nX-A: b\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        int slowCount = 50;
        List<Socket> slow = new ArrayList<>();
        boolean[] closed = new boolean[slowCount];
        Thread normal = null;
        AtomicInteger served = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        try {
            for (int i = 0; i < slowCount; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                s.setSoTimeout(20_000);
                slow.add(s);
            }
            normal = new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    try (RawClient c = new RawClient(port)) {
                        RawClient.Response r = c.send(RawClient.get("/n" + i)).read();
                        if (r.status() == 200 && r.text().equals("a")) {
                            served.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                        }
                    } catch (IOException e) {
                        failed.incrementAndGet();
                    }
                }
            });
            normal.start();
            // one byte per connection every 200 ms: a head takes about 8 s, eight times the timeout
            int open = slowCount;
            for (int pos = 0; pos < slowHead.length && open > 0; pos++) {
                for (int i = 0; i < slowCount; i++) {
                    if (closed[i]) {
                        continue;
                    }
                    try {
                        OutputStream out = slow.get(i).getOutputStream();
                        out.write(slowHead[pos]);
                        out.flush();
                    } catch (IOException e) {
                        closed[i] = true; // the proxy closed it
                        open--;
                    }
                }
                Thread.sleep(200);
            }
            normal.join(120_000);
            assertFalse(normal.isAlive());
            assertEquals(200, served.get(), "other clients are served during the attack; failed " + failed.get());
            // every slow connection was closed by the proxy, and none got an answer
            for (int i = 0; i < slowCount; i++) {
                int b;
                try {
                    b = slow.get(i).getInputStream().read();
                } catch (java.net.SocketException e) {
                    b = -1; // reset: closed too
                }
                assertEquals(-1, b, "slow connection " + i + " was answered or is still open");
            }
            assertEquals(0, a.requests.stream().filter(r -> r.target().equals("/slow")).count());
        } finally {
            for (Socket s : slow) {
                s.close();
            }
            if (normal != null) {
                normal.join(30_000);
            }
        }
    }

    /**
     * A client that pipelines requests and never reads the answers is read no further than its
     * answers are taken: the connection keeps its read interest armed between requests, but past
     * a budget of bytes nobody asked for it stops reading, so the client's writes stall instead of
     * the proxy queueing its requests without bound. The loop ends by itself: when the writes have
     * made no progress for three seconds, or at 64 MiB written (which only a proxy reading
     * without bound would take).
     */
    @Test
    void aClientThatPipelinesWithoutReadingStallsInsteadOfBeingQueuedWithoutBound() throws Exception {
        String answer = "a".repeat(8192);
        TestBackend a = backend(new TestBackend("a", (req, body, out) -> TestBackend.respond(out, 200, answer)));
        int port = start(builder(config(upstream(a)).build()));
        String pad = "p".repeat(4000);
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            batch.append("GET /p HTTP/1.1\r\nHost: h\r\nX-Pad: ").append(pad).append("\r\n\r\n");
        }
        java.nio.ByteBuffer requests = java.nio.ByteBuffer.wrap(batch.toString().getBytes(StandardCharsets.ISO_8859_1));
        long limit = 64L << 20;
        long written = 0;
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            ch.configureBlocking(false);
            long lastProgress = System.nanoTime();
            while (written < limit && System.nanoTime() - lastProgress < TimeUnit.SECONDS.toNanos(3)) {
                if (!requests.hasRemaining()) {
                    requests.rewind();
                }
                int n = ch.write(requests);
                if (n > 0) {
                    written += n;
                    lastProgress = System.nanoTime();
                } else {
                    Thread.sleep(10);
                }
            }
            assertTrue(written < limit, "the proxy read " + written + " bytes of requests whose answers nobody took");
            // the answers come in order once the client reads
            ch.configureBlocking(true);
            java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(64 * 1024);
            while (in.position() < 32) {
                ch.read(in);
            }
            assertEquals("HTTP/1.1 200 ", new String(in.array(), 0, 13, StandardCharsets.ISO_8859_1));
        }
        try (RawClient c = new RawClient(port)) {
            assertEquals(200, c.send(RawClient.get("/other")).read().status(), "other clients are served");
        }
        assertTrue(a.requests.size() < written / 4000, "requests read: " + a.requests.size());
    }

    @Test
    void theBuilderRefusesBadClientSettingsNamingThem() {
        ProxyConfig cfg = config(upstream(1)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NettyProxyServer.builder(cfg).clientHeaderTimeout(Duration.ZERO).build());
        assertEquals("clientHeaderTimeout must be > 0, got PT0S", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NettyProxyServer.builder(cfg).clientKeepAliveTimeout(Duration.ofSeconds(-1)).build());
        assertEquals("clientKeepAliveTimeout must be > 0, got PT-1S", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NettyProxyServer.builder(cfg).keepAliveRequests(0).build());
        assertEquals("keepAliveRequests must be >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NettyProxyServer.builder(cfg).maxConnections(-1).build());
        assertEquals("maxConnections must be >= 0 (0: no limit), got -1", e.getMessage());
    }
}
