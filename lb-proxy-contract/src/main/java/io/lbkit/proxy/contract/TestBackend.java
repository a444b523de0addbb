package io.lbkit.proxy.contract;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real Jetty 12 backend on 127.0.0.1 with test handlers (blocking servlet I/O is fine here):
 * <ul>
 *   <li>{@code /id}: body = backend id; header X-Instance-ID</li>
 *   <li>{@code /headers}: body = request line and headers, one per line, names lower case</li>
 *   <li>{@code /echo}: body = request body (streamed)</li>
 *   <li>{@code /download?size=N}: N pattern bytes ({@link #pattern}), Content-Length unless chunked=1</li>
 *   <li>{@code /upload}: reads the body, answers {@code <count> <crc32>}</li>
 *   <li>{@code /sse?key=K&events=N}: N events; before each after the first waits for {@link #allow(String)}</li>
 *   <li>{@code /hang}: waits (up to 60 s or until stopped) without answering</li>
 *   <li>{@code /status?code=N}: answers N</li>
 *   <li>{@code /setheaders}: answers with hop-by-hop and session headers the proxy must drop</li>
 * </ul>
 * Every request is counted per path when it arrives ({@link #hits(String)}) and when its handler ended normally
 * ({@link #completed(String)}: not for a request whose body was cut).
 */
public final class TestBackend implements AutoCloseable {

    public static final Map<String, Semaphore> SSE_GATES = new ConcurrentHashMap<>();

    private final String id;
    private final Server server;
    private final ServerConnector connector;
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> completed = new ConcurrentHashMap<>();
    private volatile boolean stopping;
    /** Every accepted connection still open, so that {@link #kill} closes those Jetty has not made endpoints of yet. */
    private final java.util.Set<SocketChannel> accepted = ConcurrentHashMap.newKeySet();
    private volatile boolean killed;

    public TestBackend(String id) throws Exception {
        this(id, 0);
    }

    public TestBackend(String id, int port) throws Exception {
        this.id = id;
        server = new Server();
        connector = new ServerConnector(server) {
            @Override
            protected void configure(Socket socket) {
                super.configure(socket);
                SocketChannel ch = socket.getChannel();
                if (accepted.size() > 64) {
                    accepted.removeIf(c -> !c.isOpen());
                }
                accepted.add(ch);
                if (killed) {
                    closeQuietly(ch); // accepted while kill() ran: dead like the rest
                }
            }
        };
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        ServletContextHandler ctx = new ServletContextHandler("/");
        ctx.addServlet(new ServletHolder(new Handler()), "/*");
        server.setHandler(ctx);
        server.start();
    }

    public String id() {
        return id;
    }

    public int port() {
        return connector.getLocalPort();
    }

    public int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    /** Requests to {@code path} whose handler ended normally (a cut request body makes it fail). */
    public int completed(String path) {
        AtomicInteger n = completed.get(path);
        return n == null ? 0 : n.get();
    }

    public int totalHits() {
        return hits.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    public static void allow(String key) {
        SSE_GATES.computeIfAbsent(key, k -> new Semaphore(0)).release();
    }

    /** The byte at position i of the download pattern. */
    public static byte pattern(long i) {
        return (byte) ((i * 31 + (i >>> 13)) & 0xff);
    }

    public static long patternCrc(long size) {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[8192];
        long i = 0;
        while (i < size) {
            int n = (int) Math.min(buf.length, size - i);
            for (int k = 0; k < n; k++) {
                buf[k] = pattern(i + k);
            }
            crc.update(buf, 0, n);
            i += n;
        }
        return crc.getValue();
    }

    /**
     * Dies as a killed process would: stops accepting and closes every open connection at once,
     * without answering what is in flight (a graceful {@link #close} lets Jetty answer requests that
     * arrive while it stops with 503, which is the backend's answer, not a dead backend).
     */
    public void kill() {
        stopping = true;
        killed = true;
        try {
            connector.close();
            for (org.eclipse.jetty.io.EndPoint ep : connector.getConnectedEndPoints()) {
                ep.close();
            }
            // a connection the acceptor took just before the close may not be an endpoint yet, and
            // the stopping selector may never make it one: it would stay open, read by nobody
            for (SocketChannel ch : accepted) {
                closeQuietly(ch);
            }
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // closed anyway
        }
    }

    @Override
    public void close() {
        stopping = true;
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private final class Handler extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String path = req.getRequestURI();
            hits.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            handle(path, req, resp);
            completed.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
        }

        private void handle(String path, HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setHeader("X-Instance-ID", id);
            switch (path) {
                case "/id" -> text(resp, id);
                case "/headers" -> {
                    StringBuilder sb = new StringBuilder();
                    sb.append(req.getMethod()).append(' ').append(req.getRequestURI());
                    if (req.getQueryString() != null) {
                        sb.append('?').append(req.getQueryString());
                    }
                    sb.append('\n');
                    for (String n : Collections.list(req.getHeaderNames())) {
                        for (String v : Collections.list(req.getHeaders(n))) {
                            sb.append(n.toLowerCase(Locale.ROOT)).append(": ").append(v).append('\n');
                        }
                    }
                    text(resp, sb.toString());
                }
                case "/trailers" -> {
                    // reads the body, then answers chunked with trailers, one of them echoing the
                    // client's request trailer, one a session header that must not get through
                    long n = req.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                    Map<String, String> in = req.isTrailerFieldsReady() ? req.getTrailerFields() : Map.of();
                    String te = req.getHeader("TE");
                    resp.setContentType("text/plain");
                    resp.setHeader("Trailer", "X-Checksum, X-Req-Trailer, X-New-Session-Data");
                    resp.setTrailerFields(() -> Map.of("x-checksum", "sum-" + n,
                            "x-req-trailer", in.getOrDefault("x-client-t", "none"),
                            "x-new-session-data", "{\"admin\":true}"));
                    var out = resp.getOutputStream();
                    out.write(("body " + n + " te=" + te + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    out.flush(); // commit chunked
                }
                case "/echo" -> {
                    resp.setContentType(req.getContentType() == null ? "application/octet-stream" : req.getContentType());
                    req.getInputStream().transferTo(resp.getOutputStream());
                }
                case "/download" -> {
                    long size = Long.parseLong(req.getParameter("size"));
                    resp.setContentType("application/octet-stream");
                    if (!"1".equals(req.getParameter("chunked"))) {
                        resp.setContentLengthLong(size);
                    }
                    if ("HEAD".equals(req.getMethod())) {
                        return;
                    }
                    OutputStream out = resp.getOutputStream();
                    byte[] buf = new byte[16384];
                    long i = 0;
                    while (i < size) {
                        int n = (int) Math.min(buf.length, size - i);
                        for (int k = 0; k < n; k++) {
                            buf[k] = pattern(i + k);
                        }
                        out.write(buf, 0, n);
                        i += n;
                    }
                }
                case "/echo-flush" -> { // answers while it reads (full duplex)
                    resp.setContentType("text/plain");
                    OutputStream out = resp.getOutputStream();
                    out.flush(); // headers now
                    InputStream in = req.getInputStream();
                    byte[] buf = new byte[1024];
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                }
                case "/upload", "/upload-status" -> {
                    if (path.equals("/upload-status")) {
                        // the status from the query string (getParameter would read a form body)
                        resp.setStatus(Integer.parseInt(req.getQueryString().replaceFirst("^code=", "")));
                    }
                    InputStream in = req.getInputStream();
                    CRC32 crc = new CRC32();
                    byte[] buf = new byte[16384];
                    long count = 0;
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        crc.update(buf, 0, n);
                        count += n;
                    }
                    text(resp, count + " " + crc.getValue());
                }
                case "/sse" -> {
                    String key = req.getParameter("key");
                    int events = Integer.parseInt(req.getParameter("events"));
                    Semaphore gate = SSE_GATES.computeIfAbsent(key, k -> new Semaphore(0));
                    resp.setContentType("text/event-stream");
                    resp.setHeader("Cache-Control", "no-cache");
                    OutputStream out = resp.getOutputStream();
                    for (int e = 0; e < events; e++) {
                        if (e > 0) {
                            try {
                                if (!gate.tryAcquire(30, TimeUnit.SECONDS)) {
                                    return; // test gave up; end the stream
                                }
                            } catch (InterruptedException ie) {
                                Thread.currentThread().interrupt();
                                return;
                            }
                        }
                        out.write(("id: " + e + "\ndata: event " + e + "\n\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                }
                case "/hang" -> {
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (!stopping && System.nanoTime() < until) {
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException ie) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
                case "/status" -> {
                    resp.setStatus(Integer.parseInt(req.getParameter("code")));
                    text(resp, "status from " + id);
                }
                case "/setheaders" -> {
                    resp.setHeader("X-New-Session-Data", "{\"a\":1}");
                    resp.setHeader("X-Custom", "kept");
                    resp.setHeader("X-Drop-Me", "gone");
                    resp.setHeader("Connection", "X-Drop-Me");
                    resp.setHeader("Keep-Alive", "timeout=5");
                    resp.setHeader("Proxy-Authenticate", "Basic");
                    resp.setHeader("Server", "backend-" + id);
                    resp.setHeader("Via", "1.1 inner");
                    text(resp, "ok");
                }
                default -> {
                    resp.setStatus(404);
                    text(resp, "no handler for " + path);
                }
            }
        }

        private void text(HttpServletResponse resp, String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (resp.getContentType() == null) {
                resp.setContentType("text/plain;charset=utf-8");
            }
            resp.setContentLength(b.length);
            resp.getOutputStream().write(b);
        }
    }
}
