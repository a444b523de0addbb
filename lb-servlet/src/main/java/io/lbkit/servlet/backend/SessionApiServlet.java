package io.lbkit.servlet.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.core.limit.IpAddresses;
import io.lbkit.session.AttributeCodec;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionLimitException;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import io.lbkit.session.VersionConflictException;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
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
 * A body must say it is JSON ({@code Content-Type: application/json}; a PUT may also send
 * {@code application/merge-patch+json}): any other type, or none, is 415, so a cross-site form
 * cannot create or change a session. Every attribute goes through
 * {@link AttributeCodec#encode(String, Object)}: what would not read back unchanged is 400.
 * Without {@code session_id} the session cookie (name {@link Builder#cookieName}) is used. Every
 * response body is {@code application/json; charset=utf-8} with {@code Cache-Control: no-store};
 * errors are {@code {"error":"…"}}. The full status table and the access rules are in
 * {@code docs/backend.md}. Mount it at an exact path, e.g. {@code /session}.
 */
public final class SessionApiServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger log = LoggerFactory.getLogger(SessionApiServlet.class);
    static final String MERGE_PATCH = "application/merge-patch+json";
    static final String JSON = "application/json";
    private static final int BODY_MARGIN = 1024;
    private static final int MAX_MEDIA_TYPE_SHOWN = 100;

    private static final ObjectMapper MAPPER = JsonBody.MAPPER;

    private final transient SessionStore store;
    private final transient CidrRules allowFrom;
    private final byte[] token;
    private final String cookieName;

    private SessionApiServlet(Builder b) {
        this.store = b.store;
        this.allowFrom = b.allowFrom;
        this.token = b.token == null ? null : b.token.getBytes(StandardCharsets.UTF_8);
        this.cookieName = b.cookieName;
    }

    public static Builder builder(SessionStore store) {
        return new Builder(store);
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
        resp.setHeader("Cache-Control", "no-store");
        if (allowFrom != null) {
            byte[] peer = IpAddresses.parsePeer(req.getRemoteAddr());
            if (peer == null || !allowFrom.isAllowed(peer)) {
                error(req, resp, 403, "forbidden");
                return;
            }
        }
        if (token != null) {
            String given = presentedToken(req);
            if (given == null) {
                resp.setHeader("WWW-Authenticate", "Bearer realm=\"lbkit-session-api\"");
                error(req, resp, 401, "missing token");
                return;
            }
            if (!MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
                error(req, resp, 403, "forbidden");
                return;
            }
        }
        try {
            switch (req.getMethod()) {
                case "POST" -> create(req, resp);
                case "GET", "HEAD" -> get(req, resp);
                case "PUT" -> update(req, resp);
                case "DELETE" -> delete(req, resp);
                default -> {
                    resp.setHeader("Allow", "GET, HEAD, POST, PUT, DELETE");
                    error(req, resp, 405, "method not allowed");
                }
            }
        } catch (SessionStoreException e) {
            log.warn("session store unavailable: {}", e.getMessage());
            resp.setHeader("Retry-After", "1");
            error(req, resp, 503, "session store unavailable");
        } catch (SessionLimitException e) {
            error(req, resp, 413, e.getMessage());
        }
    }

    private static String presentedToken(HttpServletRequest req) {
        String auth = req.getHeader("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return auth.substring(7).strip();
        }
        String t = req.getHeader("X-Session-Api-Token");
        return t == null ? null : t.strip();
    }

    private void create(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (query(req, "session_id") != null) {
            error(req, resp, 400, "POST creates a session with a server-chosen id; do not send session_id");
            return;
        }
        String media = mediaType(req);
        if (!media.equals(JSON)) {
            // a form or text/plain body is what a cross-site HTML form can send: never a session
            error(req, resp, 415, "Content-Type must be " + JSON + ", got " + shown(media));
            return;
        }
        ObjectNode body = readObject(req, resp);
        if (body == null || !storable(req, resp, body)) {
            return;
        }
        Map<String, JsonNode> attrs = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : body.properties()) {
            if (!e.getValue().isNull()) {
                attrs.put(e.getKey(), e.getValue());
            }
        }
        Session s = store.create(attrs);
        resp.setHeader("Location", req.getRequestURI() + "?session_id=" + s.id());
        write(resp, 201, s);
    }

    private void get(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String id = id(req, resp);
        if (id == null) {
            return;
        }
        Optional<Session> s = store.load(id);
        if (s.isEmpty()) {
            error(req, resp, 404, "session not found");
            return;
        }
        write(resp, 200, s.get());
    }

    private void update(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String id = id(req, resp);
        if (id == null) {
            return;
        }
        String media = mediaType(req);
        if (!media.equals(MERGE_PATCH) && !media.equals(JSON)) {
            resp.setHeader("Accept-Patch", MERGE_PATCH);
            error(req, resp, 415, "Content-Type must be " + MERGE_PATCH + " or " + JSON + ", got " + shown(media));
            return;
        }
        OptionalLong expected;
        try {
            expected = ifMatch(req.getHeader("If-Match"));
        } catch (IllegalArgumentException e) {
            error(req, resp, 400, e.getMessage());
            return;
        }
        ObjectNode patch = readObject(req, resp);
        if (patch == null || !storable(req, resp, patch)) {
            return;
        }
        SessionChanges c = SessionChanges.fromMergePatch(patch);
        if (expected.isPresent()) {
            c = new SessionChanges(c.changes(), null, expected);
        }
        Optional<Session> s;
        try {
            s = store.save(id, c);
        } catch (VersionConflictException e) {
            resp.setHeader("ETag", etag(e.actual()));
            error(req, resp, 412, "version conflict: the session is at version " + e.actual()
                    + ", If-Match asked for " + e.expected());
            return;
        }
        if (s.isEmpty()) {
            error(req, resp, 404, "session not found");
            return;
        }
        write(resp, 200, s.get());
    }

    private void delete(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String id = id(req, resp);
        if (id == null) {
            return;
        }
        if (store.delete(id)) {
            resp.setStatus(204);
        } else {
            error(req, resp, 404, "session not found");
        }
    }

    /** {@code "5"}, {@code W/"5"} is refused (strong match only), {@code *} means any version. */
    static OptionalLong ifMatch(String h) {
        if (h == null || h.strip().equals("*")) {
            return OptionalLong.empty();
        }
        String v = h.strip();
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        if (v.isEmpty() || v.length() > 19 || !v.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            throw new IllegalArgumentException("If-Match must be a version ETag such as \"3\"");
        }
        return OptionalLong.of(Long.parseLong(v));
    }

    private static String etag(long version) {
        return "\"" + version + "\"";
    }

    private String id(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String id = query(req, "session_id");
        if (id == null) {
            var fromCookie = CookieSupport.values(req, cookieName, 1);
            if (fromCookie.isEmpty()) {
                error(req, resp, 400, "session_id is required (query parameter or " + cookieName + " cookie)");
                return null;
            }
            id = fromCookie.get(0);
        }
        if (!SessionIds.isWellFormed(id)) {
            error(req, resp, 400, "malformed session_id");
            return null;
        }
        return id;
    }

    /** The body's media type, lower case and without parameters; "" without a Content-Type. */
    private static String mediaType(HttpServletRequest req) {
        String ct = req.getContentType();
        return ct == null ? "" : ct.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    }

    private static String shown(String media) {
        if (media.isEmpty()) {
            return "none";
        }
        return media.length() > MAX_MEDIA_TYPE_SHOWN ? media.substring(0, MAX_MEDIA_TYPE_SHOWN) + "…" : media;
    }

    /**
     * Whether every attribute (name and value) of {@code body} can be stored and read back
     * unchanged ({@link AttributeCodec#encode(String, Object)}); else answers 400 naming the
     * attribute and the problem.
     */
    private static boolean storable(HttpServletRequest req, HttpServletResponse resp, ObjectNode body) throws IOException {
        try {
            for (Map.Entry<String, JsonNode> e : body.properties()) {
                AttributeCodec.defaults().encode(e.getKey(), e.getValue());
            }
            return true;
        } catch (IllegalArgumentException e) {
            error(req, resp, 400, e.getMessage());
            return false;
        }
    }

    /** A query parameter, parsed from the query string only (never from a form body). */
    static String query(HttpServletRequest req, String name) {
        String q = req.getQueryString();
        if (q == null) {
            return null;
        }
        for (String part : q.split("&")) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            try {
                if (URLDecoder.decode(k, StandardCharsets.UTF_8).equals(name)) {
                    return eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
                }
            } catch (IllegalArgumentException e) {
                return "\u0000bad";
            }
        }
        return null;
    }

    /** Reads a JSON object body of at most maxSessionBytes + a margin; answers 400/413 itself. */
    private ObjectNode readObject(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        long limit = (long) store.settings().maxSessionBytes() + BODY_MARGIN;
        long declared = req.getContentLengthLong();
        if (declared > limit) {
            error(req, resp, 413, "request body of " + declared + " bytes is over the limit of " + limit);
            return null;
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream((int) Math.min(Math.max(declared, 256), limit));
        byte[] chunk = new byte[8192];
        try (InputStream in = req.getInputStream()) {
            int n;
            while ((n = in.read(chunk)) > 0) {
                if (buf.size() + n > limit) {
                    error(req, resp, 413, "request body is over the limit of " + limit + " bytes");
                    return null;
                }
                buf.write(chunk, 0, n);
            }
        }
        try {
            return JsonBody.object(buf.toByteArray());
        } catch (JsonBody.MalformedException e) {
            error(req, resp, 400, e.getMessage());
            return null;
        }
    }

    private void write(HttpServletResponse resp, int status, Session s) throws IOException {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("session_id", s.id());
        ObjectNode data = o.putObject("data");
        s.attributes().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> data.set(e.getKey(), e.getValue()));
        o.put("version", s.version());
        o.put("created_at", s.creationTime().toString());
        o.put("last_accessed_at", s.lastAccessedTime().toString());
        o.put("expires_at", expiresAt(s).toString());
        o.put("max_inactive_interval", s.maxInactiveInterval().getSeconds());
        resp.setHeader("ETag", etag(s.version()));
        send(resp, status, o);
    }

    private Instant expiresAt(Session s) {
        Instant idle = s.lastAccessedTime().plus(s.maxInactiveInterval());
        var abs = store.settings().absoluteTimeout();
        if (abs == null) {
            return idle;
        }
        Instant hard = s.creationTime().plus(abs);
        return hard.isBefore(idle) ? hard : idle;
    }

    private static void error(HttpServletRequest req, HttpServletResponse resp, int status, String message)
            throws IOException {
        if (bodyLeftUnread(req)) {
            // The refused body is still on the wire (or arriving): the container may drop the
            // connection after the answer instead of reading it, so say so and a client does not
            // send its next request into a closed socket.
            resp.setHeader("Connection", "close");
        }
        ObjectNode o = MAPPER.createObjectNode();
        o.put("error", message);
        send(resp, status, o);
    }

    private static boolean bodyLeftUnread(HttpServletRequest req) throws IOException {
        if (req.getContentLengthLong() <= 0 && req.getHeader("Transfer-Encoding") == null) {
            return false;
        }
        return !req.getInputStream().isFinished();
    }

    private static void send(HttpServletResponse resp, int status, JsonNode body) throws IOException {
        byte[] bytes = MAPPER.writeValueAsBytes(body);
        resp.setStatus(status);
        resp.setContentType("application/json;charset=utf-8");
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
    }

    /** Configures a {@link SessionApiServlet}. */
    public static final class Builder {
        private final SessionStore store;
        private CidrRules allowFrom;
        private String token;
        private String cookieName = SessionFilter.DEFAULT_COOKIE_NAME;

        private Builder(SessionStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /**
         * Requires {@code Authorization: Bearer <token>} or {@code X-Session-Api-Token: <token>}
         * (compared in constant time). Missing → 401 with {@code WWW-Authenticate}, wrong → 403.
         * Default: no token.
         */
        public Builder token(String token) {
            if (token == null || token.length() < 16) {
                throw new IllegalArgumentException("token must be at least 16 characters, got "
                        + (token == null ? "null" : token.length() + " characters"));
            }
            this.token = token;
            return this;
        }

        /** Only these addresses/CIDRs may call (others → 403). Default: any address. */
        public Builder allowFrom(String... cidrs) {
            CidrRules.Builder b = CidrRules.builder().defaultAllow(false);
            for (String c : cidrs) {
                b.allow(c);
            }
            this.allowFrom = b.build();
            return this;
        }

        /** Only loopback callers (127.0.0.0/8, ::1): what the demo uses. */
        public Builder loopbackOnly() {
            return allowFrom("127.0.0.0/8", "::1");
        }

        /** Cookie read when a request has no {@code session_id}; default {@value SessionFilter#DEFAULT_COOKIE_NAME}. */
        public Builder cookieName(String cookieName) {
            if (cookieName == null || cookieName.isEmpty() || !CookieSupport.isToken(cookieName)) {
                throw new IllegalArgumentException("cookieName must be a non-empty RFC 6265 token, got '" + cookieName + "'");
            }
            this.cookieName = cookieName;
            return this;
        }

        public SessionApiServlet build() {
            return new SessionApiServlet(this);
        }
    }
}
