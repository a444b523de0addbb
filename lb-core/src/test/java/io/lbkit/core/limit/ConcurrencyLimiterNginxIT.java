package io.lbkit.core.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.testing.NginxFixture;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link ConcurrencyLimiter} against nginx's {@code limit_conn} for one scripted sequence: requests
 * held open by a backend that answers only when told, from two client addresses, with
 * {@code limit_conn 2} and {@code limit_conn_status 429}. Each request's status is nginx's: the
 * third concurrent request of a key is refused, another key is not, a finished request frees its
 * slot.
 */
class ConcurrencyLimiterNginxIT {

    /** A backend that holds every request until {@link #release()}, then answers 200. */
    private static final class HoldingBackend implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> held = new ArrayList<>();
        volatile CountDownLatch arrived = new CountDownLatch(0); // counts requests reaching the backend
        private volatile boolean holding = true;
        private final Thread acceptor;

        HoldingBackend() throws IOException {
            acceptor = new Thread(this::accept, "holding-backend");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        void expect(int n) {
            arrived = new CountDownLatch(n);
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    s.getInputStream().read(new byte[4096]); // the request head
                    synchronized (held) {
                        if (holding) {
                            held.add(s);
                        } else {
                            answer(s);
                        }
                    }
                    arrived.countDown();
                } catch (IOException e) {
                    return;
                }
            }
        }

        void release() throws IOException {
            synchronized (held) {
                holding = false;
                for (Socket s : held) {
                    answer(s);
                }
                held.clear();
            }
        }

        void releaseOne() throws IOException {
            synchronized (held) {
                answer(held.remove(0));
            }
        }

        private static void answer(Socket s) throws IOException {
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.close();
        }

        @Override
        public void close() throws IOException {
            server.close();
            release();
        }
    }

    /** A request from {@code client} kept open; {@link #status()} waits for its answer. */
    private record Pending(Socket socket) {
        static Pending send(String client, int port) throws IOException {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(client, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            return new Pending(s);
        }

        int status() throws IOException {
            try (socket) {
                InputStream in = socket.getInputStream();
                String line = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
                return Integer.parseInt(line.substring(9, 12));
            }
        }
    }

    @Test
    void theSameStatusesAsNginxForTheSameSequence() throws Exception {
        ConcurrencyLimiter lbkit = ConcurrencyLimiter.builder().maxConcurrent(2).rejectStatus(429).build();
        try (HoldingBackend backend = new HoldingBackend();
             NginxFixture nginx = NginxFixture.start("""
                     limit_conn_zone $binary_remote_addr zone=c:1m;
                     limit_conn_status 429;
                     server {
                         listen 127.0.0.1:{{port}};
                         location / { limit_conn c 2; proxy_pass http://127.0.0.1:%d; }
                     }
                     """.formatted(backend.server.getLocalPort()))) {
            int port = nginx.port();
            // two requests of 127.0.0.2 held at the backend: both admitted
            backend.expect(2);
            Pending a1 = Pending.send("127.0.0.2", port);
            Pending a2 = Pending.send("127.0.0.2", port);
            assertTrue(backend.arrived.await(10, TimeUnit.SECONDS), "both reached the backend");
            assertTrue(lbkit.tryAcquire("127.0.0.2"));
            assertTrue(lbkit.tryAcquire("127.0.0.2"));
            // a third of the same address: refused by both, with the configured status
            int third = Pending.send("127.0.0.2", port).status();
            assertEquals(third, lbkit.tryAcquire("127.0.0.2") ? 200 : lbkit.rejectStatus(), "the third of one key");
            assertEquals(429, third);
            // another address is not limited by the first's requests
            backend.expect(1);
            Pending b1 = Pending.send("127.0.0.3", port);
            assertTrue(backend.arrived.await(10, TimeUnit.SECONDS), "another key is admitted");
            assertTrue(lbkit.tryAcquire("127.0.0.3"));
            // one of the first key's requests ends: its slot is free again for both
            backend.releaseOne();
            assertEquals(200, a1.status());
            lbkit.release("127.0.0.2");
            backend.expect(1);
            Pending a3 = Pending.send("127.0.0.2", port);
            assertTrue(backend.arrived.await(10, TimeUnit.SECONDS), "a freed slot admits the next request");
            assertTrue(lbkit.tryAcquire("127.0.0.2"));
            backend.release();
            assertEquals(200, a2.status());
            assertEquals(200, b1.status());
            assertEquals(200, a3.status());
        }
    }
}
