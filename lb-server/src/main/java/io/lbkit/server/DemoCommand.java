package io.lbkit.server;

import io.lbkit.config.ConfigLoader;
import io.lbkit.config.ServeConfig;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionStore;
import java.io.PrintStream;
import java.net.BindException;
import java.net.URI;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code demo [--port 8080]}: three session-aware backends and the proxy tier in front of them in
 * one JVM on the in-memory store, with curl lines that show what lbkit does.
 */
final class DemoCommand {

    static final String USAGE = "usage: java -jar lb-server.jar demo [--port 8080] [--host 127.0.0.1]";

    private DemoCommand() {
    }

    /** The demo's configuration: what a user would write in a serve file. */
    static String config(String host, int port, List<Integer> backends, String stickyKey) {
        return """
                listen: ["%s:%d"]
                upstreams:
                  demo:
                    endpoints:
                      - { address: "127.0.0.1:%d", id: backend-1 }
                      - { address: "127.0.0.1:%d", id: backend-2 }
                      - { address: "127.0.0.1:%d", id: backend-3 }
                    healthCheck: { path: /health, interval: 2s, rise: 2, fall: 3, startHealthy: true }
                    # 3 errors in a row eject; with three endpoints Envoy's 10%% alone would never eject one
                    outlierDetection: { consecutive5xx: 3, alwaysEjectOneHost: true }
                routes:
                  - name: sticky-cart
                    match: { pathPrefix: /cart }
                    upstream: demo
                    sticky: { cookie: srv_id, maxAge: 300s, key: "%s" }
                  - name: default
                    upstream: demo
                sessions:
                  store: memory
                  api: { allow: [127.0.0.0/8, "::1"] }
                """.formatted(host, port, backends.get(0), backends.get(1), backends.get(2), stickyKey);
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws UsageException {
        Args a = Args.parse(args, 1, USAGE, Set.of("--port", "--host"), Set.of(), Set.of());
        int port = a.has("--port") ? Args.parseInt(USAGE, "--port", a.get("--port"), 0) : 8080;
        if (port > 65535) {
            throw new UsageException(USAGE, "bad value for --port: must be <= 65535, got " + port);
        }
        String host = a.has("--host") ? a.get("--host") : "127.0.0.1";
        Demo demo;
        try {
            demo = Demo.start(host, port);
        } catch (Exception e) {
            if (bindFailure(e)) {
                out.flush();
                err.println("error: port " + port + " on " + host + " is already in use: stop what uses it, or start the "
                        + "demo on another port with --port N (--port 0 takes any free one)");
                err.flush();
                return 1;
            }
            throw new IllegalStateException("cannot start the demo: " + e.getMessage(), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            demo.close();
            stopped.countDown();
        }, "lbkit-demo-shutdown"));
        printGuide(out, demo.proxy().uris().get(0), demo.backends().ports());
        out.flush();
        try {
            demo.proxy().join();
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Whether the listener could not bind (Jetty wraps the {@link BindException} in an IOException). */
    private static boolean bindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return true;
            }
        }
        return false;
    }

    static void printGuide(PrintStream out, URI proxy, List<Integer> backends) {
        String base = proxy.toString().replaceAll("/$", "");
        out.println("lbkit demo: a proxy tier on " + base + " in front of three session-aware backends on 127.0.0.1:"
                + backends.get(0) + ", :" + backends.get(1) + ", :" + backends.get(2) + " (in-memory session store).");
        out.println();
        out.println("In a browser, " + base + "/ shows which backend answered, the visit count of your session and");
        out.println("the live event stream; curl gets JSON from the same URL.");
        out.println();
        out.println("Round robin (X-Served-By names the backend):");
        out.println("  for i in 1 2 3; do curl -s -D - -o /dev/null " + base + "/ | grep -i x-served-by; done");
        out.println("Sessions shared by every backend (the visit count keeps growing whoever serves):");
        out.println("  curl -s -c jar -b jar " + base + "/ ; curl -s -c jar -b jar " + base + "/");
        out.println("The proxy forwards the session (X-Session-Data, seed 000) and the client's address and scheme");
        out.println("(X-Forwarded-For, X-Forwarded-Proto; a client's own forwarding headers are never believed):");
        out.println("  curl -s -c jar -b jar " + base + "/headers");
        out.println("Sticky sessions on /cart (cookie srv_id pins the backend):");
        out.println("  curl -s -c sjar -b sjar " + base + "/cart ; curl -s -c sjar -b sjar " + base + "/cart");
        out.println("Server-sent events streamed through the proxy (one a second, five per connection; a reconnect");
        out.println("with Last-Event-ID: N continues at N+1, whichever backend answers):");
        out.println("  curl -N " + base + "/events ; curl -N -H 'Last-Event-ID: 5' " + base + "/events");
        out.println("Outlier detection: POST /fail makes the backend that gets it answer 500 for 60 s; three 500s in a");
        out.println("row eject it (Envoy's alwaysEjectOneHost lets one of three go), the others serve:");
        out.println("  curl -s -X POST " + base + "/fail ; for i in $(seq 9); do curl -s " + base + "/ ; done");
        out.println("The session API (open to loopback clients):");
        out.println("  curl -s -X POST " + base + "/session -H 'Content-Type: application/json' -d '{\"username\":\"test\"}'");
        out.println("  curl -s '" + base + "/session?session_id=<id from the POST>'");
        out.println();
        out.println("Ctrl-C stops everything.");
    }

    /** The running demo; also used by tests. */
    record Demo(DemoBackends backends, ProxyServer proxy, SessionStore store) implements AutoCloseable {
        static Demo start(String host, int port) throws Exception {
            SessionStore store = InMemorySessionStore.builder().build();
            DemoBackends backends = new DemoBackends(3, store);
            try {
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                ServeConfig config = ConfigLoader.parse("demo", config(host, port, backends.ports(),
                        Base64.getUrlEncoder().withoutPadding().encodeToString(key)));
                return new Demo(backends, ProxyServer.start(config, store), store);
            } catch (Exception | Error e) {
                backends.close();
                store.close();
                throw e;
            }
        }

        @Override
        public void close() {
            proxy.close();
            backends.close();
            store.close();
        }
    }
}
