package io.lbkit.core.limit;

import io.lbkit.core.internal.Utf8;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Limits the number of requests in flight per key, with the semantics of nginx's
 * {@code limit_conn} (ngx_http_limit_conn_module).
 *
 * <pre>{@code
 * // nginx: limit_conn_zone $binary_remote_addr zone=addr:10m;
 * //        limit_conn addr 10;  limit_conn_status 429;
 * ConcurrencyLimiter limiter = ConcurrencyLimiter.builder().maxConcurrent(10).rejectStatus(429).build();
 * if (!limiter.tryAcquire(clientIp)) {
 *     response.sendError(limiter.rejectStatus());
 *     return;
 * }
 * try {
 *     serve();
 * } finally {
 *     limiter.release(clientIp);
 * }
 * }</pre>
 *
 * <p>Semantics, as in nginx:
 * <ul>
 *   <li>{@link #tryAcquire(String)} succeeds while the key has fewer than
 *       {@link Builder#maxConcurrent(int)} permits out, and then takes one.</li>
 *   <li>{@link #release(String)} gives one back. The count never goes below zero (a surplus
 *       release is ignored), and a key whose count returns to zero is removed, so memory is
 *       proportional to the keys that have requests in flight.</li>
 *   <li>An empty (or {@code null}) key is not limited, and neither is a key longer than 255 bytes
 *       in UTF-8 (nginx logs an error and skips the limit; so does this class, at WARN). For such
 *       keys {@code tryAcquire} returns true and {@code release} does nothing.</li>
 *   <li>When {@link Builder#maximumKeys(long)} keys are already tracked, a request of a new key is
 *       rejected, as nginx rejects when the zone's shared memory is full. The bound is checked
 *       without a lock, so concurrent first requests may exceed it by a few keys.</li>
 * </ul>
 *
 * <p>Every {@code tryAcquire} that returned true must be matched by exactly one {@code release}
 * of the same key, typically in a {@code finally} block. Instances are thread-safe and allocate
 * only when a key gets its first permit.
 */
public final class ConcurrencyLimiter {

    /** Default status of a rejected request, as nginx's {@code limit_conn_status}: {@value}. */
    public static final int DEFAULT_REJECT_STATUS = 503;

    /** Largest {@code maxConcurrent}, nginx's: {@value}. */
    public static final int MAX_CONCURRENT = 65535;

    /** Default bound on the number of keys tracked at once: {@value}. */
    public static final long DEFAULT_MAXIMUM_KEYS = 100_000;

    /** Keys longer than this many bytes (UTF-8) are not limited, as in nginx. */
    static final int MAX_KEY_BYTES = 255;

    private static final Logger log = LoggerFactory.getLogger(ConcurrencyLimiter.class);

    private static final Function<String, Counter> NEW_COUNTER = k -> new Counter();

    private final int maxConcurrent;
    private final int rejectStatus;
    private final long maximumKeys;
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

    private ConcurrencyLimiter(Builder b) {
        this.maxConcurrent = b.maxConcurrent;
        this.rejectStatus = b.rejectStatus;
        this.maximumKeys = b.maximumKeys;
    }

    /** A builder with nginx's default status 503. {@code maxConcurrent} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Takes a permit for {@code key} if it has fewer than {@code maxConcurrent} in flight.
     *
     * @return true if the request may proceed (and must later {@link #release(String)}); false if
     *         it must be answered with {@link #rejectStatus()}
     */
    public boolean tryAcquire(String key) {
        if (unlimited(key)) {
            return true;
        }
        for (;;) {
            Counter c = counters.get(key);
            if (c == null) {
                if (counters.mappingCount() >= maximumKeys) {
                    return false;
                }
                c = counters.computeIfAbsent(key, NEW_COUNTER);
            }
            synchronized (c) {
                if (c.removed) {
                    continue; // its count dropped to 0 and it left the map: use a new one
                }
                if (c.count >= maxConcurrent) {
                    return false;
                }
                c.count++;
                return true;
            }
        }
    }

    /**
     * Gives back a permit taken by {@link #tryAcquire(String)}. The count never goes below zero: a
     * release of a key with nothing in flight does nothing. A key whose count reaches zero is
     * forgotten.
     */
    public void release(String key) {
        if (unlimited(key)) {
            return;
        }
        Counter c = counters.get(key);
        if (c == null) {
            return;
        }
        synchronized (c) {
            if (c.removed || c.count == 0) {
                return;
            }
            if (--c.count == 0) {
                c.removed = true;
                counters.remove(key, c);
            }
        }
    }

    /** The number of permits {@code key} has out now (0 for an unknown key). */
    public int inFlight(String key) {
        Counter c = key == null ? null : counters.get(key);
        if (c == null) {
            return 0;
        }
        synchronized (c) {
            return c.count;
        }
    }

    /** The number of keys with at least one permit out (approximate while requests run). */
    public long trackedKeys() {
        return counters.mappingCount();
    }

    /** The configured limit per key. */
    public int maxConcurrent() {
        return maxConcurrent;
    }

    /** The HTTP status for rejected requests. */
    public int rejectStatus() {
        return rejectStatus;
    }

    /** The bound on keys tracked at once. */
    public long maximumKeys() {
        return maximumKeys;
    }

    @Override
    public String toString() {
        return "ConcurrencyLimiter[maxConcurrent=" + maxConcurrent + ", status=" + rejectStatus + "]";
    }

    private static boolean unlimited(String key) {
        if (key == null || key.isEmpty()) {
            return true;
        }
        if (key.length() > MAX_KEY_BYTES / 3 && Utf8.length(key) > MAX_KEY_BYTES) {
            log.warn("concurrency limit key is more than {} bytes, not limited: {}...", MAX_KEY_BYTES,
                    key.substring(0, 64));
            return true;
        }
        return false;
    }

    /** A key's in-flight count, guarded by its own monitor. */
    static final class Counter {
        int count;
        boolean removed;
    }

    /** Configuration of a {@link ConcurrencyLimiter}; setters validate at once. */
    public static final class Builder {
        private int maxConcurrent;
        private int rejectStatus = DEFAULT_REJECT_STATUS;
        private long maximumKeys = DEFAULT_MAXIMUM_KEYS;

        private Builder() {
        }

        /** nginx {@code limit_conn zone N}: requests in flight per key, 1..65535. Required. */
        public Builder maxConcurrent(int maxConcurrent) {
            if (maxConcurrent < 1 || maxConcurrent > MAX_CONCURRENT) {
                throw new IllegalArgumentException(
                        "maxConcurrent must be in 1.." + MAX_CONCURRENT + ", got " + maxConcurrent);
            }
            this.maxConcurrent = maxConcurrent;
            return this;
        }

        /** nginx {@code limit_conn_status}: 400..599, default 503. */
        public Builder rejectStatus(int status) {
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException("rejectStatus must be in 400..599, got " + status);
            }
            this.rejectStatus = status;
            return this;
        }

        /** The bound on keys tracked at once (nginx: the zone size). Default {@value ConcurrencyLimiter#DEFAULT_MAXIMUM_KEYS}. */
        public Builder maximumKeys(long maximumKeys) {
            if (maximumKeys <= 0) {
                throw new IllegalArgumentException("maximumKeys must be > 0, got " + maximumKeys);
            }
            this.maximumKeys = maximumKeys;
            return this;
        }

        /** Builds the limiter. @throws IllegalArgumentException if maxConcurrent was not set */
        public ConcurrencyLimiter build() {
            if (maxConcurrent == 0) {
                throw new IllegalArgumentException("maxConcurrent must be set, got 0");
            }
            return new ConcurrencyLimiter(this);
        }
    }
}
