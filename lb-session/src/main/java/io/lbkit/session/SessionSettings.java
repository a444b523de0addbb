package io.lbkit.session;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Settings every store shares. Build with {@link #builder()}; defaults are listed on each setter.
 *
 * @param idleTimeout      default max inactive interval of a new session
 * @param absoluteTimeout  maximum lifetime from creation regardless of activity, or {@code null}
 *                         for none
 * @param maxAttributes    most attributes one session may hold
 * @param maxSessionBytes  most bytes of a session's attributes encoded as one JSON object
 */
public record SessionSettings(Duration idleTimeout, Duration absoluteTimeout, int maxAttributes,
                              int maxSessionBytes) {

    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(24);
    public static final int DEFAULT_MAX_ATTRIBUTES = 256;
    public static final int DEFAULT_MAX_SESSION_BYTES = 64 * 1024;

    public SessionSettings {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive, got " + idleTimeout);
        }
        if (absoluteTimeout != null && (absoluteTimeout.isNegative() || absoluteTimeout.isZero())) {
            throw new IllegalArgumentException("absoluteTimeout must be positive, got " + absoluteTimeout);
        }
        if (maxAttributes < 1) {
            throw new IllegalArgumentException("maxAttributes must be at least 1, got " + maxAttributes);
        }
        if (maxSessionBytes < 64) {
            throw new IllegalArgumentException("maxSessionBytes must be at least 64, got " + maxSessionBytes);
        }
    }

    /**
     * Checks a whole set of attributes against {@link #maxAttributes} and {@link #maxSessionBytes},
     * as every store does when it creates a session.
     *
     * @return the attributes' size in bytes as one JSON object ({@link SessionJson#size})
     * @throws SessionLimitException naming the limit and the value that broke it
     */
    public int checkLimits(Map<String, JsonNode> attributes) {
        return Attributes.checkLimits(this, attributes);
    }

    public static SessionSettings defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration absoluteTimeout;
        private int maxAttributes = DEFAULT_MAX_ATTRIBUTES;
        private int maxSessionBytes = DEFAULT_MAX_SESSION_BYTES;

        private Builder() {
        }

        /** Idle timeout of new sessions; default 24 hours. */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        /** Absolute lifetime from creation; default none. */
        public Builder absoluteTimeout(Duration absoluteTimeout) {
            this.absoluteTimeout = absoluteTimeout;
            return this;
        }

        /** Most attributes per session; default 256. */
        public Builder maxAttributes(int maxAttributes) {
            this.maxAttributes = maxAttributes;
            return this;
        }

        /** Most bytes of encoded attributes per session; default 64 KiB. */
        public Builder maxSessionBytes(int maxSessionBytes) {
            this.maxSessionBytes = maxSessionBytes;
            return this;
        }

        public SessionSettings build() {
            return new SessionSettings(idleTimeout, absoluteTimeout, maxAttributes, maxSessionBytes);
        }
    }
}
