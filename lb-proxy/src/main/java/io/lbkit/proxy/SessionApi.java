package io.lbkit.proxy;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionStore;
import java.util.Objects;

/**
 * The settings of the session API (create, read, update, delete a session by id over HTTP, as an
 * nginx + Lua + Redis tier offers it) over a {@link SessionStore}: who may call it (a token, an
 * address allow-list) and which cookie names the session when a request has no
 * {@code session_id}. Both engines serve it: the servlet engine as {@code SessionApiServlet},
 * the event-loop engine at a path ahead of its routes. The contract (paths, statuses, bodies)
 * is in {@code docs/backend.md}.
 *
 * <pre>{@code
 * SessionApi api = SessionApi.builder(store).token(secret).allowFrom("10.0.0.0/8").build();
 * }</pre>
 *
 * <p>Immutable and thread-safe; {@link #toString()} never shows the token.
 */
public final class SessionApi {

    /** The shortest token accepted by {@link Builder#token}. */
    public static final int MIN_TOKEN_LENGTH = 16;

    private final SessionStore store;
    private final CidrRules allowFrom;
    private final String token;
    private final String cookieName;

    private SessionApi(Builder b) {
        this.store = b.store;
        this.allowFrom = b.allowFrom;
        this.token = b.token;
        this.cookieName = b.cookieName;
    }

    /** A builder over {@code store}: no token, any address, cookie {@value SessionCookies#DEFAULT_NAME}. */
    public static Builder builder(SessionStore store) {
        return new Builder(store);
    }

    /** The store the API reads and writes. */
    public SessionStore store() {
        return store;
    }

    /** The addresses that may call, or null for any address. */
    public CidrRules allowFrom() {
        return allowFrom;
    }

    /** The token a caller must present, or null when none is required. */
    public String token() {
        return token;
    }

    /** The cookie read when a request has no {@code session_id}. */
    public String cookieName() {
        return cookieName;
    }

    @Override
    public String toString() {
        return "SessionApi[token=" + (token == null ? "none" : "set") + ", allowFrom="
                + (allowFrom == null ? "any" : "rules") + ", cookieName=" + cookieName + "]";
    }

    /** Configures a {@link SessionApi}. */
    public static final class Builder {
        private final SessionStore store;
        private CidrRules allowFrom;
        private String token;
        private String cookieName = SessionCookies.DEFAULT_NAME;

        private Builder(SessionStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /**
         * Requires {@code Authorization: Bearer <token>} or {@code X-Session-Api-Token: <token>}
         * (compared in constant time). Missing → 401 with {@code WWW-Authenticate}, wrong → 403.
         * Default: no token.
         *
         * @throws IllegalArgumentException for a token shorter than {@value #MIN_TOKEN_LENGTH} characters
         */
        public Builder token(String token) {
            if (token == null || token.length() < MIN_TOKEN_LENGTH) {
                throw new IllegalArgumentException("token must be at least " + MIN_TOKEN_LENGTH + " characters, got "
                        + (token == null ? "null" : token.length() + " characters"));
            }
            this.token = token;
            return this;
        }

        /**
         * Only these addresses/CIDRs may call (others → 403). Default: any address.
         *
         * @throws IllegalArgumentException for an entry that is no address or CIDR
         */
        public Builder allowFrom(String... cidrs) {
            CidrRules.Builder b = CidrRules.builder().defaultAllow(false);
            for (String c : cidrs) {
                b.allow(c);
            }
            this.allowFrom = b.build();
            return this;
        }

        /** Only loopback callers (127.0.0.0/8, ::1). */
        public Builder loopbackOnly() {
            return allowFrom("127.0.0.0/8", "::1");
        }

        /**
         * The cookie read when a request has no {@code session_id}; default {@value SessionCookies#DEFAULT_NAME}.
         *
         * @throws IllegalArgumentException for a name that is empty or no RFC 6265 token
         */
        public Builder cookieName(String cookieName) {
            if (cookieName == null || cookieName.isEmpty() || !SessionCookies.isToken(cookieName)) {
                throw new IllegalArgumentException("cookieName must be a non-empty RFC 6265 token, got '" + cookieName + "'");
            }
            this.cookieName = cookieName;
            return this;
        }

        public SessionApi build() {
            return new SessionApi(this);
        }
    }
}
