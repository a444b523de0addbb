package io.lbkit.session;

/**
 * The session cookie's settings that every side shares: the session filter of a backend, the
 * proxy tier that forwards sessions, and the session API.
 */
public final class SessionCookies {

    private SessionCookies() {
    }

    /** The default session cookie name: {@value}. */
    public static final String DEFAULT_NAME = "LBSESSION";

    /** The cookie's {@code SameSite} attribute. */
    public enum SameSite {
        LAX("Lax"), STRICT("Strict"), NONE("None");

        private final String text;

        SameSite(String text) {
            this.text = text;
        }

        /** The attribute's value as written in {@code Set-Cookie} ({@code Lax}, {@code Strict}, {@code None}). */
        public String text() {
            return text;
        }
    }

    /** When the cookie carries {@code Secure}. */
    public enum SecureCookie {
        /**
         * When the client's request was HTTPS: the connection is TLS, or a trusted proxy sent
         * {@code X-Forwarded-Proto: https}.
         */
        AUTO,
        /** Always. */
        ALWAYS,
        /** Never (plain-HTTP development only). */
        NEVER
    }
}
