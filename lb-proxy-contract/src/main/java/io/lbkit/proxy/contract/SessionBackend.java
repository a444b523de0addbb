package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real Jetty backend for session forwarding: echoes the request headers (lower-case names, one
 * {@code name: value} line each, then {@code backend body}), answers {@code status} (default 200)
 * and sets the header {@code hdr} (default X-New-Session-Data) to the {@code set} query parameter
 * ({@value #BIG_PATCH}: a 9000-byte patch, over the 8 KiB default maxPatchBytes), and a
 * {@code Set-Cookie} for each {@code cookie} query parameter.
 */
public final class SessionBackend implements AutoCloseable {

    /** The {@code set} value that makes the backend answer a 9000-byte patch. */
    public static final String BIG_PATCH = "big";

    /** Requests served. */
    public final AtomicInteger hits = new AtomicInteger();
    private final Server server;
    private final ServerConnector connector;

    public SessionBackend() throws Exception {
        server = new Server();
        HttpConfiguration http = new HttpConfiguration();
        http.setRequestHeaderSize(64 * 1024);
        http.setResponseHeaderSize(64 * 1024);
        connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler ctx = new ServletContextHandler("/");
        ctx.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                hits.incrementAndGet();
                StringBuilder sb = new StringBuilder();
                for (String n : Collections.list(req.getHeaderNames())) {
                    for (String v : Collections.list(req.getHeaders(n))) {
                        sb.append(n.toLowerCase(Locale.ROOT)).append(": ").append(v).append('\n');
                    }
                }
                sb.append("backend body\n");
                String status = req.getParameter("status");
                resp.setStatus(status == null ? 200 : Integer.parseInt(status));
                String set = req.getParameter("set");
                if (BIG_PATCH.equals(set)) {
                    set = "{\"x\":\"" + "y".repeat(9000) + "\"}";
                }
                if (set != null) {
                    String hdr = req.getParameter("hdr");
                    resp.setHeader(hdr == null ? "X-New-Session-Data" : hdr, set);
                }
                String[] cookies = req.getParameterValues("cookie");
                if (cookies != null) {
                    for (String c : cookies) {
                        resp.addHeader("Set-Cookie", c);
                    }
                }
                byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
                resp.setContentType("text/plain;charset=utf-8");
                resp.setContentLength(b.length);
                resp.getOutputStream().write(b);
            }
        }), "/*");
        server.setHandler(ctx);
        server.start();
    }

    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the backend saw: its body lists the request headers as {@code name: value} lines. */
    public static final class Echo {
        public final String text;

        public Echo(String body) {
            this.text = body;
        }

        public List<String> all(String lowerName) {
            List<String> out = new ArrayList<>();
            for (String line : text.split("\n")) {
                int c = line.indexOf(": ");
                if (c > 0 && line.substring(0, c).equals(lowerName)) {
                    out.add(line.substring(c + 2));
                }
            }
            return out;
        }

        public String one(String lowerName) {
            List<String> all = all(lowerName);
            assertTrue(all.size() <= 1, lowerName + " more than once: " + text);
            return all.isEmpty() ? null : all.get(0);
        }

        /** Lines whose name is in the X-Session-* / X-New-Session-* family, any case, _ or -. */
        public int sessionHeaderCount() {
            int n = 0;
            for (String line : text.split("\n")) {
                int c = line.indexOf(": ");
                if (c > 0) {
                    String name = line.substring(0, c).replace('_', '-');
                    if (name.startsWith("x-session") || name.startsWith("x-new-session")) {
                        n++;
                    }
                }
            }
            return n;
        }
    }
}
