package io.lbkit.proxy.contract;

import io.lbkit.core.Ticker;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.redis.RedisSessionStore;
import io.lbkit.testing.RedisServers;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The real session stores the session API's contract and the servlet backend tests run against:
 * the in-memory store (driven by a {@link ManualTicker}) and {@link RedisSessionStore} on one real
 * redis-server per test class (started on first use through {@link RedisServers}: skipped with an
 * install hint outside CI, failing under {@code CI=true}), with and without its near cache. Every
 * Redis store gets its own key prefix, so tests of one class never see each other's sessions. A
 * test class keeps one instance in a static field, calls {@link #closeStores()} after each test
 * and {@link #close()} after all.
 */
public final class SessionStores implements AutoCloseable {

    /**
     * Which store backs the filter or the API: in-memory, Redis, or Redis with its near cache
     * (whose entries age by the test's {@link ManualTicker}).
     */
    public enum Backing { MEMORY, REDIS, REDIS_NEAR_CACHE }

    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private RedisServers.Server redis;
    private final List<SessionStore> open = new ArrayList<>();

    /** Every engine × every store: the arguments of the parameterized session API tests. */
    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (ProxyEngine engine : Engines.all()) {
            for (Backing backing : Backing.values()) {
                all.add(Arguments.of(engine, backing));
            }
        }
        return all.stream();
    }

    /** The class's redis-server, started on first use. */
    public synchronized RedisServers.Server redis() {
        if (redis == null) {
            redis = RedisServers.standalone();
        }
        return redis;
    }

    /**
     * A new store; the in-memory one reads time from {@code ticker} and reports wall-clock times
     * from {@code wallClockOrigin} (when not null). The Redis one uses the Redis server's clock
     * (and the ticker for its near cache).
     */
    public SessionStore create(Backing backing, SessionSettings settings, ManualTicker ticker, Instant wallClockOrigin) {
        SessionStore s;
        if (backing == Backing.MEMORY) {
            InMemorySessionStore.Builder b = InMemorySessionStore.builder().ticker(ticker).settings(settings);
            if (wallClockOrigin != null) {
                b.wallClockOrigin(wallClockOrigin);
            }
            s = b.build();
        } else {
            s = RedisSessionStore.builder().uri(redis().url()).settings(settings)
                    .keyPrefix("lbkit-api-it" + PREFIXES.incrementAndGet() + ":")
                    .nearCache(backing == Backing.REDIS_NEAR_CACHE).ticker(ticker).build();
        }
        synchronized (this) {
            open.add(s);
        }
        return s;
    }

    /**
     * Makes the session expire in the store as its idle timeout would: the in-memory store's
     * ticker moves past {@code idleTimeout}; in Redis the key gets a 1 ms TTL and this waits
     * (up to 10 s) until Redis reports it gone, and the ticker (the near cache's clock) moves past
     * {@code idleTimeout} too, as it would have in the idle time before Redis expired the key.
     */
    public void expire(SessionStore store, ManualTicker ticker, Duration idleTimeout, String id) {
        if (store instanceof RedisSessionStore r) {
            String key = r.keyOf(id);
            if (!"1".equals(redis().cli("PEXPIRE", key, "1"))) {
                throw new AssertionError("no Redis key for the session");
            }
            if (!RedisServers.await(10_000, () -> "0".equals(redis().cli("EXISTS", key)))) {
                throw new AssertionError("Redis did not expire the session key within 10 s");
            }
        }
        ticker.advance(idleTimeout.plusSeconds(1));
    }

    /** Closes the stores created since the last call (after each test). */
    public synchronized void closeStores() {
        for (SessionStore s : open) {
            s.close();
        }
        open.clear();
    }

    @Override
    public synchronized void close() {
        closeStores();
        if (redis != null) {
            redis.close();
            redis = null;
        }
    }

    /** A ticker that moves only when told to. */
    public static final class ManualTicker implements Ticker {
        private final AtomicLong now = new AtomicLong(7_000_000_000L);

        @Override
        public long nanos() {
            return now.get();
        }

        public void advance(Duration d) {
            now.addAndGet(d.toNanos());
        }
    }
}
