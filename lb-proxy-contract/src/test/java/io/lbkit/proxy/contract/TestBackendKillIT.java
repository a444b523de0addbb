package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link TestBackend#kill} leaves no connection open, also one its acceptor took while the kill ran
 * (Jetty may never make that one an endpoint: it stayed open, read by nobody, and a proxy waited
 * its read timeout on it).
 */
class TestBackendKillIT {

    private static final int ROUNDS = 40;
    private static final int MAX_SOCKETS = 400;

    @Test
    void killClosesEveryAcceptedConnection() throws Exception {
        int leaked = 0;
        for (int round = 0; round < ROUNDS; round++) {
            TestBackend b = new TestBackend("k");
            int port = b.port();
            List<Socket> sockets = new CopyOnWriteArrayList<>();
            CountDownLatch some = new CountDownLatch(10);
            Thread connecting = new Thread(() -> {
                // connects as fast as it can until the kill refuses it (bounded either way)
                while (sockets.size() < MAX_SOCKETS) {
                    Socket s = new Socket();
                    try {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                        s.setSoTimeout(5000);
                        s.getOutputStream().write("GET /id HTTP/1.1\r\nHost: k\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        sockets.add(s);
                        some.countDown();
                    } catch (IOException e) {
                        closeQuietly(s);
                        return; // refused: the connector is closed
                    }
                }
            });
            connecting.start();
            assertTrue(some.await(10, TimeUnit.SECONDS), "connections before the kill");
            b.kill();
            connecting.join(10_000);
            for (Socket s : sockets) {
                if (leftOpen(s)) {
                    leaked++;
                }
                closeQuietly(s);
            }
            b.close();
        }
        assertEquals(0, leaked, "connections the killed backend left open");
    }

    /** True when nothing ends the connection: no end of stream, no reset within the socket's timeout. */
    private static boolean leftOpen(Socket s) {
        try {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // a response the backend sent before the kill
            }
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } catch (SocketException e) {
            return false; // reset
        } catch (IOException e) {
            return false;
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closed anyway
        }
    }
}
