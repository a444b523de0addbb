package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.core.limit.ConcurrencyLimiter;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Per-route limits (nginx {@code limit_conn}, {@code limit_req} with its delay) with requests held
 * open by a backend that answers when the test says so: the slot a request holds is given back
 * however its exchange ends (response, client gone, the proxy's own answer, timeouts), and delayed
 * requests wait without being refused, then all go through.
 */
class LimitsIT {

    /** The key of every request the tests send: the client's address. */
    private static final String CLIENT = "127.0.0.1";

    static HeldBackend backend;

    @BeforeAll
    static void start() throws Exception {
        backend = new HeldBackend();
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
    }

    static ProxyFixture proxy(ProxyEngine kind, Route.Builder route) {
        return new ProxyFixture(kind, ProxyConfig.builder().route(route.build()).build());
    }

    static Route.Builder route(Upstream up) {
        return Route.builder("limited", up);
    }

    static Upstream upstream() {
        return Upstream.builder("held").endpoint(ProxyFixture.endpoint("held", backend.port())).build();
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aSecondRequestWhileTheFirstIsHeldGetsTheConfiguredStatusAndTheSlotComesBack(ProxyEngine kind)
            throws Exception {
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(1).rejectStatus(429).build();
        CountDownLatch gate = backend.newGate();
        try (ProxyFixture p = proxy(kind, route(upstream()).concurrencyLimiter(cl));
             Socket first = openHeld(p, "c1", 0)) {
            assertEquals(1, cl.inFlight(CLIENT));
            int arrived = backend.arrivals.size();
            HttpResponse<String> refused = p.get("/held?n=c2");
            assertEquals(429, refused.statusCode());
            assertEquals("429 Too Many Requests\n", refused.body());
            assertEquals(arrived, backend.arrivals.size(), "a refused request never reaches the backend");

            gate.countDown(); // the first response ends
            String rest = readToEnd(first.getInputStream());
            assertTrue(rest.contains("end\n"), rest);
            await(() -> cl.inFlight(CLIENT) == 0, "the slot given back");
            HttpResponse<String> next = p.get("/id-free");
            assertEquals(200, next.statusCode(), next.body());
            await(() -> cl.inFlight(CLIENT) == 0, "the slot given back after a short request");
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void theSlotComesBackWhenTheClientLeavesMidResponse(ProxyEngine kind) throws Exception {
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(1).build();
        CountDownLatch gate = backend.newGate();
        try (ProxyFixture p = proxy(kind, route(upstream()).concurrencyLimiter(cl))) {
            Socket first = openHeld(p, "d1", 64); // 64 more chunks once the gate opens
            assertEquals(1, cl.inFlight(CLIENT));
            assertEquals(503, p.get("/held?n=d2").statusCode(), "nginx's default limit_conn_status");
            first.setSoLinger(true, 0);
            first.close(); // mid-response: the proxy's next writes fail
            gate.countDown();
            await(() -> cl.inFlight(CLIENT) == 0, "the slot given back after the client left");
            HttpResponse<String> next = p.get("/id-free");
            assertEquals(200, next.statusCode(), next.body());
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void theSlotComesBackAfterTheProxysOwnAnswersAndTimeouts(ProxyEngine kind) throws Exception {
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(1).rejectStatus(429).build();
        int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort(); // closed again: connections are refused
        }
        Upstream nowhere = Upstream.builder("nowhere").endpoint(ProxyFixture.endpoint("dead", dead)).build();
        try (ProxyFixture p = proxy(kind, route(nowhere).concurrencyLimiter(cl))) {
            for (int i = 0; i < 3; i++) {
                int st = p.get("/x").statusCode();
                assertTrue(st == 502 || st == 503, "the proxy's own answer, never the limit's: " + st);
                assertEquals(0, cl.inFlight(CLIENT), "released before the answer went out");
            }
        }
        CountDownLatch gate = backend.newGate();
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().readTimeout(Duration.ofMillis(300))
                .route(route(upstream()).concurrencyLimiter(cl).build()).build())) {
            // nothing from the endpoint: 504
            HttpResponse<String> r = p.get("/held?n=t1&quiet=1");
            assertEquals(504, r.statusCode(), r.body());
            assertEquals(0, cl.inFlight(CLIENT), "released before the answer went out");
            // the endpoint stops mid-response: the client's response is cut
            try (Socket s = openHeld(p, "t2", 0)) {
                readToEnd(s.getInputStream());
            } catch (IOException reset) {
                // a cut response may end with a reset
            }
            await(() -> cl.inFlight(CLIENT) == 0, "the slot given back after a read timeout mid-response");
            HttpResponse<String> next = p.get("/id-free");
            assertEquals(200, next.statusCode(), next.body());
        } finally {
            gate.countDown();
        }
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void delayedRequestsWaitTheirTurnAndAllGoThrough(ProxyEngine kind) throws Exception {
        AtomicLong now = new AtomicLong();
        // a frozen clock: 1r/s, burst 2, delay 0 -> the 2nd and 3rd wait 1 s and 2 s (their order is
        // the admission order: LimitsTest), the 4th is refused
        RateLimiter rl = RateLimiter.builder().rate("1r/s").burst(2).rejectStatus(429).ticker(now::get).build();
        // a generous concurrency limit on the same route shows when the proxy has admitted a request
        ConcurrencyLimiter cl = ConcurrencyLimiter.builder().maxConcurrent(100).build();
        CountDownLatch gate = backend.newGate();
        backend.arrivals.clear();
        List<Socket> held = new ArrayList<>();
        try (ProxyFixture p = proxy(kind, route(upstream()).rateLimiter(rl).concurrencyLimiter(cl))) {
            for (int i = 0; i < 3; i++) {
                held.add(send(p, "r" + i));
                int admitted = i + 1;
                await(() -> cl.inFlight(CLIENT) == admitted, "request " + i + " admitted");
                if (i == 0) {
                    await(() -> backend.arrivals.size() == 1, "the first request at the backend");
                }
                if (i == 1) {
                    assertEquals(List.of("r0"), List.copyOf(backend.arrivals),
                            "admitted, the second request waits its delay (1 s) before it goes to the backend");
                }
            }
            HttpResponse<String> refused = p.get("/held?n=r3");
            assertEquals(429, refused.statusCode(), "past the burst: refused, not delayed");
            await(() -> backend.arrivals.size() == 3, "every delayed request reached the backend");
            // not their order at the backend: under load a connection may take longer than the gap
            assertEquals(java.util.Set.of("r0", "r1", "r2"), java.util.Set.copyOf(backend.arrivals));
            gate.countDown();
            for (Socket s : held) {
                String r = readToEnd(s.getInputStream());
                assertTrue(r.startsWith("HTTP/1.1 200"), r);
            }
            await(() -> cl.inFlight(CLIENT) == 0, "every slot given back");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    // -------------------------------------------------------------------------------------

    /** Sends {@code GET /held?n=<n>} on a new connection that closes after the response. */
    private static Socket send(ProxyFixture p, String n) throws IOException {
        return send(p, n, 0);
    }

    private static Socket send(ProxyFixture p, String n, int more) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", p.port()), 10_000);
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(("GET /held?n=" + n + "&more=" + more + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return s;
    }

    /** Sends a held request and reads until the backend's first line ({@code n=<n>}) arrived. */
    private static Socket openHeld(ProxyFixture p, String n, int more) throws IOException {
        Socket s = send(p, n, more);
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        String marker = "n=" + n + "\n";
        while (!got.toString(StandardCharsets.ISO_8859_1).contains(marker)) {
            int b = in.read();
            if (b < 0) {
                s.close();
                throw new AssertionError("the connection closed before the first line: " + got);
            }
            got.write(b);
        }
        return s;
    }

    private static String readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    /**
     * A Jetty backend: {@code /held?n=N&more=K} records N, sends the line {@code n=N} (not with
     * {@code quiet}), waits for the test's gate, then sends K chunks of 8 KiB; {@code /id-free}
     * answers at once.
     */
    static final class HeldBackend implements AutoCloseable {
        final ConcurrentLinkedQueue<String> arrivals = new ConcurrentLinkedQueue<>();
        private volatile CountDownLatch gate = new CountDownLatch(0);
        private final Server server = new Server();
        private final ServerConnector connector = new ServerConnector(server);

        HeldBackend() throws Exception {
            connector.setHost("127.0.0.1");
            server.addConnector(connector);
            ServletContextHandler ctx = new ServletContextHandler("/");
            ctx.addServlet(new ServletHolder(new HttpServlet() {
                private static final long serialVersionUID = 1L;

                @Override
                protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                    handle(req, resp);
                }
            }), "/*");
            server.setHandler(ctx);
            server.start();
        }

        CountDownLatch newGate() {
            CountDownLatch g = new CountDownLatch(1);
            gate = g;
            return g;
        }

        int port() {
            return connector.getLocalPort();
        }

        private void handle(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/plain");
            if (!req.getRequestURI().equals("/held")) {
                resp.getOutputStream().write("free\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            String n = req.getParameter("n");
            int more = Integer.parseInt(req.getParameter("more") == null ? "0" : req.getParameter("more"));
            CountDownLatch g = gate;
            arrivals.add(n);
            OutputStream out = resp.getOutputStream();
            if (req.getParameter("quiet") == null) {
                out.write(("n=" + n + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            try {
                if (!g.await(30, TimeUnit.SECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            byte[] chunk = new byte[8192];
            java.util.Arrays.fill(chunk, (byte) 'x');
            for (int i = 0; i < more; i++) {
                out.write(chunk);
                out.flush();
            }
            out.write("end\n".getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public void close() throws Exception {
            server.stop();
        }
    }
}
