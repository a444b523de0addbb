package io.lbkit.health;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;

/**
 * A loopback backend on one fixed port that a test switches between behaviours. The normal modes
 * (HEALTHY, FAILING) are served by a real JDK {@link HttpServer} behind a byte relay; the misbehaving
 * ones by raw sockets.
 */
final class FlakyBackend implements AutoCloseable {

    enum Mode {
        /** 200 with body "status: UP" and header X-Health: ok (real HttpServer). */
        HEALTHY,
        /** 500 (real HttpServer). */
        FAILING,
        /** Accepts, reads, never answers. */
        HANG,
        /** Answers 200 after {@link #SLOW_MILLIS}. */
        SLOW,
        /** Sends a status line one byte every 100 ms and never finishes. */
        TRICKLE,
        /** Sends non-HTTP bytes and closes. */
        GARBAGE,
        /** Closes with SO_LINGER 0 (RST) after reading the request. */
        RESET,
        /** The port is closed: connection refused. */
        CLOSED,
        /** 200 with a 1 MiB body whose marker "NEEDLE" sits past 256 KiB (real HttpServer). */
        BIG_BODY
    }

    static final long SLOW_MILLIS = 10_000; // far past the probes' 500 ms, however late their timer fires

    private final HttpServer http;
    private final ExecutorService threads;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final int port;
    private final AtomicInteger accepted = new AtomicInteger();
    final Map<String, String> lastRequest = new ConcurrentHashMap<>();
    private volatile Mode mode = Mode.HEALTHY;
    private volatile ServerSocket server;
    private volatile boolean closed;

    FlakyBackend() throws IOException {
        AtomicInteger n = new AtomicInteger();
        threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "flaky-backend-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        http.setExecutor(threads);
        http.createContext("/", exchange -> {
            lastRequest.put("method", exchange.getRequestMethod());
            lastRequest.put("path", exchange.getRequestURI().toString());
            lastRequest.put("host", String.valueOf(exchange.getRequestHeaders().getFirst("Host")));
            lastRequest.put("x-probe", String.valueOf(exchange.getRequestHeaders().getFirst("X-Probe")));
            lastRequest.put("user-agent", String.valueOf(exchange.getRequestHeaders().getFirst("User-Agent")));
            exchange.getRequestBody().readAllBytes();
            Mode m = mode;
            byte[] body;
            int status;
            if (m == Mode.BIG_BODY) {
                body = new byte[1024 * 1024];
                java.util.Arrays.fill(body, (byte) 'x');
                System.arraycopy("NEEDLE".getBytes(StandardCharsets.US_ASCII), 0, body, 300 * 1024, 6);
                System.arraycopy("EARLY".getBytes(StandardCharsets.US_ASCII), 0, body, 1000, 5);
                status = 200;
            } else {
                status = m == Mode.FAILING ? 500 : 200;
                body = (m == Mode.FAILING ? "status: DOWN" : "status: UP").getBytes(StandardCharsets.UTF_8);
            }
            exchange.getResponseHeaders().add("X-Health", m == Mode.FAILING ? "bad" : "ok");
            exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(status, head ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                if (!head) {
                    out.write(body);
                }
            } catch (IOException e) {
                // the prober stops reading after its limit
            }
        });
        http.start();
        ServerSocket s = newServer(0);
        port = s.getLocalPort();
        server = s;
        startAccepting(s);
    }

    int port() {
        return port;
    }

    int accepted() {
        return accepted.get();
    }

    Mode mode() {
        return mode;
    }

    synchronized void mode(Mode next) throws IOException {
        Mode prev = this.mode;
        this.mode = next;
        if (next == Mode.CLOSED && prev != Mode.CLOSED) {
            server.close();
            closeOpen();
        } else if (prev == Mode.CLOSED && next != Mode.CLOSED) {
            ServerSocket s = newServer(port);
            server = s;
            startAccepting(s);
        }
        closeOpen(); // release sockets held by a hanging, slow or trickling misbehaviour
    }

    private void closeOpen() {
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                // ignore
            }
        }
        open.clear();
    }

    private static ServerSocket newServer(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return s;
    }

    private void startAccepting(ServerSocket s) {
        threads.execute(() -> {
            while (!s.isClosed()) {
                try {
                    Socket c = s.accept();
                    accepted.incrementAndGet();
                    threads.execute(() -> serve(c));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private void serve(Socket c) {
        Mode m = mode;
        boolean held = m == Mode.HANG || m == Mode.SLOW || m == Mode.TRICKLE;
        if (held) {
            open.add(c);
        }
        try {
            switch (m) {
                case HEALTHY, FAILING, BIG_BODY -> relay(c);
                case HANG -> {
                    // reads and drops whatever comes (a head that arrives in several segments
                    // included) until the client or the test closes: never an answer, never a close
                    byte[] drop = new byte[8192];
                    while (c.getInputStream().read(drop) >= 0) {
                        // keep holding the connection
                    }
                }
                case SLOW -> {
                    readRequest(c);
                    Thread.sleep(SLOW_MILLIS);
                    write(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                }
                case TRICKLE -> {
                    readRequest(c);
                    byte[] line = "HTTP/1.1 200 OK\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);
                    OutputStream out = c.getOutputStream();
                    for (int i = 0; i < 600 && !c.isClosed(); i++) { // bounded: 60 s at most
                        out.write(line[Math.min(i, line.length - 1)]);
                        out.flush();
                        Thread.sleep(100);
                    }
                }
                case GARBAGE -> {
                    readRequest(c);
                    write(c, "SSH-2.0-OpenSSH_9.2\r\n\u0000\u0001\u0002 not http at all\r\n\r\n");
                }
                case RESET -> {
                    readRequest(c);
                    c.setSoLinger(true, 0);
                }
                case CLOSED -> {
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client went away
        } finally {
            open.remove(c);
            try {
                c.close();
            } catch (IOException e) {
                // ignore
            }
        }
    }

    /** Reads whatever the client sent first (a request head or probe bytes), without blocking past it. */
    private static void readRequest(Socket c) throws IOException {
        c.setSoTimeout(2_000);
        try {
            byte[] buf = new byte[8192];
            c.getInputStream().read(buf);
        } catch (java.net.SocketTimeoutException e) {
            // a TCP connect-only probe sends nothing
        }
        c.setSoTimeout(0);
    }

    private static void write(Socket c, String s) throws IOException {
        OutputStream out = c.getOutputStream();
        out.write(s.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private void relay(Socket c) throws IOException, InterruptedException {
        Socket up = new Socket(InetAddress.getLoopbackAddress(), http.getAddress().getPort());
        try {
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            threads.execute(() -> {
                pipe(up, c);
                done.countDown();
            });
            pipe(c, up);
            done.await(30, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            up.close();
        }
    }

    private static void pipe(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buf = new byte[16384];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // closed or reset by the other side
            try {
                to.shutdownOutput();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        closeOpen();
        http.stop(0);
        threads.shutdownNow();
    }
}
