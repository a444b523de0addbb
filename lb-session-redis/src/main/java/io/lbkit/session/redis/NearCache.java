package io.lbkit.session.redis;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lbkit.core.Ticker;
import io.lbkit.session.Session;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The optional near cache of {@link RedisSessionStore}: decoded sessions keyed by id on Caffeine
 * (bounded size, expire-after-write cap), kept coherent by invalidation messages.
 *
 * <p>Races between a round trip that fetched a session and an invalidation that arrived while it
 * was in flight are closed by stamps: before the round trip the caller takes {@link #stamp}
 * (a striped per-id invalidation counter plus the global clear epoch); {@link #put} stores the
 * result only if neither moved, and re-checks after storing. A reply never replaces a cached
 * copy of a later state (higher version): this instance's own writes invalidate nothing, so
 * their replies may arrive out of order. Until the invalidation channel is known to be
 * subscribed ({@link #setCoherent}), the cache neither serves nor stores. A store built without a
 * near cache holds {@link #disabled()}, which never becomes coherent.
 */
final class NearCache {

    private static final int STRIPES = 1024;

    /** A cached session plus when it was last touched in Redis and when it must stop serving. */
    static final class Entry {
        final Session session;
        /** Ticker nanos after which this entry is past its absolute lifetime. */
        final long deadlineNanos;
        final long touchIntervalNanos;
        final AtomicLong touchedNanos;

        Entry(Session session, long deadlineNanos, long touchIntervalNanos, long touchedNanos) {
            this.session = session;
            this.deadlineNanos = deadlineNanos;
            this.touchIntervalNanos = touchIntervalNanos;
            this.touchedNanos = new AtomicLong(touchedNanos);
        }
    }

    private final Cache<String, Entry> cache;
    private final AtomicLongArray stripes = new AtomicLongArray(STRIPES);
    private final AtomicLong epoch = new AtomicLong();
    private final Ticker ticker;
    private volatile boolean coherent;

    NearCache(long maxSize, Duration ttl, Ticker ticker) {
        this.ticker = ticker;
        this.cache = Caffeine.newBuilder()
                .maximumSize(maxSize)
                .expireAfterWrite(ttl)
                .ticker(ticker::nanos)
                .build();
    }

    private NearCache() {
        this.ticker = Ticker.system();
        this.cache = null;
    }

    /** The near cache of a store built without one: never coherent, so it serves and stores nothing. */
    static NearCache disabled() {
        return new NearCache();
    }

    boolean isEnabled() {
        return cache != null;
    }

    /** The live entry for {@code id}, or {@code null} (also while not coherent). */
    Entry get(String id) {
        if (!coherent) {
            return null;
        }
        Entry e = cache.getIfPresent(id);
        if (e == null) {
            return null;
        }
        if (ticker.nanos() - e.deadlineNanos >= 0) {
            cache.asMap().remove(id, e);
            return null;
        }
        return e;
    }

    /** Whether the entry is due for a sliding-expiry touch; true for exactly one caller. */
    boolean claimTouch(Entry e) {
        long now = ticker.nanos();
        long last = e.touchedNanos.get();
        return now - last >= e.touchIntervalNanos && e.touchedNanos.compareAndSet(last, now);
    }

    long stamp(String id) {
        // epoch in the high bits can only grow; stripe counters in the low 40 bits
        return (epoch.get() << 40) ^ stripes.get(stripe(id));
    }

    /**
     * Stores what a round trip that began at {@code stamp} answered, unless an invalidation or a
     * clear came meanwhile or the session is past its absolute expiry
     * ({@code absoluteRemainingNanos}, from its last access, is negative).
     */
    void put(String id, Session session, long stamp, long absoluteRemainingNanos) {
        if (!coherent || absoluteRemainingNanos < 0 || stamp(id) != stamp) {
            return;
        }
        long now = ticker.nanos();
        long idleNanos = session.maxInactiveInterval().toNanos();
        long deadline = now + Math.min(absoluteRemainingNanos, idleNanos);
        Entry e = new Entry(session, deadline, Math.max(1, idleNanos / 10), now);
        // this instance's own writes do not invalidate its cache, so two replies of one session
        // (concurrent saves, or a load racing a save) can arrive in any order: keep the newer
        if (cache.asMap().merge(id, e, NearCache::newer) != e) {
            return;
        }
        if (!coherent || stamp(id) != stamp) {
            cache.asMap().remove(id, e);
        }
    }

    /**
     * The entry holding the later state of a session: the higher version, or on equal versions
     * the later access (a save that changes only the max inactive interval keeps the version).
     * Redis's scripts run one at a time, so a later reply never has a lower version or access.
     */
    private static Entry newer(Entry cached, Entry incoming) {
        Session c = cached.session;
        Session n = incoming.session;
        if (n.version() != c.version()) {
            return n.version() > c.version() ? incoming : cached;
        }
        return n.lastAccessedTime().isBefore(c.lastAccessedTime()) ? cached : incoming;
    }

    void invalidate(String id) {
        if (cache == null) {
            return;
        }
        stripes.incrementAndGet(stripe(id));
        cache.invalidate(id);
    }

    /** Drops everything (reconnect, resubscribe, failure). */
    void clear() {
        if (cache == null) {
            return;
        }
        epoch.incrementAndGet();
        cache.invalidateAll();
    }

    void setCoherent(boolean coherent) {
        if (cache == null) {
            return;
        }
        this.coherent = coherent;
        clear();
    }

    boolean isCoherent() {
        return coherent;
    }

    long size() {
        if (cache == null) {
            return 0;
        }
        cache.cleanUp();
        return cache.estimatedSize();
    }

    private static int stripe(String id) {
        int h = id.hashCode();
        return (h ^ (h >>> 16)) & (STRIPES - 1);
    }
}
