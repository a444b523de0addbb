package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.contract.Outcomes;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Fan-out on the event loops, beyond the contract suite's {@code FanOutIT}: the legs' backend
 * connections (kept alive, reused, closed), legs still running after the answer, the client
 * leaving, bounded answers, the total timeout; every test ends with the leak check.
 */
class FanOutLegsIT extends ProxyITBase {

    /** Answers {@code id:<request body length>} after reading the body. */
    private TestBackend counting(String id) throws Exception {
        return backend(new TestBackend(id, (req, body, out) -> {
            long n = body.transferTo(OutputStream.nullOutputStream());
            TestBackend.respond(out, 200, id + ":" + n, "X-Id: " + id);
        }));
    }

    /** Answers {@code id} once {@code gate} opens (at most 30 s). */
    private TestBackend gated(String id, CountDownLatch gate) throws Exception {
        return backend(new TestBackend(id, (req, body, out) -> {
            gate.await(30, TimeUnit.SECONDS);
            TestBackend.respond(out, 200, id);
        }));
    }

    private int fanOut(Upstream up, FanOut f) {
        return fanOut(up, f, ProxyConfig.builder());
    }

    private int fanOut(Upstream up, FanOut f, ProxyConfig.Builder cfg) {
        return start(cfg.route(Route.builder("fan", up).broadcast(f).build()).build());
    }

