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
 * The real session stores the session API's contract runs against: the in-memory store (driven by
 * a {@link ManualTicker}) and {@link RedisSessionStore} on one real redis-server per test class
 * (started on first use through {@link RedisServers}: skipped with an install hint outside CI,
 * failing under {@code CI=true}), with and without its near cache. Every Redis store gets its own
 * key prefix. A test class keeps one instance in a static field, calls {@link #closeStores()}
 * after each test and {@link #close()} after all.
 */
final class SessionStores implements AutoCloseable {

    /** Which store backs the API. */
    enum Backing { MEMORY, REDIS, REDIS_NEAR_CACHE }

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

    private synchronized RedisServers.Server redis() {
        if (redis == null) {
            redis = RedisServers.standalone();
        }
        return redis;
    }

    /**
     * A new store; the in-memory one reads time from {@code ticker} and reports wall-clock times
     * from {@code wallClockOrigin}. The Redis one uses the Redis server's clock (and the ticker
     * for its near cache).
     */
    SessionStore create(Backing backing, SessionSettings settings, ManualTicker ticker, Instant wallClockOrigin) {
        SessionStore s;
        if (backing == Backing.MEMORY) {
            s = InMemorySessionStore.builder().ticker(ticker).settings(settings).wallClockOrigin(wallClockOrigin).build();
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

    /** Closes the stores created since the last call (after each test). */
    synchronized void closeStores() {
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
    static final class ManualTicker implements Ticker {
        private final AtomicLong now = new AtomicLong(7_000_000_000L);

        @Override
        public long nanos() {
            return now.get();
        }

        void advance(Duration d) {
            now.addAndGet(d.toNanos());
        }
    }
}
