package io.lbkit.proxy.contract;

import io.lbkit.core.Endpoint;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Seed 003's webhook backend as a real Jetty 12 server on 127.0.0.1: {@code backend_<name>}
 * answers 200 "Processing webhook request on backend NAME" when the body contains
 * {@code backend=backend_NAME}, 404 when it contains {@code fail_NAME} or {@code fail_all},
 * and 200 "Wrong backend but ok!" otherwise. Also:
 * <ul>
 *   <li>{@code /gate?on=ID}: when ID is this backend (or no {@code on}) waits until {@link #open()}
 *       (at most 30 s), then answers as above</li>
 *   <li>{@code /status?code=N&on=ID}: answers N when ID is this backend (or no {@code on}), else 200</li>
 * </ul>
 * Records the length and CRC-32 of the last body it received and counts requests.
 */
public final class FanOutBackend implements AutoCloseable {

    public final String name;
    public final String id;
    private final Server server;
    private final ServerConnector connector;
    public final AtomicInteger hits = new AtomicInteger();
    public final AtomicInteger gateDone = new AtomicInteger();
    public final AtomicReference<long[]> lastBody = new AtomicReference<>();
    private final Semaphore gate = new Semaphore(0);

    public FanOutBackend(String name) throws Exception {
        this.name = name;
        this.id = "backend_" + name;
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler ctx = new ServletContextHandler("/");
        ctx.addServlet(new ServletHolder(new Handler()), "/*");
        server.setHandler(ctx);
        server.start();
    }

    public Endpoint endpoint() {
        return Endpoint.builder(id).host("127.0.0.1").port(connector.getLocalPort()).build();
    }

    /** Closes the gate again (tests share backends). */
    public void shut() {
        gate.drainPermits();
    }

    public void open() {
        gate.release(1000);
    }

    @Override
    public void close() {
        open();
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
            hits.incrementAndGet();
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            req.getInputStream().transferTo(buf);
            byte[] body = buf.toByteArray();
            CRC32 crc = new CRC32();
            crc.update(body);
            lastBody.set(new long[] {body.length, crc.getValue()});
            resp.setHeader("X-Instance-ID", id);
            String on = req.getParameter("on");
            if ("/gate".equals(req.getRequestURI()) && (on == null || on.equals(id))) {
                try {
                    gate.tryAcquire(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                gateDone.incrementAndGet();
            }
            if ("/status".equals(req.getRequestURI())) {
                int code = on == null || on.equals(id) ? Integer.parseInt(req.getParameter("code")) : 200;
                text(resp, code, "status " + code + " from " + id);
                return;
            }
            String text = new String(body, StandardCharsets.ISO_8859_1);
            if (text.contains("fail_all") || text.contains("fail_" + name)) {
                text(resp, 404, "failure on backend " + name);
            } else if (text.contains("backend=" + id)) {
                text(resp, 200, "Processing webhook request on backend " + name);
            } else {
                text(resp, 200, "Wrong backend but ok!");
            }
        }

        private void text(HttpServletResponse resp, int status, String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            resp.setStatus(status);
            resp.setContentType("text/plain;charset=utf-8");
            resp.setContentLength(b.length);
            resp.getOutputStream().write(b);
        }
    }
}
