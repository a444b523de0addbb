package io.lbkit.proxy;

import io.lbkit.proxy.engine.Headers;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * Settings of a sticky-session cookie (nginx {@code sticky cookie srv_id expires=5m}):
 * the proxy answers every response of a sticky route with a cookie that names the endpoint which
 * served it, and sends later requests carrying the cookie to that endpoint while it can serve.
 *
 * <p>The value is opaque and signed: {@code base64url(idHash ‖ mac)} where {@code idHash} is the
 * first 8 bytes of SHA-256 over the upstream and endpoint names and {@code mac} the first 12
 * bytes of HMAC-SHA256 over {@code idHash} with {@link #key()}. A value that does not verify
 * (forged, truncated, signed with another key) or names an endpoint the upstream no longer has is
 * ignored: the request is balanced as if it had no cookie and gets a fresh one. An endpoint that
 * cannot serve (down, unhealthy, failed) also means a fresh pick; a {@code DRAINING} endpoint
 * keeps the clients bound to it (nginx {@code drain}).
 *
 * <p>Defaults: name {@code srv_id}, Max-Age 300 s (refreshed on every response), path {@code /},
 * HttpOnly, SameSite=Lax, Secure when the client request was HTTPS (the connection, or a trusted
 * proxy's {@code X-Forwarded-Proto: https}).
 */
public final class StickyCookie {

    /** The default cookie name, {@code srv_id} as in nginx's {@code sticky cookie srv_id}. */
    public static final String DEFAULT_NAME = "srv_id";
    /** The default lifetime: 5 minutes ({@code expires=5m}). */
    public static final Duration DEFAULT_MAX_AGE = Duration.ofSeconds(300);
    /** The shortest key accepted, in bytes. */
    public static final int MIN_KEY_BYTES = 16;

    /** The SameSite attribute. */
    public enum SameSite { STRICT, LAX, NONE }

    private final String name;
    private final byte[] key;
    private final Duration maxAge;
    private final String path;
    private final boolean httpOnly;
    private final SameSite sameSite;

    private StickyCookie(Builder b) {
        this.name = b.name;
        this.key = b.key.clone();
        this.maxAge = b.maxAge;
        this.path = b.path;
        this.httpOnly = b.httpOnly;
        this.sameSite = b.sameSite;
    }

    /** A builder signing with {@code key} (at least {@value #MIN_KEY_BYTES} bytes of secret). */
    public static Builder builder(byte[] key) {
        return new Builder(key);
    }

    public String name() { return name; }

    /** A copy of the signing key. */
    public byte[] key() { return key.clone(); }

    byte[] keyNoCopy() { return key; }

    /** Max-Age; {@link Duration#ZERO} means a session cookie (no Max-Age). */
    public Duration maxAge() { return maxAge; }

    public String path() { return path; }

    public boolean httpOnly() { return httpOnly; }

    public SameSite sameSite() { return sameSite; }

    @Override
    public String toString() {
        return "StickyCookie[" + name + ", maxAge=" + maxAge + ", path=" + path + ", httpOnly=" + httpOnly
                + ", sameSite=" + sameSite + "]"; // never the key
    }

    /** Builder for {@link StickyCookie}. */
    public static final class Builder {
        private String name = DEFAULT_NAME;
        private final byte[] key;
        private Duration maxAge = DEFAULT_MAX_AGE;
        private String path = "/";
        private boolean httpOnly = true;
        private SameSite sameSite = SameSite.LAX;

        private Builder(byte[] key) {
            this.key = key == null ? null : Arrays.copyOf(key, key.length);
        }

        /** The cookie name (default {@code srv_id}). */
        public Builder name(String name) { this.name = name; return this; }

        /** Max-Age (default 300 s); zero for a session cookie. */
        public Builder maxAge(Duration maxAge) { this.maxAge = maxAge; return this; }

        /** The cookie path (default {@code /}). */
        public Builder path(String path) { this.path = path; return this; }

        /** HttpOnly (default true). */
        public Builder httpOnly(boolean httpOnly) { this.httpOnly = httpOnly; return this; }

        /** SameSite (default Lax). {@code NONE} needs Secure, so it is only sent on HTTPS. */
        public Builder sameSite(SameSite sameSite) { this.sameSite = sameSite; return this; }

        public StickyCookie build() {
            if (key == null || key.length < MIN_KEY_BYTES) {
                throw new IllegalArgumentException("sticky key must have >= " + MIN_KEY_BYTES + " bytes, got "
                        + (key == null ? "null" : key.length));
            }
            if (name == null || name.isEmpty() || !Headers.isToken(name)) {
                throw new IllegalArgumentException("sticky cookie name must be a token, got '" + name + "'");
            }
            Objects.requireNonNull(maxAge, "maxAge");
            if (maxAge.isNegative() || (!maxAge.isZero() && maxAge.toSeconds() < 1)) {
                // Max-Age counts whole seconds: 0.5 s would be written as Max-Age=0, which deletes the cookie
                throw new IllegalArgumentException("sticky maxAge must be 0 (a session cookie) or at least 1 s, got "
                        + maxAge);
            }
            if (path == null || !path.startsWith("/") || path.indexOf(';') >= 0 || path.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
                throw new IllegalArgumentException("sticky path must start with '/' and hold no ';', space or control, got '" + path + "'");
            }
            Objects.requireNonNull(sameSite, "sameSite");
            return new StickyCookie(this);
        }
    }
}
