package io.lbkit.server;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * The dashboard's static files on the admin listener ({@code GET /dashboard}): plain HTML, CSS
 * and JavaScript from the jar. They hold no data, so they are served without the token (to
 * clients in {@code admin.allow} only); the page asks for the token and reads everything from the
 * API with it ({@code /api/stream}, {@code PATCH /api/upstreams/...}).
 */
final class Dashboard {

    static final String PATH = "/dashboard";

    /** Path on the listener to resource name and content type. */
    private static final Map<String, String[]> FILES = Map.of(
            PATH, new String[] {"index.html", "text/html; charset=utf-8"},
            PATH + "/", new String[] {"index.html", "text/html; charset=utf-8"},
            PATH + "/dashboard.js", new String[] {"dashboard.js", "text/javascript; charset=utf-8"},
            PATH + "/dashboard.css", new String[] {"dashboard.css", "text/css; charset=utf-8"});

    /** Scripts, styles and connections from this listener only; no framing. */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private Dashboard() {
    }

    /** Whether {@code x} asks for one of the dashboard's files with GET (or HEAD). */
    static boolean serves(HttpExchange x) {
        String m = x.getRequestMethod();
        return (m.equals("GET") || m.equals("HEAD")) && FILES.containsKey(x.getRequestURI().getRawPath());
    }

    static void send(HttpExchange x) throws IOException {
        String[] f = FILES.get(x.getRequestURI().getRawPath());
        byte[] body;
        try (InputStream in = Dashboard.class.getResourceAsStream("dashboard/" + f[0])) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks io/lbkit/server/dashboard/" + f[0]);
            }
            body = in.readAllBytes();
        }
        x.getResponseHeaders().set("Content-Type", f[1]);
        x.getResponseHeaders().set("Cache-Control", "no-cache");
        x.getResponseHeaders().set("Content-Security-Policy", CSP);
        x.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        x.getResponseHeaders().set("Referrer-Policy", "no-referrer");
        boolean head = x.getRequestMethod().equals("HEAD");
        x.sendResponseHeaders(200, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