    private static List<String> await(Map<String, List<String>> seen, String id, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (seen.getOrDefault(id, List.of()).size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not " + count + " outcomes for " + id + ": " + seen);
            }
            Thread.sleep(5);
        }
        return seen.get(id);
    }

    @Test
    void aChunkedBodyReachesEveryEndpointAndTheConnectionsAreKeptAlive() throws Exception {
        TestBackend a = counting("a");
        TestBackend b = counting("b");
        Upstream up = upstream(a, b);
        int port = fanOut(up, FanOut.builder().build());
        String idA = "127.0.0.1:" + a.port();
        String idB = "127.0.0.1:" + b.port();
        try (RawClient c = new RawClient(port)) {
            for (int i = 0; i < 3; i++) {
                c.send("POST /hook HTTP/1.1\r\nHost: front.example\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
                RawClient.Response r = c.read();
                assertEquals(200, r.status(), r.text());
                assertEquals("a:11", r.text(), "ALL: the first endpoint's response");
                assertEquals("a", r.header("X-Id"));
                assertEquals(idA + ", " + idB, r.header("X-Served-By"));
                assertEquals("1.1 lbkit", r.header("Via"));
            }
            // a body-less request on the same connection
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals("a:0", r.text());
        }
        TestBackend.Request seen = b.requests.poll();
        assertEquals("POST", seen.method());
        assertEquals("11", seen.header("Content-Length"), "the buffered body is sent with its length");
        assertEquals(null, seen.header("Transfer-Encoding"));
        assertEquals(1, a.connections.get(), "each leg's connection went back to the pool and was reused");
        assertEquals(1, b.connections.get());
        assertEquals(0, up.status(idA).orElseThrow().inFlight());
    }

    @Test
    void expect100ContinueGetsTheContinueBeforeTheBodyIsRead() throws Exception {
        TestBackend a = counting("a");
        int port = fanOut(upstream(a), FanOut.builder().build());
        try (RawClient c = new RawClient(port)) {
            c.send("POST /hook HTTP/1.1\r\nHost: front.example\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
            assertEquals(100, c.read().status());
            RawClient.Response r = c.send("data").read();
            assertEquals(200, r.status());
            assertEquals("a:4", r.text());
        }
    }

    @Test
    void aBodyOverTheLimitIs413AndAStalledBodyIs408AndNeitherReachesAnEndpoint() throws Exception {
        TestBackend a = counting("a");
        int port = fanOut(upstream(a), FanOut.builder().maxBodyBytes(1000).build(),
                ProxyConfig.builder().clientBodyTimeout(Duration.ofMillis(500)));
        try (RawClient c = new RawClient(port)) {
            StringBuilder chunks = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                chunks.append("1f4\r\n").append("x".repeat(500)).append("\r\n");
            }
            RawClient.Response r = c.send("POST /hook HTTP/1.1\r\nHost: front.example\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunks + "0\r\n\r\n").read();
            assertEquals(413, r.status());
            assertEquals("close", r.header("Connection"));
        }
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send("POST /hook HTTP/1.1\r\nHost: front.example\r\nContent-Length: 10\r\n\r\nabc")
                    .read();
            assertEquals(408, r.status());
        }
        assertEquals(0, a.requests.size(), "no endpoint saw a refused body");
    }

    @Test
    void firstAnswersAndTheLegStillRunningEndsWithItsRealOutcome() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        TestBackend slow = gated("slow", gate);
        TestBackend fast = counting("fast");
        Upstream up = upstream(slow, fast);
        Map<String, List<String>> seen = Outcomes.record(up);
        int port = fanOut(up, FanOut.builder().aggregation(FanOut.Aggregation.FIRST).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals(200, r.status());
            assertEquals("fast:0", r.text());
            assertEquals(List.of(), seen.getOrDefault("127.0.0.1:" + slow.port(), List.of()), "slow has not answered");
            gate.countDown();
            assertEquals(List.of("RESPONSE 200"), await(seen, "127.0.0.1:" + slow.port(), 1));
            assertEquals(List.of("RESPONSE 200"), seen.get("127.0.0.1:" + fast.port()));
            // the client connection goes on (the gate is open now: either may answer first)
            assertEquals(200, c.send(RawClient.get("/y")).read().status());
        }
        await(seen, "127.0.0.1:" + slow.port(), 2);
        assertEquals(0, up.status("127.0.0.1:" + slow.port()).orElseThrow().inFlight());
    }

    /**
     * On epoll the client's close is seen while the legs run (the socket reports it); on NIO the
     * engine reads nothing from the client then and notices at the answer's write (docs/proxy.md).
     */
    @Test
    void aClientLeavingCancelsTheRunningLegs() throws Exception {
        Assumptions.assumeTrue(Transport.epollUnavailability() == null, "epoll reports a peer's close without a read");
        CountDownLatch gate = new CountDownLatch(1);
        TestBackend a = gated("a", gate);
        TestBackend b = gated("b", gate);
        Upstream up = upstream(a, b);
        Map<String, List<String>> seen = Outcomes.record(up);
        int port = fanOut(up, FanOut.builder().build());
        try (RawClient c = new RawClient(port)) {
            c.send(RawClient.get("/x"));
            a.requests.poll(30, TimeUnit.SECONDS);
            b.requests.poll(30, TimeUnit.SECONDS);
        }
        assertEquals(List.of("CANCELLED"), await(seen, "127.0.0.1:" + a.port(), 1), "the endpoint is not blamed");
        assertEquals(List.of("CANCELLED"), await(seen, "127.0.0.1:" + b.port(), 1));
        gate.countDown();
    }

    @Test
    void anAnswerOverMaxResponseBytesIs502AndTheTotalTimeoutIs504() throws Exception {
        TestBackend big = backend(new TestBackend("big", (req, body, out) -> TestBackend.respond(out, 200, "x".repeat(100))));
        TestBackend small = counting("small");
        Upstream up = upstream(big, small);
        Map<String, List<String>> seen = Outcomes.record(up);
        int port = fanOut(up, FanOut.builder().maxResponseBytes(10).totalTimeout(Duration.ofMillis(500)).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals(502, r.status(), r.text());
            assertEquals("502 Bad Gateway\n", r.text());
            assertEquals(List.of("RESPONSE 200"), seen.get("127.0.0.1:" + big.port()), "it answered: not its failure");
        }
        proxy.stop(Duration.ofSeconds(5));
        CountDownLatch never = new CountDownLatch(1);
        TestBackend stuck = gated("stuck", never);
        Upstream up2 = upstream(stuck, small);
        Map<String, List<String>> seen2 = Outcomes.record(up2);
        port = fanOut(up2, FanOut.builder().summary(true).totalTimeout(Duration.ofMillis(500)).build());
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals(504, r.status(), r.text());
            assertTrue(r.text().contains("{\"endpoint\":\"127.0.0.1:" + stuck.port() + "\",\"status\":504,\"error\":\"timeout\"}"),
                    r.text());
            assertEquals("application/json", r.header("Content-Type"));
            assertEquals(String.valueOf(r.text().getBytes(StandardCharsets.UTF_8).length), r.header("Content-Length"));
        }
        assertEquals(List.of("TIMEOUT"), seen2.get("127.0.0.1:" + stuck.port()));
        never.countDown();
    }
}
