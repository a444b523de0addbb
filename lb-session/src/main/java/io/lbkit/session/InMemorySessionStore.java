package io.lbkit.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Scheduler;
import io.lbkit.core.Ticker;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded {@link SessionStore}: sessions in this JVM's heap, in a bounded Caffeine cache.
 * Nothing is shared between processes; use the Redis store for that.
 *
 * <pre>{@code
 * SessionStore store = InMemorySessionStore.builder()
 *         .settings(SessionSettings.builder().idleTimeout(Duration.ofMinutes(30)).build())
 *         .maximumSessions(100_000)
 *         .build();
 * }</pre>
 *
 * <h2>Behaviour</h2>
 * <ul>
 *   <li><b>Expiry.</b> A session expires {@code maxInactiveInterval} after its last load or save
 *       (sliding idle timeout) or {@link SessionSettings#absoluteTimeout()} after its creation,
 *       whichever comes first. Time is read from the injected {@link Ticker}; wall-clock times
 *       in {@link Session} are the build instant plus the ticker's elapsed time. An expired
 *       session is "no session" at once, whether or not Caffeine has removed it yet.</li>
 *   <li><b>Expiry events.</b> {@link SessionEvent.Type#EXPIRED} is delivered when the cache
 *       notices the expiry: on an access to that session, during Caffeine's maintenance (which
 *       runs piggy-backed on other reads and writes), on {@link #cleanUp()}, or, with
 *       {@link Builder#expirySweeper(boolean)}, from Caffeine's system scheduler shortly after
 *       the deadline. Sessions evicted by the {@link Builder#maximumSessions} bound are also
 *       reported as {@code EXPIRED}.</li>
 *   <li><b>Atomic updates.</b> Every save runs inside one {@code ConcurrentMap.compute} on the
 *       session's entry; stored sessions are immutable records, so readers never see a partial
 *       update and concurrent saves touching different attributes both persist.</li>
 *   <li><b>Versions.</b> A new session has version 1; every save with at least one attribute
 *       change increments it (a save that only changes the max inactive interval or only slides
 *       the expiry keeps it).</li>
 *   <li>A {@link SessionChanges#maxInactiveInterval()} of zero means "the settings' idle
 *       timeout"; there is no never-expiring session.</li>
 *   <li>Listeners run on the thread that caused the event (the caller, or the scheduler thread
 *       for swept expiries). A listener that throws is logged and does not affect the store.</li>
 * </ul>
 */
public final class InMemorySessionStore implements SessionStore {

    private static final Logger log = LoggerFactory.getLogger(InMemorySessionStore.class);

    /** Default bound on the number of sessions held: {@value}. */
    public static final long DEFAULT_MAXIMUM_SESSIONS = 1_000_000L;

    private final SessionSettings settings;
    private final Ticker ticker;
    private final long originNanos;
    private final Instant originInstant;
    private final Cache<String, Entry> cache;
    private final ConcurrentMap<String, Entry> map;
    private final CopyOnWriteArrayList<SessionListener> listeners = new CopyOnWriteArrayList<>();
    private final long absoluteNanos;

    /** One stored session plus the ticker readings that drive its expiry. */
    private record Entry(Session session, long createdNanos, long accessedNanos, long idleNanos, int size) {
        long deadline(long absoluteNanos) {
            long idle = satAdd(accessedNanos, idleNanos);
            return absoluteNanos <= 0 ? idle : Math.min(idle, satAdd(createdNanos, absoluteNanos));
        }
    }

    private InMemorySessionStore(Builder b) {
        this.settings = b.settings;
        this.ticker = b.ticker;
        this.originNanos = ticker.nanos();
        this.originInstant = b.origin != null ? b.origin : Instant.now();
        this.listeners.addAll(b.listeners);
        long absolute = settings.absoluteTimeout() == null ? 0 : saturatedNanos(settings.absoluteTimeout());
        this.absoluteNanos = absolute;
        Caffeine<Object, Object> c = Caffeine.newBuilder()
                .ticker(ticker::nanos)
                .executor(Runnable::run)
                .maximumSize(b.maximumSessions);
        if (b.sweeper) {
            c.scheduler(Scheduler.systemScheduler());
        }
        this.cache = c.expireAfter(new Expiry<String, Entry>() {
                    @Override
                    public long expireAfterCreate(String key, Entry e, long currentTime) {
                        return Math.max(0, e.deadline(absolute) - currentTime);
                    }

                    @Override
                    public long expireAfterUpdate(String key, Entry e, long currentTime, long currentDuration) {
                        return Math.max(0, e.deadline(absolute) - currentTime);
                    }

                    @Override
                    public long expireAfterRead(String key, Entry e, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .<String, Entry>removalListener((key, value, cause) -> {
                    if (key != null && (cause == RemovalCause.EXPIRED || cause == RemovalCause.SIZE)) {
                        fire(new SessionEvent(SessionEvent.Type.EXPIRED, key, null));
                    }
                })
                .build();
        this.map = cache.asMap();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Session create(Map<String, JsonNode> attributes) {
        Objects.requireNonNull(attributes, "attributes");
        int size = Attributes.checkLimits(settings, attributes);
        long now = ticker.nanos();
        Instant at = instant(now);
        Duration idle = settings.idleTimeout();
        while (true) {
            String id = SessionIds.generate();
            Entry e = new Entry(new Session(id, attributes, at, at, idle, 1), now, now, saturatedNanos(idle), size);
            if (map.putIfAbsent(id, e) == null) {
                fire(new SessionEvent(SessionEvent.Type.CREATED, id, null));
                return e.session();
            }
        }
    }

    @Override
    public Optional<Session> load(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return Optional.empty();
        }
        Entry[] out = new Entry[1];
        boolean[] expiredNow = new boolean[1];
        map.computeIfPresent(id, (k, e) -> {
            long now = ticker.nanos();
            if (expired(e, now)) {
                expiredNow[0] = true;
                return null;
            }
            Session s = e.session();
            Entry next = new Entry(new Session(k, s.attributes(), s.creationTime(), instant(now),
                    s.maxInactiveInterval(), s.version()), e.createdNanos(), now, e.idleNanos(), e.size());
            out[0] = next;
            return next;
        });
        firedIfExpired(id, expiredNow[0]);
        return out[0] == null ? Optional.empty() : Optional.of(out[0].session());
    }

    @Override
    public Optional<Session> save(String id, SessionChanges changes) {
        Objects.requireNonNull(changes, "changes");
        if (!SessionIds.isWellFormed(id)) {
            return Optional.empty();
        }
        Entry[] out = new Entry[1];
        boolean[] updated = new boolean[1];
        boolean[] expiredNow = new boolean[1];
        map.computeIfPresent(id, (k, e) -> {
            long now = ticker.nanos();
            if (expired(e, now)) {
                expiredNow[0] = true;
                return null;
            }
            Session s = e.session();
            if (changes.expectedVersion().isPresent() && changes.expectedVersion().getAsLong() != s.version()) {
                throw new VersionConflictException(changes.expectedVersion().getAsLong(), s.version());
            }
            Map<String, JsonNode> attrs = s.attributes();
            long version = s.version();
            int size = e.size();
            if (!changes.changes().isEmpty()) {
                Map<String, JsonNode> before = attrs;
                attrs = Attributes.apply(attrs, changes);
                size = Attributes.checkLimits(settings, size, before, attrs, changes);
                version++;
            }
            Duration interval = s.maxInactiveInterval();
            long idleNanos = e.idleNanos();
            if (changes.maxInactiveInterval() != null) {
                interval = changes.maxInactiveInterval().isZero() ? settings.idleTimeout() : changes.maxInactiveInterval();
                idleNanos = saturatedNanos(interval);
            }
            updated[0] = version != s.version() || !interval.equals(s.maxInactiveInterval());
            Entry next = new Entry(new Session(k, attrs, s.creationTime(), instant(now), interval, version),
                    e.createdNanos(), now, idleNanos, size);
            out[0] = next;
            return next;
        });
        firedIfExpired(id, expiredNow[0]);
        if (out[0] == null) {
            return Optional.empty();
        }
        if (updated[0]) {
            fire(new SessionEvent(SessionEvent.Type.UPDATED, id, null));
        }
        return Optional.of(out[0].session());
    }

    @Override
    public boolean delete(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return false;
        }
        boolean[] existed = new boolean[1];
        boolean[] expiredNow = new boolean[1];
        map.computeIfPresent(id, (k, e) -> {
            existed[0] = !expired(e, ticker.nanos());
            expiredNow[0] = !existed[0];
            return null;
        });
        firedIfExpired(id, expiredNow[0]);
        if (existed[0]) {
            fire(new SessionEvent(SessionEvent.Type.DELETED, id, null));
        }
        return existed[0];
    }

    /**
     * {@inheritDoc}
     *
     * <p>The entry is removed under the old id in one atomic step and then published under the
     * new id, which nobody can know before this method returns; so every caller sees the session
     * under exactly one id. The move slides the idle expiry and keeps the version.
     */
    @Override
    public Optional<Session> changeId(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return Optional.empty();
        }
        Entry[] old = new Entry[1];
        boolean[] expiredNow = new boolean[1];
        map.computeIfPresent(id, (k, e) -> {
            if (expired(e, ticker.nanos())) {
                expiredNow[0] = true;
            } else {
                old[0] = e;
            }
            return null;
        });
        firedIfExpired(id, expiredNow[0]);
        if (old[0] == null) {
            return Optional.empty();
        }
        Session s = old[0].session();
        while (true) {
            long now = ticker.nanos();
            String newId = SessionIds.generate();
            Entry moved = new Entry(new Session(newId, s.attributes(), s.creationTime(), instant(now),
                    s.maxInactiveInterval(), s.version()), old[0].createdNanos(), now, old[0].idleNanos(),
                    old[0].size());
            if (map.putIfAbsent(newId, moved) == null) {
                fire(new SessionEvent(SessionEvent.Type.ROTATED, newId, id));
                return Optional.of(moved.session());
            }
        }
    }

    @Override
    public Registration addListener(SessionListener listener) {
        Objects.requireNonNull(listener, "listener");
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public SessionSettings settings() {
        return settings;
    }

    /**
     * Runs Caffeine's pending maintenance now: removes expired sessions and delivers their
     * {@code EXPIRED} events.
     */
    public void cleanUp() {
        cache.cleanUp();
    }

    /** Approximate number of stored sessions (may include expired ones not yet cleaned up). */
    public long estimatedSize() {
        return cache.estimatedSize();
    }

    /** Removes every session (no events) and stops delivering events. */
    @Override
    public void close() {
        listeners.clear();
        cache.invalidateAll();
    }

    private boolean expired(Entry e, long now) {
        return e.deadline(absoluteNanos) - now <= 0;
    }

    /** Our own check found an expiry before Caffeine did (same deadline, boundary tick). */
    private void firedIfExpired(String id, boolean expiredNow) {
        if (expiredNow) {
            fire(new SessionEvent(SessionEvent.Type.EXPIRED, id, null));
        }
    }

    private Instant instant(long nanos) {
        return originInstant.plusNanos(nanos - originNanos);
    }

    private void fire(SessionEvent event) {
        for (SessionListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException ex) {
                log.warn("session listener {} failed on {}", l, event, ex);
            }
        }
    }

    private static long satAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Configures an {@link InMemorySessionStore}. */
    public static final class Builder {
        private SessionSettings settings = SessionSettings.defaults();
        private Ticker ticker = Ticker.system();
        private Instant origin;
        private long maximumSessions = DEFAULT_MAXIMUM_SESSIONS;
        private boolean sweeper;
        private final java.util.List<SessionListener> listeners = new java.util.ArrayList<>();

        private Builder() {
        }

        /** Timeouts and limits; default {@link SessionSettings#defaults()}. */
        public Builder settings(SessionSettings settings) {
            this.settings = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /** Source of time for expiry; default {@link Ticker#system()}. Tests pass a manual one. */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * The wall-clock instant that corresponds to the ticker's reading at {@link #build()};
         * default {@link Instant#now()}. Only the {@link Session} timestamps use it.
         */
        public Builder wallClockOrigin(Instant origin) {
            this.origin = Objects.requireNonNull(origin, "wallClockOrigin");
            return this;
        }

        /**
         * Most sessions held; beyond it Caffeine evicts by its size policy (W-TinyLFU) and the
         * evicted session is reported {@code EXPIRED}. Default {@value #DEFAULT_MAXIMUM_SESSIONS}.
         */
        public Builder maximumSessions(long maximumSessions) {
            if (maximumSessions < 1) {
                throw new IllegalArgumentException("maximumSessions must be >= 1, got " + maximumSessions);
            }
            this.maximumSessions = maximumSessions;
            return this;
        }

        /**
         * When true, Caffeine's system scheduler (a JVM-wide daemon thread) removes expired
         * sessions shortly after their deadline, so {@code EXPIRED} events arrive without further
         * traffic. Default false: expiry is noticed on access, during maintenance, or on
         * {@link InMemorySessionStore#cleanUp()}.
         */
        public Builder expirySweeper(boolean enabled) {
            this.sweeper = enabled;
            return this;
        }

        /** Adds a listener registered from the start. */
        public Builder listener(SessionListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        public InMemorySessionStore build() {
            return new InMemorySessionStore(this);
        }
    }
}
