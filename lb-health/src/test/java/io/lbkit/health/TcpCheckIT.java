package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.lbkit.core.Endpoint;
import io.lbkit.health.FlakyBackend.Mode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TCP probes (connect; send and expect a reply prefix) against real loopback sockets. A probe that
 * must get an answer (or a refusal, a reset) has {@link #ANSWERS}, long enough for a loaded machine;
 * only the backends that never answer in time (hang, trickle) are probed with the short
 * {@link #SHORT} their detail names.
 */
class TcpCheckIT {

    private static final Duration ANSWERS = Duration.ofSeconds(20);
    private static final Duration SHORT = Duration.ofMillis(500);

    private FlakyBackend backend;
    private ActiveChecker checker;

    @BeforeEach
    void setUp() throws Exception {
        backend = new FlakyBackend();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (checker != null) {
            checker.close();
        }
        backend.close();
    }

    private CheckResult probe(TcpCheck tcp, int port, Duration timeout) throws Exception {
        if (checker != null) {
            checker.close();
        }
        ActiveCheck check = ActiveCheck.builder().interval(Duration.ofDays(1)).timeout(timeout).tcp(tcp).build();
        checker = ActiveChecker.builder().check(check).build();
        Endpoint e = Endpoint.of("127.0.0.1", port);
        checker.watch(e);
        checker.start();
        return checker.checkNow(e.id()).get(60, TimeUnit.SECONDS);
    }

    private CheckResult probe(TcpCheck tcp) throws Exception {
        return probe(tcp, backend.port(), ANSWERS);
    }

    @Test
    void connectPassesWhenTheBackendAccepts() throws Exception {
        CheckResult r = probe(TcpCheck.connect());
        assertTrue(r.passed(), r.toString());
        assertEquals("connected", r.detail());
        assertEquals(0, r.status());
    }

    @Test
    void connectToAClosedPortIsRefused() throws Exception {
        backend.mode(Mode.CLOSED);
        CheckResult r = probe(TcpCheck.connect());
        assertFalse(r.passed());
        assertEquals("connection refused", r.detail());
    }

    @Test
    void sendExpectMatchesARealHttpReply() throws Exception {
        CheckResult r = probe(TcpCheck.sendExpect("GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200"));
        assertTrue(r.passed(), r.toString());
        assertEquals("reply matched", r.detail());
        backend.mode(Mode.FAILING);
        CheckResult bad = probe(TcpCheck.sendExpect("GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200"));
        assertFalse(bad.passed());
        assertEquals("reply did not match", bad.detail());
    }

    @Test
    void sendExpectFailuresHaveClearDetails() throws Exception {
        TcpCheck ping = TcpCheck.sendExpect("GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200");
        backend.mode(Mode.HANG);
        assertEquals("timeout after 500 ms", probe(ping, backend.port(), SHORT).detail());
        backend.mode(Mode.TRICKLE); // "HTTP/1.1 200 OK..." one byte per 100 ms: the 12-byte prefix needs 1.2 s
        assertEquals("timeout after 500 ms", probe(ping, backend.port(), SHORT).detail());
        backend.mode(Mode.GARBAGE);
        assertEquals("reply did not match", probe(ping).detail());
        backend.mode(Mode.RESET);
        assertEquals("connection reset", probe(ping).detail());
    }

    @Test
    void replyShorterThanThePrefixIsAClosedConnection() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    OutputStream out = s.getOutputStream();
                    out.write("+PO".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // test ends
                }
            });
            t.setDaemon(true);
            t.start();
            CheckResult r = probe(TcpCheck.sendExpect("", "+PONG"), server.getLocalPort(), ANSWERS);
            assertFalse(r.passed());
            assertEquals("connection closed before reply", r.detail());
        }
    }
}
