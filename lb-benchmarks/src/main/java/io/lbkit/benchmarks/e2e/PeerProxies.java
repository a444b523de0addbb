package io.lbkit.benchmarks.e2e;

import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.proxy.AsyncProxyServlet;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The servlet proxies lbkit is measured against, each in its own Jetty 12 server and process:
 * {@code PeerProxies jetty <port> <backendPort>...} runs Jetty's {@link AsyncProxyServlet}
 * (non-blocking servlet I/O, Jetty's HttpClient) rotating round robin over the backends;
 * {@code PeerProxies smiley <port> <backendPort>} runs MITRE's smiley-http-proxy-servlet, which
 * proxies to one target only (it has no balancing), on Apache HttpClient 4.
 * Both get the same container thread pool (200 max) as lbkit's serve.
 */
public final class PeerProxies {

    private PeerProxies() {
    }

    public static void main(String[] args) throws Exception {
        Probe.install();
        String kind = args[0];
        int port = Integer.parseInt(args[1]);
        Server server = server("peer-" + kind, port);
        ServletContextHandler ctx = new ServletContextHandler("/");
        switch (kind) {
            case "jetty" -> {
                String[] targets = new String[args.length - 2];
                for (int i = 2; i < args.length; i++) {
                    targets[i - 2] = "http://127.0.0.1:" + args[i];
                }
                ServletHolder h = new ServletHolder(new RoundRobinAsyncProxy(targets));
                h.setAsyncSupported(true);
                h.setInitParameter("maxThreads", "16");
                h.setInitParameter("maxConnections", "256");
                ctx.addServlet(h, "/*");
            }
            case "smiley" -> {
                ServletHolder h = new ServletHolder(new org.mitre.dsmiley.httpproxy.ProxyServlet());
                h.setInitParameter("targetUri", "http://127.0.0.1:" + args[2]);
                h.setInitParameter("log", "false");
                h.setInitParameter("http.maxConnections", "256");
                ctx.addServlet(h, "/*");
            }
            case "jetty-core" -> {
                // Jetty's proxy without the servlet layer: a core Handler on the same HttpClient
                String[] targets = new String[args.length - 2];
                for (int i = 2; i < args.length; i++) {
                    targets[i - 2] = "http://127.0.0.1:" + args[i];
                }
                org.eclipse.jetty.server.Handler h = roundRobinCoreProxy(targets);
                if (Boolean.getBoolean("peer.nonBlocking")) {
                    // experiment: declare the handler non-blocking, so Jetty may run it on the selector thread
                    h = new org.eclipse.jetty.server.Handler.Wrapper(h) {
                        @Override
                        public InvocationType getInvocationType() {
                            return InvocationType.NON_BLOCKING;
                        }
                    };
                }
                server.setHandler(h);
                server.start();
                System.out.println(kind + " proxy ready on " + port);
                server.join();
                return;
            }
            case "servlet-sync", "servlet-async" -> {
                // not proxies: the ceiling of any servlet front end on this Jetty. The servlet answers
                // with the backends' body itself, blocking (sync) or through startAsync and a
                // WriteListener, the servlet I/O a non-blocking proxy does (async)
                ServletHolder h = new ServletHolder(new Answer(kind.equals("servlet-async"),
                        Integer.getInteger("body.size", 128)));
                h.setAsyncSupported(true);
                ctx.addServlet(h, "/*");
            }
            default -> throw new IllegalArgumentException("unknown peer " + kind
                    + " (jetty, jetty-core, smiley, servlet-sync or servlet-async)");
        }
        server.setHandler(ctx);
        server.start();
        System.out.println(kind + " proxy ready on " + port);
        server.join();
    }

    /** A Jetty 12 server on 127.0.0.1:port with the pool every servlet target gets (200 max, as serve). */
    static Server server(String name, int port) {
        QueuedThreadPool pool = new QueuedThreadPool(200, 8);
        pool.setName(name);
        Server server = new Server(pool);
        ServerConnector c = new ServerConnector(server);
        c.setHost("127.0.0.1");
        c.setPort(port);
        c.setAcceptQueueSize(1024);
        server.addConnector(c);
        return server;
    }

    /** Answers every request with a fixed body, as the backends do (see {@link Backends}). */
    static final class Answer extends jakarta.servlet.http.HttpServlet {
        private static final long serialVersionUID = 1L;
        private final boolean async;
        private final byte[] body;

        Answer(boolean async, int size) {
            this.async = async;
            this.body = new byte[size];
            for (int i = 0; i < size; i++) {
                body[i] = (byte) ('a' + i % 26);
            }
            if (size > 0) {
                body[size - 1] = '\n';
            }
        }

        @Override
        protected void doGet(HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
                throws java.io.IOException {
            resp.setContentType("text/plain");
            resp.setContentLength(body.length);
            if (!async) {
                resp.getOutputStream().write(body);
                return;
            }
            jakarta.servlet.AsyncContext ac = req.startAsync();
            jakarta.servlet.ServletOutputStream out = resp.getOutputStream();
            out.setWriteListener(new jakarta.servlet.WriteListener() {
                private boolean written;

                @Override
                public void onWritePossible() throws java.io.IOException {
                    if (!written) {
                        written = true;
                        out.write(body);
                    }
                    if (out.isReady()) {
                        ac.complete();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    ac.complete();
                }
            });
        }
    }

    /** Jetty's core ProxyHandler with the target rotated round robin per request. */
    static org.eclipse.jetty.proxy.ProxyHandler.Reverse roundRobinCoreProxy(String[] targets) {
        String[] t = targets.clone();
        AtomicInteger next = new AtomicInteger();
        return new org.eclipse.jetty.proxy.ProxyHandler.Reverse(request -> org.eclipse.jetty.http.HttpURI.build(
                t[Math.floorMod(next.getAndIncrement(), t.length)] + request.getHttpURI().getPathQuery()));
    }

    /** Jetty's AsyncProxyServlet with the target rotated round robin per request. */
    static final class RoundRobinAsyncProxy extends AsyncProxyServlet {
        private static final long serialVersionUID = 1L;
        private final String[] targets;
        private final AtomicInteger next = new AtomicInteger();

        RoundRobinAsyncProxy(String[] targets) {
            this.targets = targets.clone();
        }

        @Override
        protected String rewriteTarget(HttpServletRequest request) {
            String base = targets[Math.floorMod(next.getAndIncrement(), targets.length)];
            String query = request.getQueryString();
            return base + request.getRequestURI() + (query == null ? "" : "?" + query);
        }
    }
}
