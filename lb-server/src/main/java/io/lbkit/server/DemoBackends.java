package io.lbkit.server;

import io.lbkit.servlet.backend.InstanceIdFilter;
import io.lbkit.servlet.backend.SessionFilter;
import io.lbkit.session.SessionStore;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.http.QuotedQualityCSV;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The demo's backends: Jetty 12 servers on 127.0.0.1, each a session-aware app built only from
 * lb-servlet's backend filters ({@link SessionFilter} on a shared store, {@link InstanceIdFilter})
 * and one servlet: {@code /} and {@code /cart} count visits in the session ({@code /} gives a browser
 * that asks for {@code text/html} a page instead, which shows the visits live), {@code /events} is
 * a server-sent event stream, {@code /headers} shows the session the proxy forwarded in
 * {@code X-Session-Data}, {@code /health} answers {@code ok}, any other path is a 404 that touches no
 * session (a browser's {@code /favicon.ico} is no visit); {@code POST /fail} makes the backend
 * that gets it answer 500 to everything, its health checks included, for a minute.
 */
final class DemoBackends implements AutoCloseable {

    /** Where the demo's proxy tier connects from. */
    private static final String PROXY_TIER = "127.0.0.1/32";

    private final List<Server> servers = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lbkit-demo-sse");
        t.setDaemon(true);
        return t;
    });

    DemoBackends(int count, SessionStore store) throws Exception {
        for (int i = 1; i <= count; i++) {
            String name = "backend-" + i;
            QueuedThreadPool pool = new QueuedThreadPool(50, 4);
            pool.setName(name);
            Server server = new Server(pool);
            ServerConnector c = new ServerConnector(server);
            c.setHost("127.0.0.1");
            server.addConnector(c);
            ServletContextHandler ctx = new ServletContextHandler("/");
            ctx.addServletContainerInitializer((classes, sc) -> {
                var id = sc.addFilter("instance-id", new InstanceIdFilter(name, null));
                id.setAsyncSupported(true);
                id.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
                // the demo's proxy tier connects from 127.0.0.1: the backends believe its X-Session-ID and
                // X-Forwarded-Proto; the proxy tier itself trusts no client's forwarding headers
                var sessions = sc.addFilter("sessions", SessionFilter.builder(store).trustedProxies(PROXY_TIER).build());
                sessions.setAsyncSupported(true);
                sessions.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
                var app = sc.addServlet("demo", new DemoServlet(name, ticker));
                app.setAsyncSupported(true);
                app.addMapping("/");
            });
            server.setHandler(ctx);
            server.start();
            servers.add(server);
            ports.add(c.getLocalPort());
        }
    }

    List<Integer> ports() {
        return List.copyOf(ports);
    }

    @Override
    public void close() {
        for (Server s : servers) {
            try {
                s.stop();
            } catch (Exception e) {
                // best effort on the way out
            }
        }
        ticker.shutdownNow();
    }

    /** The demo application. */
    static final class DemoServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;
        /** The page a browser gets at {@code /}: plain HTML, CSS and JavaScript in one file in the jar. */
        private static final byte[] PAGE = resource("demo.html");
        /** How long {@code POST /fail} makes a backend fail. */
        static final Duration FAILURE = Duration.ofSeconds(60);
        private final String name;
        private final transient ScheduledExecutorService ticker;
        /** {@link System#nanoTime()} until which this backend fails on purpose; 0 when it does not. */
        private volatile long failingUntil;

        DemoServlet(String name, ScheduledExecutorService ticker) {
            this.name = name;
            this.ticker = ticker;
        }

        /** While failing, every request (health checks included) gets a 500. */
        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
            long until = failingUntil;
            if (until != 0 && System.nanoTime() - until < 0) {
                resp.setStatus(500);
                resp.setContentType("application/json");
                resp.getWriter().write("{\"instance\":\"" + name + "\",\"error\":\"failing on purpose (POST /fail)\"}\n");
                return;
            }
            super.service(req, resp);
        }

        /** {@code POST /fail}: this backend fails every request for {@link #FAILURE}. */
        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
            if (!path(req).equals("/fail")) {
                super.doPost(req, resp);
                return;
            }
            failingUntil = System.nanoTime() + FAILURE.toNanos();
            resp.setContentType("application/json");
            resp.getWriter().write("{\"instance\":\"" + name + "\",\"failing_for_seconds\":" + FAILURE.toSeconds() + "}\n");
        }

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String path = path(req);
            switch (path) {
                case "/health" -> {
                    resp.setContentType("text/plain;charset=utf-8");
                    resp.getWriter().write("ok\n");
                }
                case "/events" -> events(req, resp);
                case "/headers" -> forwarded(req, resp);
                case "/" -> {
                    resp.setHeader("Vary", "Accept");
                    if (wantsHtml(req)) {
                        page(resp);
                    } else {
                        visit(req, resp, path);
                    }
                }
                case "/cart" -> visit(req, resp, path);
                case "/fail" -> {
                    resp.setStatus(405);
                    resp.setHeader("Allow", "POST");
                }
                default -> {
                    // /favicon.ico, /robots.txt, /apple-touch-icon.png...: what browsers ask for on
                    // their own is no visit, and gets no session
                    resp.setStatus(404);
                    resp.setContentType("text/plain;charset=utf-8");
                    resp.getWriter().write("not found\n");
                }
            }
        }

        /**
         * What the proxy tier forwarded: the session in the X-Session-* headers, the client's address and
         * scheme as the proxy saw them.
         */
        private void forwarded(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("application/json");
            String data = req.getHeader("X-Session-Data");
            resp.getWriter().write("{\"instance\":\"" + name + "\",\"x_session_id_present\":"
                    + (req.getHeader("X-Session-ID") != null)
                    + ",\"x_session_data\":" + (data == null ? "null" : data)
                    + ",\"x_forwarded_for\":" + jsonString(req.getHeader("X-Forwarded-For"))
                    + ",\"x_forwarded_proto\":" + jsonString(req.getHeader("X-Forwarded-Proto")) + "}\n");
        }

        /**
         * Whether the client prefers HTML to JSON ({@code Accept}, best first): a browser, which names
         * {@code text/html} before its wildcard, does; curl's bare wildcard, no {@code Accept} at all,
         * or {@code application/json} do not: a wildcard that covers both means JSON.
         */
        static boolean wantsHtml(HttpServletRequest req) {
            QuotedQualityCSV accept = new QuotedQualityCSV(QuotedQualityCSV.MOST_SPECIFIC_MIME_ORDERING);
            for (Enumeration<String> e = req.getHeaders("Accept"); e != null && e.hasMoreElements(); ) {
                accept.addValue(e.nextElement());
            }
            for (String type : accept.getValues()) { // best first; q=0 left out
                switch (type.toLowerCase(Locale.ROOT)) {
                    case "text/html", "application/xhtml+xml" -> {
                        return true;
                    }
                    case "application/json", "application/*", "*/*" -> {
                        return false;
                    }
                    default -> {
                        // a type neither answer has: look further
                    }
                }
            }
            return false;
        }

        /** The page for browsers: it fetches {@code /} as JSON (one visit) and listens to {@code /events}. */
        private static void page(HttpServletResponse resp) throws IOException {
            resp.setContentType("text/html;charset=utf-8");
            resp.setHeader("Cache-Control", "no-cache");
            // the page loads nothing from elsewhere: no script, style or connection to another origin
            resp.setHeader("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
                    + "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'");
            resp.setHeader("X-Content-Type-Options", "nosniff");
            resp.getOutputStream().write(PAGE);
        }

        /** A page view: counts one visit in the session, which every backend shares. */
        private void visit(HttpServletRequest req, HttpServletResponse resp, String path) throws IOException {
            HttpSession session = req.getSession(true);
            Object v = session.getAttribute("visits");
            long visits = v instanceof Number n ? n.longValue() + 1 : 1;
            session.setAttribute("visits", visits);
            resp.setContentType("application/json");
            resp.getWriter().write("{\"instance\":\"" + name + "\",\"path\":\"" + path + "\",\"visits\":" + visits + "}\n");
        }

        /**
         * Five events, one a second, each written and flushed as it happens, then the stream ends and
         * an {@code EventSource} reconnects. An event's id is its number in the client's stream, not a
         * count kept by one backend: a reconnect with {@code Last-Event-ID: N} (or {@code ?lastEventId=N},
         * for a page that has to open a new {@code EventSource}) continues at N + 1 on whichever backend
         * answers.
         */
        private void events(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            long last = lastEventId(req);
            resp.setContentType("text/event-stream");
            resp.setHeader("Cache-Control", "no-cache");
            resp.flushBuffer();
            AsyncContext async = req.startAsync();
            async.setTimeout(0);
            PrintWriter w = resp.getWriter();
            w.write("retry: 1000\n\n"); // reconnect after a second, keeping the pace of one event a second
            event(async, w, last + 1, 5);
        }

        private void event(AsyncContext async, PrintWriter w, long id, int left) {
            w.write("id: " + id + "\ndata: {\"instance\":\"" + name + "\",\"event\":" + id + "}\n\n");
            w.flush();
            if (left > 1 && !w.checkError()) { // checkError: the client has gone
                ticker.schedule(() -> event(async, w, id + 1, left - 1), 1, TimeUnit.SECONDS);
                return;
            }
            try {
                async.complete();
            } catch (IllegalStateException alreadyCompleted) {
                // the container ended it when the client went away
            }
        }

        /** The id of the last event the client saw, 0 for none or one that is not a count. */
        private static long lastEventId(HttpServletRequest req) {
            String v = req.getHeader("Last-Event-ID");
            if (v == null) {
                v = req.getParameter("lastEventId");
            }
            return v != null && v.strip().matches("\\d{1,15}") ? Long.parseLong(v.strip()) : 0;
        }

        private static byte[] resource(String resource) {
            try (InputStream in = DemoBackends.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("the demo page " + resource + " is missing from the jar");
                }
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static String path(HttpServletRequest req) {
            return req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
        }

        private static String jsonString(String s) {
            return s == null ? "null" : "\"" + jsonEscape(s) + "\"";
        }

        private static String jsonEscape(String s) {
            StringBuilder sb = new StringBuilder();
            for (char c : s.toCharArray()) {
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c < 0x20 || c > 0x7e) {
                    sb.append(String.format("\\u%04x", (int) c));
                } else {
                    sb.append(c);
                }
            }
            return sb.toString();
        }
    }
}
