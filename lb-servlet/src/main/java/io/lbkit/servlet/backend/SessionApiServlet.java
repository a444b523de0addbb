package io.lbkit.servlet.backend;

import io.lbkit.proxy.SessionApi;
import io.lbkit.proxy.engine.ClientRequest;
import io.lbkit.proxy.engine.LocalAnswer;
import io.lbkit.proxy.engine.SessionApiHandler;
import io.lbkit.servlet.proxy.ServletClientRequest;
import io.lbkit.session.SessionStore;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session API of an nginx + Lua + Redis tier (create, read, update, delete a session by id), over any {@link SessionStore}:
 *
 * <pre>
 * POST   /session                   {"k":"v"}  → 201 {"session_id":"…","data":{…},…}
 * GET    /session?session_id=ID                → 200 same shape | 404
 * PUT    /session?session_id=ID     merge patch (RFC 7386) → 200 new data | 404
 * DELETE /session?session_id=ID                → 204 | 404
 * </pre>
 *
 * The rules are lb-proxy's {@link SessionApiHandler}, which the event-loop engine serves too; this
 * servlet only moves bytes: it reads the body (at most {@link SessionApiHandler#maxBodyBytes()}),
 * and when the store's answer is not ready at once (a Redis store), it goes asynchronous
 * ({@code startAsync}) and writes the answer on a container thread once the store's stage
 * completes, so no container thread waits on the store. Register it with {@code asyncSupported} for that; without, the thread waits.
 * The full status table and the access rules are in {@code docs/backend.md}. Mount it at an exact
 * path, e.g. {@code /session}.
 */
public final class SessionApiServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger log = LoggerFactory.getLogger(SessionApiServlet.class);
    private static final int CHUNK = 8192;

    private final transient SessionApiHandler handler;

    private SessionApiServlet(SessionApi api) {
        this.handler = new SessionApiHandler(api);
    }

    public static Builder builder(SessionStore store) {
        return new Builder(store);
    }

    /** A servlet that serves {@code api}. */
    public static SessionApiServlet of(SessionApi api) {
        return new SessionApiServlet(Objects.requireNonNull(api, "api"));
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
        ClientRequest view = new ServletClientRequest(req);
        String mount = req.getContextPath() + req.getServletPath();
        LocalAnswer refusal = handler.refusal(view, mount);
        if (refusal != null) {
            write(resp, refusal, bodyLeftUnread(req));
            return;
        }
        byte[] body = readBody(req);
        if (body == null) {
            write(resp, handler.bodyTooLarge(), bodyLeftUnread(req));
            return;
        }
        CompletableFuture<LocalAnswer> answer = handler.handle(view, mount, body).toCompletableFuture();
        if (answer.isDone() || !req.isAsyncSupported()) {
            write(resp, answer.join(), false);
            return;
        }
        AsyncContext async = req.startAsync();
        // the stage completes on the store's thread (a Redis I/O thread): write on a container thread
        answer.whenComplete((a, failure) -> async.start(() -> {
            try {
                HttpServletResponse r = (HttpServletResponse) async.getResponse();
                if (a != null) {
                    write(r, a, false);
                } else {
                    log.error("session API: no answer", failure);
                    r.setStatus(500);
                }
            } catch (IOException | RuntimeException e) {
                log.debug("session API: the answer could not be written: {}", e.toString());
            } finally {
                async.complete();
            }
        }));
    }

    /** The whole body, or null when it is longer than the handler reads. */
    private byte[] readBody(HttpServletRequest req) throws IOException {
        int limit = handler.maxBodyBytes();
        long declared = req.getContentLengthLong();
        ByteArrayOutputStream buf = new ByteArrayOutputStream((int) Math.min(Math.max(declared, 256), limit));
        byte[] chunk = new byte[CHUNK];
        try (InputStream in = req.getInputStream()) {
            int n;
            while ((n = in.read(chunk)) > 0) {
                if (buf.size() + n > limit) {
                    return null;
                }
                buf.write(chunk, 0, n);
            }
        }
        return buf.toByteArray();
    }

    private static void write(HttpServletResponse resp, LocalAnswer a, boolean close) throws IOException {
        if (close) {
            // The refused body is still on the wire (or arriving): the container may drop the
            // connection after the answer instead of reading it, so say so and a client does not
            // send its next request into a closed socket.
            resp.setHeader("Connection", "close");
        }
        resp.setStatus(a.status());
        for (Map.Entry<String, String> h : a.headers().entrySet()) {
            if (h.getKey().equals("Content-Type")) {
                resp.setContentType(h.getValue());
            } else {
                resp.setHeader(h.getKey(), h.getValue());
            }
        }
        if (a.body().length > 0) {
            resp.setContentLength(a.body().length);
            resp.getOutputStream().write(a.body());
        }
    }

    private static boolean bodyLeftUnread(HttpServletRequest req) throws IOException {
        if (req.getContentLengthLong() <= 0 && req.getHeader("Transfer-Encoding") == null) {
            return false;
        }
        return !req.getInputStream().isFinished();
    }

    /** Configures a {@link SessionApiServlet}: the settings of {@link SessionApi.Builder}. */
    public static final class Builder {
        private final SessionApi.Builder api;

        private Builder(SessionStore store) {
            this.api = SessionApi.builder(store);
        }

        /** @see SessionApi.Builder#token */
        public Builder token(String token) {
            api.token(token);
            return this;
        }

        /** @see SessionApi.Builder#allowFrom */
        public Builder allowFrom(String... cidrs) {
            api.allowFrom(cidrs);
            return this;
        }

        /** Only loopback callers (127.0.0.0/8, ::1): what the demo uses. */
        public Builder loopbackOnly() {
            api.loopbackOnly();
            return this;
        }

        /** Cookie read when a request has no {@code session_id}; default {@value SessionFilter#DEFAULT_COOKIE_NAME}. */
        public Builder cookieName(String cookieName) {
            api.cookieName(cookieName);
            return this;
        }

        public SessionApiServlet build() {
            return new SessionApiServlet(api.build());
        }
    }
}
