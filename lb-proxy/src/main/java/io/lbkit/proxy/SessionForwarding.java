package io.lbkit.proxy;

import io.lbkit.proxy.engine.Headers;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionStore;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Session forwarding in the proxy tier (what an nginx + Lua + Redis tier does with {@code access_by_lua}): the
 * proxy resolves the client's session cookie against a {@link SessionStore}, sends the session
 * to the backend in request headers, and applies the JSON merge patch the backend answers with.
 * Install it with {@link ProxyConfig.Builder#sessionForwarding(SessionForwarding)}.
 *
 * <pre>{@code
 * SessionStore store = InMemorySessionStore.builder().build();
 * ProxyFilter proxy = new ProxyFilter(ProxyConfig.builder()
 *         .route(Route.builder("app", upstream).build())
 *         .sessionForwarding(SessionForwarding.builder(store).build())
 *         .build());
 * }</pre>
 *
 * <h2>Per proxied request</h2>
 * <ol>
 *   <li>The session cookie ({@link Builder#cookieName}, default {@code LBSESSION}) is read; only
 *       a well-formed id ({@link io.lbkit.session.SessionIds#isWellFormed}) is looked up, and an
 *       unknown or expired id means "no session": a client-chosen id is never adopted.</li>
 *   <li>With a session, the backend gets {@code X-Session-ID: <id>} and
 *       {@code X-Session-Data: <the attributes as one JSON object>}, ASCII only (every character
 *       outside 0x20..0x7E written as <code>&#92;uXXXX</code>, so no CR/LF and no raw UTF-8 in a header).
 *       When that JSON is longer than {@link Builder#maxDataBytes} (default 8 KiB), no
 *       {@code X-Session-Data} is sent; instead {@code X-Session-Data-Truncated: true} (the data
 *       header's name plus {@code -Truncated}) tells the backend that the session exists but its
 *       data did not fit. The request still goes through (a 431 would lock the user out for the
 *       session's lifetime); the backend can still update the session with a merge patch.</li>
 *   <li>Every inbound header of the {@code X-Session-*} / {@code X-New-Session-*} family (any
 *       case, {@code _} for {@code -}) is removed by the proxy before this runs, and so are
 *       inbound headers named like the configured names when these are outside that family.</li>
 *   <li>Store failure while loading ({@link io.lbkit.session.SessionStoreException}): the client
 *       gets 503 with {@code Retry-After: 1} and no backend is contacted (a backend would act on
 *       the request without its session). A request without a session cookie makes no store call
 *       and is proxied as usual while the store is down.</li>
 * </ol>
 *
 * <h2>Per response</h2>
 * A backend response header {@code X-New-Session-Data} ({@link Builder#newDataHeader}) carries an
 * RFC 7386 JSON merge patch of the attribute object. It never reaches the client. Whatever the
 * response status:
 * <ul>
 *   <li>request had a session: the patch is saved atomically at attribute level
 *       ({@link SessionStore#saveAsync}): a {@code null} member removes an attribute, an object
 *       member is merged into the stored object, anything else replaces it. Concurrent requests
 *       of one session touching different attributes all persist.</li>
 *   <li>no session: a session is created from the patch applied to {@code {}} (null members
 *       dropped at every depth) and the client response gets its cookie: {@code HttpOnly},
 *       {@code SameSite=Lax}, {@code Path=/}, no {@code Domain}, no {@code Max-Age} (a browser
 *       session cookie), {@code Secure} when the client's request was HTTPS
 *       ({@code request.isSecure()} or {@code X-Forwarded-Proto: https} from one of
 *       {@link ProxyConfig#trustedProxies()}). A patch that leaves nothing (such as {@code {}})
 *       creates no session.</li>
 *   <li>a patch that is not valid JSON, not an object, longer than {@link Builder#maxPatchBytes},
 *       sent more than once, or over the store's limits is logged (never with data or the id;
 *       the id as {@link io.lbkit.session.SessionIds#logHash}) and ignored: the session is
 *       unchanged and the backend's response goes to the client as it is (what the nginx + Lua
 *       setup does; the backend has already acted, so a 502 would only hide its answer).</li>
 *   <li>store failure while saving: logged, the response is kept.</li>
 * </ul>
 * The store write completes before the response headers are sent to the client, so the client's
 * next request sees it. Store calls use the store's asynchronous methods
 * ({@link SessionStore#loadAsync}, {@link SessionStore#saveAsync}, {@link SessionStore#createAsync});
 * for a store whose asynchronous methods are the blocking defaults, give an {@link Builder#executor}
 * so no container or proxy I/O thread waits on the store.
 *
 * <p>Both engines apply it the same way (the rule is {@link io.lbkit.proxy.engine.SessionForwarder}):
 * the servlet filter, and the event-loop engine, where a store call never blocks an event loop and
 * its completion goes on on the exchange's own loop.
 *
 * <p>Immutable and thread-safe; one instance can serve several filters.
 */
public final class SessionForwarding {

    /** Default of {@link Builder#maxDataBytes} and {@link Builder#maxPatchBytes}: 8 KiB. */
    public static final int DEFAULT_MAX_HEADER_BYTES = 8 * 1024;
    /** Default {@link Builder#idHeader}. */
    public static final String DEFAULT_ID_HEADER = "X-Session-ID";
    /** Default {@link Builder#dataHeader}. */
    public static final String DEFAULT_DATA_HEADER = "X-Session-Data";
    /** Default {@link Builder#newDataHeader}. */
    public static final String DEFAULT_NEW_DATA_HEADER = "X-New-Session-Data";

    private final SessionStore store;
    private final String cookieName;
    private final String cookiePath;
    private final SessionCookies.SameSite sameSite;
    private final SessionCookies.SecureCookie secure;
    private final String idHeader;
    private final String dataHeader;
    private final String newDataHeader;
    private final int maxDataBytes;
    private final int maxPatchBytes;
    private final Executor executor;

    private SessionForwarding(Builder b) {
        this.store = b.store;
        this.cookieName = b.cookieName;
        this.cookiePath = b.cookiePath;
        this.sameSite = b.sameSite;
        this.secure = b.secure;
        this.idHeader = b.idHeader;
        this.dataHeader = b.dataHeader;
        this.newDataHeader = b.newDataHeader;
        this.maxDataBytes = b.maxDataBytes;
        this.maxPatchBytes = b.maxPatchBytes;
        this.executor = b.executor;
    }

    /** A builder over {@code store}; every other setting has a default. */
    public static Builder builder(SessionStore store) {
        return new Builder(store);
    }

    public SessionStore store() { return store; }
    public String cookieName() { return cookieName; }
    public String cookiePath() { return cookiePath; }
    public SessionCookies.SameSite sameSite() { return sameSite; }
    public SessionCookies.SecureCookie secure() { return secure; }
    public String idHeader() { return idHeader; }
    public String dataHeader() { return dataHeader; }
    /** The header that tells the backend the data did not fit: {@code dataHeader + "-Truncated"}. */
    public String truncatedHeader() { return dataHeader + "-Truncated"; }
    public String newDataHeader() { return newDataHeader; }
    public int maxDataBytes() { return maxDataBytes; }
    public int maxPatchBytes() { return maxPatchBytes; }
    /** The executor the blocking store calls run on, or null to use the store's async methods. */
    public Executor executor() { return executor; }

    /** Builder for {@link SessionForwarding}; validated in {@link #build()}. */
    public static final class Builder {
        private final SessionStore store;
        private String cookieName = SessionCookies.DEFAULT_NAME;
        private String cookiePath = "/";
        private SessionCookies.SameSite sameSite = SessionCookies.SameSite.LAX;
        private SessionCookies.SecureCookie secure = SessionCookies.SecureCookie.AUTO;
        private String idHeader = DEFAULT_ID_HEADER;
        private String dataHeader = DEFAULT_DATA_HEADER;
        private String newDataHeader = DEFAULT_NEW_DATA_HEADER;
        private int maxDataBytes = DEFAULT_MAX_HEADER_BYTES;
        private int maxPatchBytes = DEFAULT_MAX_HEADER_BYTES;
        private Executor executor;

        private Builder(SessionStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /** The session cookie (default {@code LBSESSION}, the same as the backend session filter's). */
        public Builder cookieName(String name) { this.cookieName = name; return this; }

        /** The cookie's {@code Path} (default {@code /}). */
        public Builder cookiePath(String path) { this.cookiePath = path; return this; }

        /** The cookie's {@code SameSite} (default {@code Lax}; {@code None} implies {@code Secure}). */
        public Builder sameSite(SessionCookies.SameSite sameSite) { this.sameSite = sameSite; return this; }

        /** When the cookie carries {@code Secure} (default {@link SessionCookies.SecureCookie#AUTO}). */
        public Builder secure(SessionCookies.SecureCookie secure) { this.secure = secure; return this; }

        /** The request header carrying the session id (default {@code X-Session-ID}). */
        public Builder idHeader(String name) { this.idHeader = name; return this; }

        /** The request header carrying the attributes as JSON (default {@code X-Session-Data}). */
        public Builder dataHeader(String name) { this.dataHeader = name; return this; }

        /** The response header carrying the merge patch (default {@code X-New-Session-Data}). */
        public Builder newDataHeader(String name) { this.newDataHeader = name; return this; }

        /** The longest {@code X-Session-Data} value in bytes (default 8 KiB, at least 64). */
        public Builder maxDataBytes(int n) { this.maxDataBytes = n; return this; }

        /** The longest accepted {@code X-New-Session-Data} value in bytes (default 8 KiB, at least 64). */
        public Builder maxPatchBytes(int n) { this.maxPatchBytes = n; return this; }

        /**
         * Runs the store's blocking methods on this executor instead of calling its asynchronous
         * ones: for a store whose {@code loadAsync}/{@code saveAsync}/{@code createAsync} are the
         * blocking defaults. Default: none.
         */
        public Builder executor(Executor executor) { this.executor = executor; return this; }

        public SessionForwarding build() {
            if (cookieName == null || cookieName.isEmpty() || !Headers.isToken(cookieName)) {
                throw new IllegalArgumentException("cookieName must be a token, got '" + cookieName + "'");
            }
            if (cookiePath == null || !cookiePath.startsWith("/") || !safeCookieValue(cookiePath)) {
                throw new IllegalArgumentException("cookiePath must start with / and hold no ';', ',', space "
                        + "or control characters, got '" + cookiePath + "'");
            }
            Objects.requireNonNull(sameSite, "sameSite");
            Objects.requireNonNull(secure, "secure");
            headerName("idHeader", idHeader);
            headerName("dataHeader", dataHeader);
            headerName("newDataHeader", newDataHeader);
            if (Headers.sameFieldName(idHeader, dataHeader)) {
                throw new IllegalArgumentException("idHeader and dataHeader must differ, got '" + idHeader
                        + "' and '" + dataHeader + "'");
            }
            if (maxDataBytes < 64) {
                throw new IllegalArgumentException("maxDataBytes must be >= 64, got " + maxDataBytes);
            }
            if (maxPatchBytes < 64) {
                throw new IllegalArgumentException("maxPatchBytes must be >= 64, got " + maxPatchBytes);
            }
            return new SessionForwarding(this);
        }

        private static void headerName(String field, String name) {
            if (name == null || name.isEmpty() || !Headers.isToken(name)) {
                throw new IllegalArgumentException(field + " must be a header name, got '" + name + "'");
            }
        }

        private static boolean safeCookieValue(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',') {
                    return false;
                }
            }
            return true;
        }
    }
}
