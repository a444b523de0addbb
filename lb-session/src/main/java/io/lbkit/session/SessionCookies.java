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

    /**
     * Whether {@code s} is an RFC 9110 token: the syntax of cookie names and header field names
     * (visible ASCII except the separators {@code ()<>@,;:\"/[]?={}}).
     */
    public static boolean isToken(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7f || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The {@code Set-Cookie} value of a session cookie: {@code name=value; Path=...[; Domain=...]
     * [; Max-Age=...][; Secure]; HttpOnly; SameSite=...}. A null {@code value} deletes the cookie
     * ({@code Max-Age=0} and an {@code Expires} in 1970). {@code SameSite=None} always adds
     * {@code Secure}, as browsers require.
     *
     * @param domain the {@code Domain} attribute, or null for none (host-only)
     * @param maxAge seconds, or a negative number for a cookie that ends with the browser session
     * @param secure whether the client is on HTTPS (or the cookie must be {@code Secure} anyway)
     */
    public static String setCookie(String name, String value, String path, String domain, int maxAge,
                                   SameSite sameSite, boolean secure) {
        StringBuilder sb = new StringBuilder(128);
        sb.append(name).append('=');
        if (value != null) {
            sb.append(value);
        }
        sb.append("; Path=").append(path);
        if (domain != null) {
            sb.append("; Domain=").append(domain);
        }
        if (value == null) {
            sb.append("; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        } else if (maxAge >= 0) {
            sb.append("; Max-Age=").append(maxAge);
        }
        if (secure || sameSite == SameSite.NONE) {
            sb.append("; Secure");
        }
        sb.append("; HttpOnly; SameSite=").append(sameSite.text());
        return sb.toString();
    }
}
