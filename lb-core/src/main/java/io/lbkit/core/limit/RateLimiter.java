package io.lbkit.core.limit;

import io.lbkit.core.internal.Utf8;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lbkit.core.Ticker;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A keyed leaky-bucket request limiter with the exact semantics of nginx's {@code limit_req}
 * (ngx_http_limit_req_module): same integer arithmetic, same units, same answers for the same
 * sequence of (key, millisecond) inputs.
 *
 * <pre>{@code
 * // nginx: limit_req_zone $binary_remote_addr zone=one:10m rate=10r/s;
 * //        limit_req zone=one burst=5 nodelay;  limit_req_status 429;
 * RateLimiter limiter = RateLimiter.builder()
 *         .rate("10r/s").burst(5).noDelay().rejectStatus(429)
 *         .build();
 * Decision d = limiter.tryAcquire(clientIp);
 * }</pre>
 *
 * <h2>Algorithm</h2>
 * Each key has a state {@code (excess, last)}: {@code excess} in thousandths of a request,
 * {@code last} a time in whole milliseconds read from the {@link Ticker}. The rate is kept, as in
 * nginx, as an integer {@code rate} in thousandths of a request per second
 * ({@link Rate#milliRequestsPerSecond()}); {@code burst} and {@code delay} are kept times 1000. For
 * a request at millisecond {@code now}:
 * <ol>
 *   <li>A key seen for the first time (or whose state expired) is accepted with no delay and
 *       stored as {@code excess = 0, last = now}.</li>
 *   <li>Otherwise {@code ms = now - last}; if {@code ms < -60000} (the clock went back more than a
 *       minute) {@code ms = 1}, else if {@code ms < 0} {@code ms = 0}.
 *       {@code excess = max(0, excess - rate * ms / 1000 + 1000)} in integer arithmetic.</li>
 *   <li>If {@code excess > burst} the request is <b>rejected</b> and the state is left as it was.</li>
 *   <li>Otherwise the new {@code excess} is stored, and {@code last = now} only if {@code ms != 0}.
 *       If {@code excess > delay} the request is delayed by {@code (excess - delay) * 1000 / rate}
 *       milliseconds (integer division; a result of 0 means no delay). {@code nodelay} makes the
 *       delay threshold infinite.</li>
 * </ol>
 * So with the defaults (burst 0, delay 0) {@code 10r/s} accepts exactly one request per 100 ms; with
 * {@code burst=5 nodelay} six requests pass at once, then one per 100 ms; with {@code burst=5}
 * (delay 0) the second to sixth are delayed 100, 200, ..., 500 ms.
 *
 * <p>As in nginx, an empty key is not limited at all (the request is allowed and nothing is
 * stored), and neither is a key longer than 65535 bytes in UTF-8 (nginx logs an error and skips the
 * limit; so does this class, at WARN). A {@code null} key is treated as empty.
 *
 * <h2>Memory</h2>
 * States live in a Caffeine cache bounded by {@link Builder#maximumKeys(long)} (default
 * {@value #DEFAULT_MAXIMUM_KEYS}) and expired after {@link Builder#expireAfterIdle(Duration)}
 * without requests. nginx drops a state once it has been idle for 60 s <i>and</i> its bucket has
 * drained; the default idle time here is the larger of 60 s and the time the fullest possible
 * bucket ({@code burst + 1} requests) needs to drain at the configured rate, so that an expiry
 * never changes a decision: a state that expires is one that would have behaved like a new key.
 * When the cache is full the least recently used states are evicted, as nginx does when its zone
 * runs out of memory; such a key is then treated as new. The cache reads time through the same
 * {@link Ticker} as the limiter.
 *
 * <h2>Threads</h2>
 * Instances are thread-safe. Each key's state is updated atomically (under that state's monitor);
 * different keys do not contend. A request that arrives while another request of the same key is
 * being evaluated at the same millisecond sees that request's update, as consecutive requests do
 * in nginx.
 *
 * <p>Not modelled: several {@code limit_req} zones applied to one request (nginx's two-phase
 * {@code lookup}/{@code account}); apply several limiters and keep the largest delay for a close
 * equivalent. {@code limit_req_dry_run} is left to the caller (ignore the decision and log it).
 */
public final class RateLimiter {

    /** Default bound on the number of keys whose state is kept: {@value}. */
    public static final long DEFAULT_MAXIMUM_KEYS = 100_000;

    /** The minimum default idle expiry, nginx's: 60 seconds. */
    public static final Duration MIN_DEFAULT_EXPIRY = Duration.ofSeconds(60);

    /** Default status of a rejected request, as nginx's {@code limit_req_status}: {@value}. */
    public static final int DEFAULT_REJECT_STATUS = 503;

    /** Keys longer than this many bytes (UTF-8) are not limited, as in nginx. */
    static final int MAX_KEY_BYTES = 65535;

    /** nginx's {@code nodelay}: a delay threshold no excess reaches. */
    static final long NO_DELAY = Long.MAX_VALUE;

    private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);

    private static final Function<String, State> NEW_STATE = k -> new State();

    private final Rate rateSpec;
    /** nginx ctx->rate: thousandths of a request per second. */
    private final long rate;
    /** nginx limit->burst: burst * 1000. */
    private final long burst;
    /** nginx limit->delay: delay * 1000, or {@link #NO_DELAY}. */
    private final long delay;
    private final Decision rejected;
    private final Ticker ticker;
    private final Duration expireAfterIdle;
    private final long maximumKeys;
    private final Cache<String, State> states;

    private RateLimiter(Builder b) {
        this.rateSpec = b.rate;
        this.rate = b.rate.milliRequestsPerSecond();
        this.burst = b.burst * 1000L;
        this.delay = b.noDelay ? NO_DELAY : b.delay * 1000L;
        this.rejected = Decision.rejected(b.rejectStatus);
        this.ticker = b.ticker;
        this.expireAfterIdle = b.expireAfterIdle != null ? b.expireAfterIdle : defaultExpiry(rate, burst);
        this.maximumKeys = b.maximumKeys;
        Ticker t = b.ticker;
        this.states = Caffeine.newBuilder()
                .maximumSize(maximumKeys)
                .expireAfterAccess(expireAfterIdle)
                .ticker(t::nanos)
                .executor(Runnable::run)
                .build();
    }

    /** A builder with nginx's defaults: burst 0, delay 0, status 503. A rate must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Accounts one request of {@code key} and decides it. See the class documentation for the
     * exact rule. Never blocks; a delay is for the caller to apply.
     *
     * @param key the limiting key (client address, API key, ...); empty or {@code null} means
     *            "not limited"
     * @return the shared "allowed" decision, the limiter's shared "rejected" decision, or a
     *         delayed decision
     */
    public Decision tryAcquire(String key) {
        if (key == null || key.isEmpty()) {
            return Decision.allowed();
        }
        if (key.length() > MAX_KEY_BYTES / 3 && Utf8.length(key) > MAX_KEY_BYTES) {
            log.warn("rate limit key is more than {} bytes, not limited: {}...", MAX_KEY_BYTES,
                    key.substring(0, 64));
            return Decision.allowed();
        }
        State s = states.get(key, NEW_STATE);
        long now = Math.floorDiv(ticker.nanos(), 1_000_000L);
        long excess;
        synchronized (s) {
            if (s.fresh) {
                // ngx_http_limit_req_lookup: a new node starts with excess 0, last = now.
                s.fresh = false;
                s.excess = 0;
                s.last = now;
                return Decision.allowed();
            }
            long ms = now - s.last;
            if (ms < -60000) {
                ms = 1;
            } else if (ms < 0) {
                ms = 0;
            }
            excess = s.excess - drained(ms) + 1000;
            if (excess < 0) {
                excess = 0;
            }
            if (excess > burst) {
                return rejected;
            }
            s.excess = excess;
            if (ms != 0) {
                s.last = now;
            }
        }
        // ngx_http_limit_req_account: excess <= delay -> no delay.
        if (excess <= delay) {
            return Decision.allowed();
        }
        return Decision.delayed((excess - delay) * 1000 / rate);
    }

    // =====================================================================================
    // nginx's two phases over several limits (RateLimitChain): lookup, then account
    // =====================================================================================

    /** {@link #lookup}: the key is not limited (empty or too long). */
    static final long SKIP = -2;

    /** {@link #lookup}: the request is past the burst. */
    static final long BUSY = -1;

    /** The {@code last} of a node created by a lookup that did not account (nginx: 0, long ago). */
    private static final long NEVER = Long.MIN_VALUE / 4;

    /** The current time in milliseconds, as this limiter reads it. */
    long nowMillis() {
        return Math.floorDiv(ticker.nanos(), 1_000_000L);
    }

    /**
     * ngx_http_limit_req_lookup: the excess {@code key} would have at {@code now}, {@link #BUSY}
     * past the burst, {@link #SKIP} when the key is not limited. With {@code account} (the last
     * limit of a chain) the state is updated as {@link #tryAcquire} does; without, only a new key's
     * state is created ({@code excess 0, last now}) and {@link #account} updates it later.
     */
    long lookup(String key, long now, boolean account) {
        if (key == null || key.isEmpty()
                || (key.length() > MAX_KEY_BYTES / 3 && Utf8.length(key) > MAX_KEY_BYTES)) {
            return SKIP;
        }
        State s = states.get(key, NEW_STATE);
        synchronized (s) {
            if (s.fresh) {
                // a new node: excess 0; nginx sets last = now when accounting at once, else
                // last = 0, so that the account phase (and any later lookup, should a later limit
                // refuse this request) drains it to 0 again
                s.fresh = false;
                s.excess = 0;
                s.last = account ? now : NEVER;
                return 0;
            }
            long ms = now - s.last;
            if (ms < -60000) {
                ms = 1;
            } else if (ms < 0) {
                ms = 0;
            }
            long excess = Math.max(0, s.excess - drained(ms) + 1000);
            if (excess > burst) {
                return BUSY;
            }
            if (account) {
                s.excess = excess;
                if (ms != 0) {
                    s.last = now;
                }
            }
            return excess;
        }
    }

    /**
     * ngx_http_limit_req_account for a limit looked up without accounting: the request is counted
     * now (which for a key seen first in this request gives it an excess of one request, as nginx).
     *
     * @return the new excess
     */
    long account(String key, long now) {
        State s = states.get(key, NEW_STATE);
        synchronized (s) {
            if (s.fresh) { // dropped since the lookup: as the new node nginx keeps locked
                s.fresh = false;
                s.excess = 0;
                s.last = NEVER;
            }
            long ms = now - s.last;
            if (ms < -60000) {
                ms = 1;
            } else if (ms < 0) {
                ms = 0;
            }
            long excess = Math.max(0, s.excess - drained(ms) + 1000);
            if (ms != 0) {
                s.last = now;
            }
            s.excess = excess;
            return excess;
        }
    }

    /** The delay in milliseconds of a request admitted with {@code excess}: 0 up to the delay threshold. */
    long delayFor(long excess) {
        return excess <= delay ? 0 : (excess - delay) * 1000 / rate;
    }

    /** {@code rate * ms / 1000}, saturating instead of overflowing for very long idle times. */
    private long drained(long ms) {
        if (ms > Long.MAX_VALUE / rate) {
            return Long.MAX_VALUE / 2;
        }
        return rate * ms / 1000;
    }

    /** The configured rate. */
    public Rate rate() {
        return rateSpec;
    }

    /** The configured burst, in requests. */
    public long burst() {
        return burst / 1000;
    }

    /** The configured delay threshold in requests (0 by default); meaningless if {@link #isNoDelay()}. */
    public long delay() {
        return delay == NO_DELAY ? 0 : delay / 1000;
    }

    /** True if configured with {@code nodelay}: allowed requests are never delayed. */
    public boolean isNoDelay() {
        return delay == NO_DELAY;
    }

    /** The HTTP status of rejected requests. */
    public int rejectStatus() {
        return rejected.status();
    }

    /** How long a key's state is kept without requests. */
    public Duration expireAfterIdle() {
        return expireAfterIdle;
    }

    /** The bound on the number of keys whose state is kept. */
    public long maximumKeys() {
        return maximumKeys;
    }

    /**
     * The number of keys whose state is currently kept, after pending evictions and expiries have
     * been applied. For monitoring; not for request decisions.
     */
    public long trackedKeys() {
        states.cleanUp();
        return states.estimatedSize();
    }

    /** Test hook: {@code {excess, last}} of a key, or null if none is kept. */
    long[] stateOf(String key) {
        State s = states.getIfPresent(key);
        if (s == null) {
            return null;
        }
        synchronized (s) {
            return s.fresh ? null : new long[] {s.excess, s.last};
        }
    }

    @Override
    public String toString() {
        return "RateLimiter[rate=" + rateSpec + ", burst=" + burst() + ", "
                + (isNoDelay() ? "nodelay" : "delay=" + delay()) + ", status=" + rejectStatus() + "]";
    }

    /**
     * The smallest idle time after which a state is certainly drained, so that dropping it cannot
     * change a decision: {@code ceil((burst + 1000) * 1000 / rate)} ms, plus 1 ms for rounding of
     * nanoseconds to milliseconds, and at least 60 s.
     */
    static Duration defaultExpiry(long rate, long burst) {
        long drainMs = ((burst + 1000) * 1000 + rate - 1) / rate + 1;
        return Duration.ofMillis(Math.max(MIN_DEFAULT_EXPIRY.toMillis(), drainMs));
    }

    /** Per-key state, guarded by its own monitor. */
    static final class State {
        boolean fresh = true;
        long excess;
        long last;
    }

    /**
     * Configuration of a {@link RateLimiter}. Every setter validates its argument at once and
     * {@link #build()} checks that a rate was given; errors name the field and the bad value.
     */
    public static final class Builder {
        private Rate rate;
        private long burst;
        private long delay;
        private boolean noDelay;
        private int rejectStatus = DEFAULT_REJECT_STATUS;
        private long maximumKeys = DEFAULT_MAXIMUM_KEYS;
        private Duration expireAfterIdle;
        private Ticker ticker = Ticker.system();

        private Builder() {
        }

        /** The sustained rate. Required. */
        public Builder rate(Rate rate) {
            this.rate = Objects.requireNonNull(rate, "rate must not be null");
            return this;
        }

        /** The sustained rate in nginx's form, {@code 10r/s} or {@code 30r/m}. Required. */
        public Builder rate(String rate) {
            return rate(Rate.parse(rate));
        }

        /**
         * nginx {@code burst=}: how many requests beyond the rate are accepted (and delayed or not)
         * before requests are rejected. Default 0.
         */
        public Builder burst(long burst) {
            if (burst < 0 || burst > Rate.MAX_REQUESTS) {
                throw new IllegalArgumentException(
                        "burst must be in 0.." + Rate.MAX_REQUESTS + ", got " + burst);
            }
            this.burst = burst;
            return this;
        }

        /**
         * nginx {@code delay=}: how many excess requests are served without delay; those beyond
         * are delayed so that they go out at the rate. Default 0. Overrides an earlier
         * {@link #noDelay()} (in nginx the last parameter wins too). A value of at least
         * {@code burst} means no request is ever delayed.
         */
        public Builder delay(long delay) {
            if (delay < 0 || delay > Rate.MAX_REQUESTS) {
                throw new IllegalArgumentException(
                        "delay must be in 0.." + Rate.MAX_REQUESTS + ", got " + delay);
            }
            this.delay = delay;
            this.noDelay = false;
            return this;
        }

        /** nginx {@code nodelay}: accepted requests are never delayed. Overrides {@link #delay(long)}. */
        public Builder noDelay() {
            this.noDelay = true;
            return this;
        }

        /** nginx {@code limit_req_status}: the status of rejected requests, 400..599. Default 503. */
        public Builder rejectStatus(int status) {
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException("rejectStatus must be in 400..599, got " + status);
            }
            this.rejectStatus = status;
            return this;
        }

        /** The bound on keys whose state is kept (nginx: the zone size). Default {@value RateLimiter#DEFAULT_MAXIMUM_KEYS}. */
        public Builder maximumKeys(long maximumKeys) {
            if (maximumKeys <= 0) {
                throw new IllegalArgumentException("maximumKeys must be > 0, got " + maximumKeys);
            }
            this.maximumKeys = maximumKeys;
            return this;
        }

        /**
         * How long a key's state is kept without requests. Default: the larger of 60 s and the
         * time a full bucket needs to drain (see the class documentation). A shorter time forgives
         * a key's excess early.
         */
        public Builder expireAfterIdle(Duration expireAfterIdle) {
            Objects.requireNonNull(expireAfterIdle, "expireAfterIdle must not be null");
            if (expireAfterIdle.isNegative() || expireAfterIdle.isZero()) {
                throw new IllegalArgumentException("expireAfterIdle must be > 0, got " + expireAfterIdle);
            }
            this.expireAfterIdle = expireAfterIdle;
            return this;
        }

        /** The clock. Default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker must not be null");
            return this;
        }

        /** Builds the limiter. @throws IllegalArgumentException if no rate was set */
        public RateLimiter build() {
            if (rate == null) {
                throw new IllegalArgumentException("rate must be set, got null");
            }
            return new RateLimiter(this);
        }
    }
}
