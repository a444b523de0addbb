package io.lbkit.proxy.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.core.internal.Repeats;
import io.lbkit.core.limit.IpAddresses;
import io.lbkit.proxy.SessionApi;
import io.lbkit.session.AttributeCodec;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionLimitException;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import io.lbkit.session.VersionConflictException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session API's rules, written once for every engine (an nginx + Lua + Redis tier's session
 * API: create, read, update, delete a session by id):
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
 * Without {@code session_id} the session cookie ({@link SessionApi#cookieName()}) is used. Every
 * answer carries {@code Cache-Control: no-store}; every body is {@code application/json;
 * charset=utf-8}, errors {@code {"error":"…"}} in lbkit's words. A store failure is 503 with
 * {@code Retry-After: 1}. The status table and the access rules are in {@code docs/backend.md}.
 *
 * <h2>What an engine does</h2>
 * <ol>
 *   <li>For a request whose decoded path is the mount path ({@link #checkMountPath}), ahead of
 *       its routes: {@link #refusal} decides everything the head decides (address, token, method,
 *       content type, id, a declared body over {@link #maxBodyBytes()}). A refusal is answered at
 *       once, before the body is read; the engine closes the connection, or says
 *       {@code Connection: close}, when the body is left unread.</li>
 *   <li>Otherwise it reads the body, at most {@link #maxBodyBytes()} bytes (more is answered with
 *       {@link #bodyTooLarge()}), and calls {@link #handle}.</li>
 *   <li>{@link #handle} calls the store through its asynchronous methods and never blocks: the
 *       stage completes on the store's thread (a Redis I/O thread) or at once (the in-memory
 *       store, or a store whose asynchronous methods are the blocking defaults: those run on the
 *       calling thread). The engine writes the {@link LocalAnswer} it completes with, leaving the
 *       body out for {@code HEAD}.</li>
 * </ol>
 *
 * <p>It lives in lb-proxy because it needs what lb-proxy already has and lb-session lacks: the
 * one cookie lookup of the rules ({@link RequestValues#cookie}) and the engines' request view
 * ({@link ClientRequest}); its address rule is lb-core's {@code CidrRules}. Thread-safe.
 */
public final class SessionApiHandler {

    private static final Logger log = LoggerFactory.getLogger(SessionApiHandler.class);
    static final String MERGE_PATCH = "application/merge-patch+json";
    static final String JSON = "application/json";
    static final String CONTENT_TYPE = "application/json;charset=utf-8";
    /** Room for the JSON syntax around attributes of {@code maxSessionBytes}. */
    private static final int BODY_MARGIN = 1024;
    private static final int MAX_MEDIA_TYPE_SHOWN = 100;
    private static final String BAD_QUERY = "\u0000bad";

    private final SessionApi api;
    private final SessionStore store;
    private final byte[] token;
    private final int maxBodyBytes;
    private final Repeats storeDown = new Repeats(Duration.ofSeconds(10));

    /** The handler of {@code api}'s settings. */
    public SessionApiHandler(SessionApi api) {
        this.api = Objects.requireNonNull(api, "api");
        this.store = api.store();
        this.token = api.token() == null ? null : api.token().getBytes(StandardCharsets.UTF_8);
        this.maxBodyBytes = (int) Math.min(Integer.MAX_VALUE, (long) store.settings().maxSessionBytes() + BODY_MARGIN);
    }

    /** The settings this handler applies. */
    public SessionApi api() {
        return api;
    }

    /** The largest request body read: the store's {@code maxSessionBytes} plus 1 KiB of JSON syntax. */
    public int maxBodyBytes() {
        return maxBodyBytes;
    }

    /**
     * Checks a mount path: absolute, without query, fragment or wildcard. An engine serves the API
     * at exactly this path (a servlet's exact mapping); every other path goes to its routes.
     *
     * @return {@code path}
     * @throws IllegalArgumentException naming the problem
     */
    public static String checkMountPath(String path) {
        if (path == null || !path.startsWith("/") || path.indexOf('?') >= 0 || path.indexOf('#') >= 0
                || path.indexOf('*') >= 0 || path.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
            throw new IllegalArgumentException("the session API's path must be an absolute path such as /session"
                    + " (no query, fragment, wildcard or space), got '" + path + "'");
        }
        return path;
    }

    /**
     * What the head of {@code req} alone decides: a refusal to answer before the body is read, or
     * null when the body may be read and {@link #handle} called.
     *
     * @param mountPath the path the API is mounted at, as clients address it
     */
    public LocalAnswer refusal(ClientRequest req, String mountPath) {
        if (api.allowFrom() != null) {
            byte[] peer = IpAddresses.parsePeer(req.remoteAddress());
            if (peer == null || !api.allowFrom().isAllowed(peer)) {
                return error(403, "forbidden", null, null);
            }
        }
        if (token != null) {
            String given = presentedToken(req);
            if (given == null) {
                return error(401, "missing token", "WWW-Authenticate", "Bearer realm=\"lbkit-session-api\"");
            }
            if (!MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
                return error(403, "forbidden", null, null);
            }
        }
        return switch (req.method()) {
            case "POST" -> createRefusal(req);
            case "GET", "HEAD", "DELETE" -> idRefusal(req);
            case "PUT" -> updateRefusal(req);
            default -> error(405, "method not allowed", "Allow", "GET, HEAD, POST, PUT, DELETE");
        };
    }

    /** The answer to a body that grew past {@link #maxBodyBytes()} while it was read. */
    public LocalAnswer bodyTooLarge() {
        return error(413, "request body is over the limit of " + maxBodyBytes + " bytes", null, null);
    }

    /**
     * Answers {@code req}, whose whole body is {@code body}, through the store's asynchronous
     * methods. The stage never fails: a store failure is a 503, an unexpected error a 500.
     *
     * @param mountPath where the API is mounted (the {@code Location} of a created session is below it)
     */
    public CompletionStage<LocalAnswer> handle(ClientRequest req, String mountPath, byte[] body) {
        LocalAnswer no = refusal(req, mountPath);
        if (no != null) {
            return CompletableFuture.completedFuture(no);
        }
        CompletionStage<LocalAnswer> answer;
        try {
            answer = switch (req.method()) {
                case "POST" -> create(mountPath, body);
                case "PUT" -> update(req, body);
                case "DELETE" -> store.deleteAsync(id(req)).thenApply(existed -> existed
                        ? new LocalAnswer(204, Map.of("Cache-Control", "no-store"), null)
                        : notFound());
                default -> store.loadAsync(id(req)).thenApply(s -> s.map(x -> session(200, x, null))
                        .orElseGet(SessionApiHandler::notFound));
            };
        } catch (RuntimeException e) { // a store that throws instead of failing its stage
            return CompletableFuture.completedFuture(failure(e));
        }
        return answer.exceptionally(this::failure);
    }

    // ------------------------------------------------------------------ before the body

    private LocalAnswer createRefusal(ClientRequest req) {
        if (query(req, "session_id") != null) {
            return error(400, "POST creates a session with a server-chosen id; do not send session_id", null, null);
        }
        String media = mediaType(req);
        if (!media.equals(JSON)) {
            // a form or text/plain body is what a cross-site HTML form can send: never a session
            return error(415, "Content-Type must be " + JSON + ", got " + shown(media), null, null);
        }
        return declaredTooLarge(req);
    }

    private LocalAnswer updateRefusal(ClientRequest req) {
        LocalAnswer no = idRefusal(req);
        if (no != null) {
            return no;
        }
        String media = mediaType(req);
        if (!media.equals(MERGE_PATCH) && !media.equals(JSON)) {
            return error(415, "Content-Type must be " + MERGE_PATCH + " or " + JSON + ", got " + shown(media),
                    "Accept-Patch", MERGE_PATCH);
        }
        try {
            ifMatch(req.header("If-Match"));
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage(), null, null);
        }
        return declaredTooLarge(req);
    }

    private LocalAnswer idRefusal(ClientRequest req) {
        String id = id(req);
        if (id == null) {
            return error(400, "session_id is required (query parameter or " + api.cookieName() + " cookie)", null, null);
        }
        if (!SessionIds.isWellFormed(id)) {
            return error(400, "malformed session_id", null, null);
        }
        return null;
    }

    private LocalAnswer declaredTooLarge(ClientRequest req) {
        long declared = declaredLength(req);
        if (declared > maxBodyBytes) {
            return error(413, "request body of " + declared + " bytes is over the limit of " + maxBodyBytes, null, null);
        }
        return null;
    }

    /** The Content-Length, or -1 when there is none or it is no number. */
    static long declaredLength(ClientRequest req) {
        String v = req.header("Content-Length");
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String presentedToken(ClientRequest req) {
        String auth = req.header("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return auth.substring(7).strip();
        }
        String t = req.header("X-Session-Api-Token");
        return t == null ? null : t.strip();
    }

    /** The id named by the query, else by the session cookie; null when neither names one. */
    private String id(ClientRequest req) {
        String id = query(req, "session_id");
        return id != null ? id : RequestValues.cookie(req, api.cookieName());
    }

    /** The body's media type, lower case and without parameters; "" without a Content-Type. */
    private static String mediaType(ClientRequest req) {
        String ct = req.contentType();
        return ct == null ? "" : ct.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    }

    private static String shown(String media) {
        if (media.isEmpty()) {
            return "none";
        }
        return media.length() > MAX_MEDIA_TYPE_SHOWN ? media.substring(0, MAX_MEDIA_TYPE_SHOWN) + "…" : media;
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

    /** A query parameter, parsed from the query string only (never from a form body). */
    static String query(ClientRequest req, String name) {
        String q = req.query();
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
                return BAD_QUERY;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ with the body

    private CompletionStage<LocalAnswer> create(String mountPath, byte[] body) {
        Object read = object(body);
        if (read instanceof LocalAnswer no) {
            return CompletableFuture.completedFuture(no);
        }
        Map<String, JsonNode> attrs = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : ((ObjectNode) read).properties()) {
            if (!e.getValue().isNull()) {
                attrs.put(e.getKey(), e.getValue());
            }
        }
        return store.createAsync(attrs).thenApply(s -> session(201, s, mountPath + "?session_id=" + s.id()));
    }

    private CompletionStage<LocalAnswer> update(ClientRequest req, byte[] body) {
        Object read = object(body);
        if (read instanceof LocalAnswer no) {
            return CompletableFuture.completedFuture(no);
        }
        SessionChanges c = SessionChanges.fromMergePatch((ObjectNode) read);
        OptionalLong expected = ifMatch(req.header("If-Match"));
        if (expected.isPresent()) {
            c = new SessionChanges(c.changes(), null, expected);
        }
        return store.saveAsync(id(req), c).thenApply(s -> s.map(x -> session(200, x, null))
                .orElseGet(SessionApiHandler::notFound));
    }

    /** The body as a JSON object whose every attribute can be stored, or the 400 that says why not. */
    private static Object object(byte[] body) {
        ObjectNode o;
        try {
            o = JsonBody.object(body);
        } catch (JsonBody.MalformedException e) {
            return error(400, e.getMessage(), null, null);
        }
        try {
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                AttributeCodec.defaults().encode(e.getKey(), e.getValue());
            }
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage(), null, null);
        }
        return o;
    }

    private LocalAnswer failure(Throwable t) {
        Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (e instanceof SessionStoreException) {
            long skipped = storeDown.admit();
            if (skipped >= 0) {
                log.warn("session API: the session store is unavailable: 503 ({}){}", e.getMessage(), Repeats.note(skipped));
            }
            return error(503, "session store unavailable", "Retry-After", "1");
        }
        if (e instanceof SessionLimitException) {
            return error(413, e.getMessage(), null, null);
        }
        if (e instanceof VersionConflictException v) {
            return error(412, "version conflict: the session is at version " + v.actual()
                    + ", If-Match asked for " + v.expected(), "ETag", etag(v.actual()));
        }
        log.error("session API: unexpected failure", e);
        return error(500, "internal error", null, null);
    }

    // ------------------------------------------------------------------ answers

    private LocalAnswer session(int status, Session s, String location) {
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("session_id", s.id());
        ObjectNode data = o.putObject("data");
        s.attributes().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> data.set(e.getKey(), e.getValue()));
        o.put("version", s.version());
        o.put("created_at", s.creationTime().toString());
        o.put("last_accessed_at", s.lastAccessedTime().toString());
        o.put("expires_at", expiresAt(s).toString());
        o.put("max_inactive_interval", s.maxInactiveInterval().getSeconds());
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Cache-Control", "no-store");
        if (location != null) {
            h.put("Location", location);
        }
        h.put("ETag", etag(s.version()));
        return json(status, h, o);
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

    private static LocalAnswer notFound() {
        return error(404, "session not found", null, null);
    }

    private static String etag(long version) {
        return "\"" + version + "\"";
    }

    /** {@code {"error": message}}, with one more header when {@code name} is not null. */
    private static LocalAnswer error(int status, String message, String name, String value) {
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("error", message);
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Cache-Control", "no-store");
        if (name != null) {
            h.put(name, value);
        }
        return json(status, h, o);
    }

    private static LocalAnswer json(int status, Map<String, String> headers, JsonNode body) {
        headers.put("Content-Type", CONTENT_TYPE);
        try {
            return new LocalAnswer(status, headers, JsonBody.MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException e) { // a tree of plain nodes always writes
            throw new IllegalStateException(e);
        }
    }
}
