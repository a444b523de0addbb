package io.lbkit.session.redis;

import io.lbkit.core.Ticker;
import io.lbkit.core.limit.Decision;
import io.lbkit.core.limit.RateLimiter;
import io.lbkit.core.limit.SharedRateLimiter;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * nginx's {@code limit_req} with its bucket kept in Redis, so that several proxy instances
 * enforce one limit: the pair admits what one nginx would.
 *
 * <pre>{@code
 * RateLimiter local = RateLimiter.builder().rate("10r/s").burst(5).noDelay().rejectStatus(429).build();
 * RedisRateLimiter shared = RedisRateLimiter.builder(redisson, local).zone("api").build();
 * shared.tryAcquire(clientAddress).thenAccept(decision -> ...);
 * }</pre>
 *
 * <h2>Arithmetic</h2>
 * The settings are those of {@code local} (rate, burst, delay or nodelay, status, idle expiry) and
 * the arithmetic is {@link RateLimiter}'s, nginx's: each key is a hash {@code {e, l}} (excess in
 * thousandths of a request, last time in milliseconds) updated by one Lua script, so a decision is
 * one round trip and atomic however many instances share the key. The time is the Redis server's
 * ({@code TIME}), one clock for every instance; {@link Builder#ticker(Ticker)} replaces it (tests).
 * Each key expires after {@code local.expireAfterIdle()} without requests, the way nginx drops
 * drained states; Redis's own {@code maxmemory} policy bounds the total.
 *
 * <h2>When Redis cannot answer</h2>
 * With {@code failOpen} (the default) a decision Redis could not make is made by {@code local}, the
 * same limit kept in this process: during an outage each instance enforces the limit alone, so N
 * instances admit up to N times the rate. The outage is logged once when it starts and once when
 * Redis answers again. Without {@code failOpen} such a request is refused with 503, the status of
 * a limit that cannot be checked, not the limit's own (the client is not over any limit).
 *
 * <p>Keys are as nginx treats them: an empty or {@code null} key is not limited; a key over 65535
 * bytes is not limited either (logged by {@code local}). Thread-safe; never blocks the caller.
 */
public final class RedisRateLimiter implements SharedRateLimiter {

    private static final Logger log = LoggerFactory.getLogger(RedisRateLimiter.class);

    /** The status of a request whose limit could not be checked, without {@code failOpen}. */
    public static final int UNCHECKED_STATUS = 503;

    /**
     * KEYS[1] the key's hash; ARGV: rate (thousandths of a request per second), burst (thousandths),
     * the time in ms (empty: the server's), the idle expiry in ms. Answers the new excess, or -1
     * when the request is rejected (the state is then left as it was, as nginx does).
     */
    static final String SCRIPT = """
            local rate, burst, now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
            if now == '' then
              local t = redis.call('TIME')
              now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            else
              now = tonumber(now)
            end
            local s = redis.call('HMGET', KEYS[1], 'e', 'l')
            if not s[1] then
              redis.call('HSET', KEYS[1], 'e', 0, 'l', now)
              redis.call('PEXPIRE', KEYS[1], ttl)
              return 0
            end
            local ms = now - tonumber(s[2])
            if ms < -60000 then ms = 1 elseif ms < 0 then ms = 0 end
            local excess = tonumber(s[1]) - math.floor(rate * ms / 1000) + 1000
            if excess < 0 then excess = 0 end
            if excess > burst then return -1 end
            if ms ~= 0 then
              redis.call('HSET', KEYS[1], 'e', excess, 'l', now)
            else
              redis.call('HSET', KEYS[1], 'e', excess)
            end
            redis.call('PEXPIRE', KEYS[1], ttl)
            return excess
            """;
    private static final String SHA = RedisScripts.sha1(SCRIPT);
    private static final int MAX_KEY_CHARS = 65535 / 3; // longer keys may be over nginx's 65535 bytes: local decides

    private final RScript script;
    private final RateLimiter local;
    private final String prefix;
    private final boolean failOpen;
    private final Ticker ticker;
    private final String rate;
    private final String burst;
    private final String ttl;
    private final long rateValue;
    private final long delay;
    private final Decision rejected;
    private final Decision unchecked = Decision.rejected(UNCHECKED_STATUS);
    private final AtomicBoolean down = new AtomicBoolean();

    private RedisRateLimiter(Builder b) {
        this.script = b.client.getScript(StringCodec.INSTANCE);
        this.local = b.local;
        this.prefix = "lbkit:limit:" + b.zone + ":";
        this.failOpen = b.failOpen;
        this.ticker = b.ticker;
        this.rateValue = local.rate().milliRequestsPerSecond();
        this.rate = Long.toString(rateValue);
        this.burst = Long.toString(local.burst() * 1000);
        this.ttl = Long.toString(Math.max(1, local.expireAfterIdle().toMillis()));
        this.delay = local.isNoDelay() ? Long.MAX_VALUE : local.delay() * 1000;
        this.rejected = Decision.rejected(local.rejectStatus());
    }

    /**
     * A builder for a limit with {@code local}'s settings, its bucket in Redis through
     * {@code client}; {@code local} also decides while Redis cannot (fail open).
     */
    public static Builder builder(RedissonClient client, RateLimiter local) {
        return new Builder(Objects.requireNonNull(client, "client"), Objects.requireNonNull(local, "local"));
    }

    /**
     * Accounts one request of {@code key} in the shared bucket and decides it: allowed, allowed
     * after a delay (for the caller to apply), or rejected with the limit's status.
     */
    @Override
    public CompletionStage<Decision> tryAcquire(String key) {
        if (key == null || key.isEmpty()) {
            return CompletableFuture.completedFuture(Decision.allowed());
        }
        if (key.length() > MAX_KEY_CHARS) {
            return CompletableFuture.completedFuture(local.tryAcquire(key)); // nginx's byte limit, checked there
        }
        String k = prefix + key;
        String now = ticker == null ? "" : Long.toString(Math.floorDiv(ticker.nanos(), 1_000_000L));
        return RedisScripts.<Long>run(script, k, SCRIPT, SHA, RScript.ReturnType.LONG, rate, burst, now, ttl)
                .handle((excess, failure) -> failure == null ? answered(excess) : unanswered(key, failure));
    }

    private Decision answered(Long excess) {
        if (down.get() && down.compareAndSet(true, false)) {
            log.info("rate limit {}*: Redis answers again; the shared bucket decides", prefix);
        }
        long e = excess;
        if (e < 0) {
            return rejected;
        }
        return e <= delay ? Decision.allowed() : Decision.delayed((e - delay) * 1000 / rateValue);
    }

    private Decision unanswered(String key, Throwable failure) {
        if (!down.get() && down.compareAndSet(false, true)) {
            log.warn("rate limit {}*: Redis did not answer ({}); {} until it does", prefix, rootMessage(failure),
                    failOpen ? "this instance's own bucket decides" : "requests are refused with " + UNCHECKED_STATUS);
        }
        return failOpen ? local.tryAcquire(key) : unchecked;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    /** The limit's settings, and the bucket that decides while Redis cannot (fail open). */
    @Override
    public RateLimiter local() {
        return local;
    }

    /** Whether the last call found Redis unreachable (and the limit is decided as {@code failOpen} says). */
    public boolean isRedisDown() {
        return down.get();
    }

    @Override
    public String toString() {
        return "RedisRateLimiter[" + prefix + "*, " + local + (failOpen ? ", failOpen" : ", failClosed") + "]";
    }

    /** Settings of a {@link RedisRateLimiter}; the limit's own are those of the local limiter. */
    public static final class Builder {
        private final RedissonClient client;
        private final RateLimiter local;
        private String zone;
        private boolean failOpen = true;
        private Ticker ticker;

        private Builder(RedissonClient client, RateLimiter local) {
            this.client = client;
            this.local = local;
        }

        /**
         * The zone's name, as nginx's {@code zone=NAME}: keys are {@code lbkit:limit:NAME:KEY}, so
         * the instances that share a limit use the same name. Required: letters, digits, {@code -_.}.
         */
        public Builder zone(String zone) {
            this.zone = zone;
            return this;
        }

        /**
         * Whether a request Redis cannot decide is decided by the local limiter (true, the default)
         * or refused with {@value #UNCHECKED_STATUS} (false).
         */
        public Builder failOpen(boolean failOpen) {
            this.failOpen = failOpen;
            return this;
        }

        /** The clock, instead of the Redis server's: tests, or one clock the caller already keeps. */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** @throws IllegalArgumentException naming the zone when it is missing or not a plain name */
        public RedisRateLimiter build() {
            if (zone == null || zone.isEmpty() || !zone.matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("zone must be a name of letters, digits and -_., got "
                        + (zone == null ? "none" : "'" + zone + "'"));
            }
            return new RedisRateLimiter(this);
        }
    }
}
