package io.lbkit.servlet.backend;

import io.lbkit.session.AttributeCodec;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionCookies.SameSite;
import io.lbkit.session.SessionCookies.SecureCookie;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionLimitException;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes {@code request.getSession()} return an {@link jakarta.servlet.http.HttpSession} kept in
 * a {@link SessionStore} (in memory, or Redis shared by every instance), in any Servlet 6
 * container. The Spring Session {@code SessionRepositoryFilter} equivalent.
 *
 * <pre>{@code
 * SessionFilter filter = SessionFilter.builder(store)
 *         .trustedProxies("10.0.0.0/8")          // X-Session-ID and X-Forwarded-Proto from here
 *         .build();
 * ctx.addFilter("sessions", filter).addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
 * }</pre>
 *
 * <p>For {@code web.xml}, declare the class with init-params (all optional): {@code cookie-name},
 * {@code cookie-path}, {@code cookie-domain}, {@code cookie-max-age} (seconds), {@code same-site}
 * ({@code Lax}/{@code Strict}/{@code None}), {@code secure} ({@code auto}/{@code always}/
 * {@code never}), {@code trusted-proxies} (CIDRs separated by commas or spaces),
 * {@code session-id-header} (empty disables it), {@code save-mode}
 * ({@code on-set-attribute}/{@code on-get-attribute}), {@code allow-classes} (class names for the
 * {@link AttributeCodec} allow-list) and {@code store-attribute} (the servlet-context attribute
 * that holds the {@link SessionStore}; default {@value #STORE_ATTRIBUTE}; when it is empty an
 * {@link InMemorySessionStore} with default settings is created and put there).
 *
 * <p>Behaviour, settings and defaults are described in {@code docs/backend.md}.
 */
public final class SessionFilter implements Filter {

    private static final Logger log = LoggerFactory.getLogger(SessionFilter.class);

    /** Default session cookie name: {@value}. */
    public static final String DEFAULT_COOKIE_NAME = SessionCookies.DEFAULT_NAME;
    /** Default header carrying the session id from a trusted proxy: {@value}. */
    public static final String DEFAULT_ID_HEADER = "X-Session-ID";
    /** Servlet-context attribute where web.xml users (and {@link SessionApiServlet}) find the store. */
    public static final String STORE_ATTRIBUTE = "io.lbkit.session.SessionStore";
    /** Request attribute marking a request this filter already handles (forward, include, async). */
    static final String CONTEXT_ATTRIBUTE = SessionFilter.class.getName() + ".CONTEXT";

    /** Which attributes a request writes back (Spring Session's {@code SaveMode}). */
    public enum SaveMode {
        /** Only attributes passed to {@code setAttribute}/{@code removeAttribute}. */
        ON_SET_ATTRIBUTE,
        /**
         * Also attributes read with {@code getAttribute} whose value is a mutable container (a
         * decoded {@code Map} or {@code List}, or an allow-listed object) when their JSON differs at
         * the end of the request, so in-place mutation is saved.
         */
        ON_GET_ATTRIBUTE
    }

    private volatile Config config;
    private boolean ownsStore;

    /** For web.xml: configured from init-params in {@link #init}. */
    public SessionFilter() {
    }

    private SessionFilter(Config config) {
        this.config = config;
    }

    public static Builder builder(SessionStore store) {
        return new Builder(store);
    }

    @Override
    public void init(FilterConfig fc) throws ServletException {
        if (config != null) {
            return;
        }
        try {
            String storeAttr = param(fc, "store-attribute", STORE_ATTRIBUTE);
            Object s = fc.getServletContext().getAttribute(storeAttr);
            SessionStore store;
            if (s instanceof SessionStore ss) {
                store = ss;
            } else if (s == null) {
                store = InMemorySessionStore.builder().build();
                ownsStore = true;
                fc.getServletContext().setAttribute(storeAttr, store);
                log.info("no SessionStore in servlet-context attribute '{}': using a new in-memory store", storeAttr);
            } else {
                throw new ServletException("servlet-context attribute '" + storeAttr + "' is a "
                        + s.getClass().getName() + ", not a SessionStore");
            }
            Builder b = builder(store);
            b.cookieName(param(fc, "cookie-name", DEFAULT_COOKIE_NAME));
            String v = fc.getInitParameter("cookie-path");
            if (v != null) {
                b.cookiePath(v.strip());
            }
            v = fc.getInitParameter("cookie-domain");
            if (v != null) {
                b.cookieDomain(v.strip());
            }
            v = fc.getInitParameter("cookie-max-age");
            if (v != null) {
                b.cookieMaxAgeSeconds(parseInt("cookie-max-age", v));
            }
            v = fc.getInitParameter("same-site");
            if (v != null) {
                b.sameSite(parseEnum(SameSite.class, "same-site", v));
            }
            v = fc.getInitParameter("secure");
            if (v != null) {
                b.secure(parseEnum(SecureCookie.class, "secure", v));
            }
            v = fc.getInitParameter("trusted-proxies");
            if (v != null && !v.isBlank()) {
                b.trustedProxies(v.strip().split("[,\\s]+"));
            }
            v = fc.getInitParameter("session-id-header");
            if (v != null) {
                b.sessionIdHeader(v.isBlank() ? null : v.strip());
            }
            v = fc.getInitParameter("save-mode");
            if (v != null) {
                b.saveMode(parseEnum(SaveMode.class, "save-mode", v));
            }
            v = fc.getInitParameter("allow-classes");
            if (v != null && !v.isBlank()) {
                AttributeCodec.Builder cb = AttributeCodec.builder();
                ClassLoader cl = Thread.currentThread().getContextClassLoader();
                for (String name : v.strip().split("[,\\s]+")) {
                    try {
                        cb.allow(Class.forName(name, false, cl));
                    } catch (ClassNotFoundException e) {
                        throw new IllegalArgumentException("allow-classes: class " + name + " not found", e);
                    }
                }
                b.codec(cb.build());
            }
            config = b.config();
        } catch (IllegalArgumentException e) {
            throw new ServletException("SessionFilter '" + fc.getFilterName() + "': " + e.getMessage(), e);
        }
    }

    private static String param(FilterConfig fc, String name, String def) {
        String v = fc.getInitParameter(name);
        return v == null || v.isBlank() ? def : v.strip();
    }

    private static int parseInt(String name, String v) {
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
        }
    }

    static <E extends Enum<E>> E parseEnum(Class<E> type, String name, String v) {
        String n = v.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return Enum.valueOf(type, n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " must be one of " + List.of(type.getEnumConstants())
                    .toString().toLowerCase(Locale.ROOT).replace('_', '-') + ", got '" + v + "'");
        }
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        Config c = config;
        if (c == null) {
            throw new ServletException("SessionFilter used before init()");
        }
        if (!(req instanceof HttpServletRequest hreq) || !(resp instanceof HttpServletResponse hresp)
                || req.getAttribute(CONTEXT_ATTRIBUTE) != null) {
            chain.doFilter(req, resp);
            return;
        }
        RequestSessions ctx = new RequestSessions(c, hreq, hresp);
        SessionResponse wresp = new SessionResponse(hresp, ctx);
        SessionRequest wreq = new SessionRequest(hreq, ctx, wresp);
        req.setAttribute(CONTEXT_ATTRIBUTE, ctx);
        try {
            chain.doFilter(wreq, wresp);
        } catch (IOException | ServletException | RuntimeException e) {
            if (answerFailure(e, hresp)) {
                return;
            }
            throw e;
        }
        if (ctx.asyncStarted() || hreq.isAsyncStarted()) {
            ctx.ensureAsyncListener(hreq);
            return;
        }
        try {
            ctx.finish();
        } catch (RuntimeException e) {
            if (!answerFailure(e, hresp)) {
                throw e;
            }
        }
    }

    /** Answers a store failure or limit with 503 / 413 when the response is still open. */
    static boolean answerFailure(Throwable e, HttpServletResponse resp) throws IOException {
        SessionStoreException down = find(e, SessionStoreException.class);
        SessionLimitException limit = down == null ? find(e, SessionLimitException.class) : null;
        if (down == null && limit == null) {
            return false;
        }
        if (resp.isCommitted()) {
            log.warn("session {} after the response was committed: {}",
                    down != null ? "store failure" : "limit exceeded", (down != null ? down : limit).getMessage());
            return true;
        }
        resp.reset();
        if (down != null) {
            log.warn("session store unavailable: {}", down.getMessage());
            resp.setStatus(503);
            resp.setHeader("Retry-After", "1");
        } else {
            log.info("session too large: {}", limit.getMessage());
            resp.setStatus(413);
        }
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentType("text/plain;charset=UTF-8");
        byte[] body = (down != null ? "session store unavailable\n" : "session too large\n")
                .getBytes(StandardCharsets.UTF_8);
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
        return true;
    }

    static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (int i = 0; e != null && i < 16; i++, e = e.getCause()) {
            if (type.isInstance(e)) {
                return type.cast(e);
            }
        }
        return null;
    }

    @Override
    public void destroy() {
        Config c = config;
        if (ownsStore && c != null) {
            c.store().close();
        }
    }

    /** The store this filter uses. */
    public SessionStore store() {
        return config.store();
    }

    /** Immutable settings of one filter. */
    record Config(SessionStore store, AttributeCodec codec, String cookieName, String cookiePath,
                  String cookieDomain, int cookieMaxAge, SameSite sameSite, SecureCookie secure,
                  TrustedProxies trustedProxies, String idHeader, SaveMode saveMode) {
    }

    /** Configures a {@link SessionFilter}; every setter documents its default. */
    public static final class Builder {
        private final SessionStore store;
        private AttributeCodec codec = AttributeCodec.defaults();
        private String cookieName = DEFAULT_COOKIE_NAME;
        private String cookiePath;
        private String cookieDomain;
        private int cookieMaxAge = -1;
        private SameSite sameSite = SameSite.LAX;
        private SecureCookie secure = SecureCookie.AUTO;
        private final List<String> trusted = new ArrayList<>();
        private String idHeader = DEFAULT_ID_HEADER;
        private SaveMode saveMode = SaveMode.ON_SET_ATTRIBUTE;

        private Builder(SessionStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /** How attribute values become JSON; default {@link AttributeCodec#defaults()} (no typed classes). */
        public Builder codec(AttributeCodec codec) {
            this.codec = Objects.requireNonNull(codec, "codec");
            return this;
        }

        /** Session cookie name; default {@value #DEFAULT_COOKIE_NAME}. */
        public Builder cookieName(String name) {
            this.cookieName = name;
            return this;
        }

        /** Cookie {@code Path}; default the context path, or {@code /} for the root context. */
        public Builder cookiePath(String path) {
            this.cookiePath = path;
            return this;
        }

        /** Cookie {@code Domain}; default none (host-only cookie, as OWASP recommends). */
        public Builder cookieDomain(String domain) {
            this.cookieDomain = domain;
            return this;
        }

        /**
         * Cookie {@code Max-Age} in seconds; default -1: a session cookie (no {@code Max-Age}),
         * dropped when the browser closes. The server-side idle timeout applies either way.
         */
        public Builder cookieMaxAgeSeconds(int seconds) {
            this.cookieMaxAge = seconds;
            return this;
        }

        /** Cookie {@code SameSite}; default {@link SameSite#LAX}. {@code NONE} forces {@code Secure}. */
        public Builder sameSite(SameSite sameSite) {
            this.sameSite = Objects.requireNonNull(sameSite, "sameSite");
            return this;
        }

        /** When the cookie is {@code Secure}; default {@link SecureCookie#AUTO}. */
        public Builder secure(SecureCookie secure) {
            this.secure = Objects.requireNonNull(secure, "secure");
            return this;
        }

        /**
         * Addresses or CIDRs of the proxies whose {@code X-Session-ID} and
         * {@code X-Forwarded-Proto} headers are believed (matched against
         * {@code request.getRemoteAddr()}, the direct peer). Default none: both headers are
         * ignored.
         */
        public Builder trustedProxies(String... cidrs) {
            for (String c : cidrs) {
                trusted.add(Objects.requireNonNull(c, "trusted proxy"));
            }
            return this;
        }

        /**
         * Header from which a trusted proxy may pass the session id; default
         * {@value #DEFAULT_ID_HEADER}; {@code null} turns it off.
         */
        public Builder sessionIdHeader(String header) {
            this.idHeader = header;
            return this;
        }

        /** Which attributes are written back; default {@link SaveMode#ON_SET_ATTRIBUTE}. */
        public Builder saveMode(SaveMode saveMode) {
            this.saveMode = Objects.requireNonNull(saveMode, "saveMode");
            return this;
        }

        Config config() {
            if (cookieName == null || cookieName.isEmpty() || !CookieSupport.isToken(cookieName)) {
                throw new IllegalArgumentException("cookieName must be a non-empty RFC 6265 token, got '" + cookieName + "'");
            }
            if (cookiePath != null && !CookieSupport.isSafeAttributeValue(cookiePath)) {
                throw new IllegalArgumentException("cookiePath must not contain ';', control characters or spaces, got '"
                        + cookiePath + "'");
            }
            if (cookieDomain != null && (cookieDomain.isEmpty() || !CookieSupport.isSafeAttributeValue(cookieDomain))) {
                throw new IllegalArgumentException("cookieDomain must be a host name, got '" + cookieDomain + "'");
            }
            if (cookieMaxAge < -1) {
                throw new IllegalArgumentException("cookieMaxAgeSeconds must be >= -1, got " + cookieMaxAge);
            }
            if (idHeader != null && (idHeader.isEmpty() || !CookieSupport.isToken(idHeader))) {
                throw new IllegalArgumentException("sessionIdHeader must be a header name, got '" + idHeader + "'");
            }
            return new Config(store, codec, cookieName, cookiePath, cookieDomain, cookieMaxAge, sameSite, secure,
                    TrustedProxies.of(trusted), idHeader, saveMode);
        }

        /** @throws IllegalArgumentException naming the bad setting and value */
        public SessionFilter build() {
            return new SessionFilter(config());
        }
    }
}
