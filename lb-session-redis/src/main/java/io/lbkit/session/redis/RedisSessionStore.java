package io.lbkit.session.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionEvent;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionJson;
import io.lbkit.session.SessionLimitException;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import io.lbkit.session.VersionConflictException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * A {@link SessionStore} in Redis through Redisson 4: standalone, Sentinel or Cluster.
 *
 * <p>Each session is one hash {@code <keyPrefix>{<id>}} ({@link SessionHash}: metadata fields
 * and one field {@code a:<name>} per attribute holding its JSON text). Every operation is one Lua
 * script (one round trip; two for a {@code MERGE} that the store cannot check against a cached
 * value, three for {@link #changeId}); data and TTL always change together. Events and near-cache
 * invalidations are published on the channel {@code <keyPrefix>events} from inside the same
 * scripts.
 *
 * <pre>{@code
 * try (RedisSessionStore store = RedisSessionStore.builder()
 *         .uri("redis://127.0.0.1:6379/0")
 *         .settings(SessionSettings.builder().idleTimeout(Duration.ofMinutes(30)).build())
 *         .nearCache(true)
 *         .build()) {
 *     Session s = store.create(Map.of());
 * }
 * }</pre>
 * See {@code docs/sessions.md} for every setting, the key layout and the failure behaviour.
 */
public final class RedisSessionStore implements SessionStore {

    /** Rounds of a save whose merge bases keep moving under concurrent writers. */
    private static final int MERGE_ATTEMPTS = 64;
    /** New ids tried when one is taken (a 192-bit collision: astronomically unlikely). */
    private static final int ID_ATTEMPTS = 3;

    private final RedissonClient client;
    private final boolean ownsClient;
    private final SessionSettings settings;
    private final String keyPrefix;
    private final RedisScripts scripts;
    private final NearCache nearCache;
    private final EventChannel events;
    private volatile boolean closed;

    /**
     * What the builder decided besides the client and the near cache.
     *
     * @param database the database whose keyspace notifications carry expiries
     */
    record Options(SessionSettings settings, String keyPrefix, int database, boolean expiredEvents,
                   boolean configureKeyspaceNotifications) {
    }

    RedisSessionStore(RedissonClient client, boolean ownsClient, Options options, NearCache nearCache) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.settings = options.settings();
        this.keyPrefix = options.keyPrefix();
        this.scripts = new RedisScripts(client);
        this.nearCache = nearCache;
        this.events = new EventChannel(client, keyPrefix, nearCache);
        try {
            if (nearCache != null) {
                events.subscribe();
            }
            if (options.configureKeyspaceNotifications()) {
                RedisClients.enableExpiredNotifications(client);
            }
            if (options.expiredEvents()) {
                events.subscribeExpired(options.database());
            }
        } catch (RuntimeException e) {
            if (ownsClient) {
                client.shutdown();
            }
            throw failure("subscribe to the session channel", e);
        }
        if (nearCache != null) {
            // subscribe() returns once subscribed; the status callback may run on another thread
            nearCache.setCoherent(true);
        }
    }

    /** A builder: the one way to make a store. */
    public static RedisSessionStoreBuilder builder() {
        return new RedisSessionStoreBuilder();
    }

    // ---------------------------------------------------------------- operations

    @Override
    public Session create(Map<String, JsonNode> attributes) {
        Objects.requireNonNull(attributes, "attributes");
        checkOpen();
        settings.checkLimits(attributes);
        List<Object> fields = newSessionFields(attributes);
        String token = token();
        for (int attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
            String id = SessionIds.generate();
            CreateArgs args = new CreateArgs(token, events.name(), events.message(SessionEvent.Type.CREATED, id, null),
                    settings.absoluteTimeout(), fields);
            long stamp = stamp(id);
            ScriptReply reply = call("create", () -> scripts.create(keyOf(id), args));
            switch (reply.status()) {
                case OK -> {
                    Session s = decodeWritten(id, reply.hash());
                    cache(id, s, stamp, reply.hash());
                    events.fire(new SessionEvent(SessionEvent.Type.CREATED, id, null));
                    return s;
                }
                case GONE -> throw new IllegalStateException("absoluteTimeout expired the session at creation");
                case EXISTS -> {
                    // the id is taken: take another
                }
                default -> throw new SessionStoreException("unexpected reply from the create script");
            }
        }
        throw new SessionStoreException("could not find a free session id after " + ID_ATTEMPTS + " attempts");
    }

    /** The fields of a new session: max inactive, version 1, attributes, their count and size. */
    private List<Object> newSessionFields(Map<String, JsonNode> attributes) {
        List<Object> fields = new ArrayList<>(8 + 2 * attributes.size());
        fields.add(SessionHash.IDLE);
        fields.add(Long.toString(settings.idleTimeout().toMillis()));
        fields.add(SessionHash.VERSION);
        fields.add("1");
        long size = 0;
        for (Map.Entry<String, JsonNode> e : attributes.entrySet()) {
            String text = SessionJson.write(e.getValue());
            fields.add(SessionHash.attributeField(e.getKey()));
            fields.add(text);
            size += SessionJson.nameSize(e.getKey()) + utf8Length(text);
        }
        fields.add(SessionHash.COUNT);
        fields.add(Integer.toString(attributes.size()));
        fields.add(SessionHash.SIZE);
        fields.add(Long.toString(size));
        return fields;
    }

    @Override
    public Optional<Session> load(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return Optional.empty();
        }
        checkOpen();
        if (nearCache == null) {
            return loadFromHash(id);
        }
        NearCache.Entry e = nearCache.get(id);
        if (e != null) {
            if (nearCache.claimTouch(e)) {
                touchAsync(id);
            }
            return Optional.of(e.session);
        }
        // the load script slides the session now, so the copy cached below carries the real
        // access time its local deadline is computed from (hits are served locally anyway)
        long stamp = stamp(id);
        List<Object> hash = call("load", () -> scripts.load(keyOf(id)));
        if (hash == null || hash.isEmpty()) {
            return Optional.empty();
        }
        Session s = SessionHash.decode(id, hash);
        if (s != null) {
            cache(id, s, stamp, hash);
        }
        return Optional.ofNullable(s);
    }

    /**
     * A plain HGETALL: Redis's own TTL (idle, capped by the absolute expiry at every write)
     * already hides an expired session; the access time and TTL slide by an asynchronous touch
     * when the last one is older than a tenth of the idle timeout, as on a near-cache hit.
     */
    private Optional<Session> loadFromHash(String id) {
        Map<String, String> hash = call("load", () -> client.<String, String>getMap(keyOf(id), StringCodec.INSTANCE)
                .readAllMapAsync());
        if (hash == null || hash.isEmpty()) {
            return Optional.empty();
        }
        Session s = SessionHash.decode(id, SessionHash.flat(hash));
        if (s != null && touchDue(hash.get(SessionHash.ACCESSED), hash.get(SessionHash.IDLE))) {
            touchAsync(id);
        }
        return Optional.ofNullable(s);
    }

    /**
     * Whether a load should slide the session: its last access (Redis time) is a tenth of the
     * idle timeout old, or lies in this host's future (a clock behind Redis's: touching on every
     * load is then the safe side).
     */
    private static boolean touchDue(String accessed, String idle) {
        try {
            long since = System.currentTimeMillis() - Long.parseLong(accessed);
            return since < 0 || since >= Math.max(1, Long.parseLong(idle) / 10);
        } catch (NumberFormatException | NullPointerException e) {
            return true;
        }
    }

    @Override
    public Optional<Session> save(String id, SessionChanges changes) {
        Objects.requireNonNull(changes, "changes");
        if (!SessionIds.isWellFormed(id)) {
            return Optional.empty();
        }
        checkOpen();
        return Optional.ofNullable((Session) write(id, changes, true));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The save script then answers the new version instead of the whole session: reading a
     * hash back inside a script is most of the script's server time for a session of a few
     * attributes (Redis converts every field to Lua and back), and the reply is most of what the
     * client decodes. With a near cache this is a full {@link #save}: the cached copy is refreshed
     * from what the server holds.
     */
    @Override
    public OptionalLong update(String id, SessionChanges changes) {
        Objects.requireNonNull(changes, "changes");
        if (!SessionIds.isWellFormed(id)) {
            return OptionalLong.empty();
        }
        checkOpen();
        Object r = write(id, changes, nearCache != null);
        if (r == null) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(r instanceof Session s ? s.version() : (Long) r);
    }

    /** Runs {@link #update} on the calling thread (as this store's other async methods do). */
    @Override
    public CompletionStage<OptionalLong> updateAsync(String id, SessionChanges changes) {
        try {
            return CompletableFuture.completedFuture(update(id, changes));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Runs the save script until it applies: the session after the change ({@code readBack}) or
     * its version; null when the session is gone. A round whose merge bases moved learns the
     * current ones and tries again.
     */
    private Object write(String id, SessionChanges changes, boolean readBack) {
        AttributeWrites writes = AttributeWrites.of(changes);
        Map<String, String> mergeBases = cachedMergeBases(id, writes);
        boolean publish = !writes.isEmpty() || changes.maxInactiveInterval() != null;
        String message = publish ? events.message(SessionEvent.Type.UPDATED, id, null) : "";
        String token = token();
        for (int attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
            SaveArgs args = new SaveArgs(token, changes.expectedVersion(), changes.maxInactiveInterval(),
                    settings.maxAttributes(), settings.maxSessionBytes(), events.name(), message, readBack,
                    writes.fieldWrites(mergeBases));
            long stamp = stamp(id);
            ScriptReply reply = call("save", () -> scripts.save(keyOf(id), args));
            switch (reply.status()) {
                case OK -> {
                    return saved(id, reply, readBack, publish, stamp);
                }
                case GONE -> {
                    forget(id);
                    return null;
                }
                case CONFLICT -> {
                    forget(id);
                    throw new VersionConflictException(changes.expectedVersion().getAsLong(), reply.number());
                }
                case LIMIT -> throw overLimit(reply);
                case MERGE -> {
                    mergeBases.putAll(reply.currentTexts());
                    mergeBackoff(attempt);
                }
                default -> throw new SessionStoreException("unexpected reply from the save script");
            }
        }
        throw new SessionStoreException("merge kept conflicting with concurrent writers after "
                + MERGE_ATTEMPTS + " attempts");
    }

    /** The stored texts of the merged attributes, when the near cache holds the session. */
    private Map<String, String> cachedMergeBases(String id, AttributeWrites writes) {
        Map<String, String> bases = new LinkedHashMap<>();
        List<String> merged = writes.mergedNames();
        NearCache.Entry e = nearCache == null || merged.isEmpty() ? null : nearCache.get(id);
        if (e != null) {
            for (String name : merged) {
                JsonNode current = e.session.attribute(name);
                bases.put(SessionHash.attributeField(name), current == null ? "" : SessionJson.write(current));
            }
        }
        return bases;
    }

    /** An applied save: caches and fires; answers the session (read back) or the version. */
    private Object saved(String id, ScriptReply reply, boolean readBack, boolean publish, long stamp) {
        if (!readBack) {
            if (publish) {
                events.fire(new SessionEvent(SessionEvent.Type.UPDATED, id, null));
            }
            return reply.number();
        }
        Session s = SessionHash.decode(id, reply.hash());
        if (s == null) {
            forget(id);
        } else {
            cache(id, s, stamp, reply.hash());
            if (publish) {
                events.fire(new SessionEvent(SessionEvent.Type.UPDATED, id, null));
            }
        }
        return s;
    }

    private SessionLimitException overLimit(ScriptReply reply) {
        return new SessionLimitException("count".equals(reply.limitName())
                ? "session would have " + reply.number() + " attributes, more than maxAttributes="
                        + settings.maxAttributes()
                : "session attributes would take " + reply.number() + " bytes as JSON, more than maxSessionBytes="
                        + settings.maxSessionBytes());
    }

    /**
     * After a lost merge race, waits a random time that grows with the attempt (up to ~3 ms), so
     * that writers contending for one attribute spread out instead of colliding again at once.
     */
    private static void mergeBackoff(int attempt) {
        if (attempt >= 2) {
            long bound = 50_000L << Math.min(attempt - 2, 6);
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(bound));
        }
    }

    @Override
    public boolean delete(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return false;
        }
        checkOpen();
        forget(id);
        Long n = call("delete", () -> scripts.delete(keyOf(id), events.name(),
                events.message(SessionEvent.Type.DELETED, id, null)));
        forget(id);
        boolean existed = n != null && n == 1L;
        if (existed) {
            events.fire(new SessionEvent(SessionEvent.Type.DELETED, id, null));
        }
        return existed;
    }

    @Override
    public Optional<Session> changeId(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return Optional.empty();
        }
        checkOpen();
        forget(id);
        // 1: read the old session (slides it too)
        List<Object> hash = call("changeId", () -> scripts.load(keyOf(id)));
        if (hash == null || hash.isEmpty() || SessionHash.decode(id, hash) == null) {
            return Optional.empty();
        }
        List<Object> fields = new ArrayList<>(hash.size());
        for (int i = 0; i + 1 < hash.size(); i += 2) {
            Object f = hash.get(i);
            if (!SessionHash.ACCESSED.equals(f) && !SessionHash.TOKEN.equals(f)) {
                fields.add(f);
                fields.add(hash.get(i + 1));
            }
        }
        // 2: write it under a new id (different slot in Cluster: no RENAME), 3: drop the old one
        String token = token();
        for (int attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
            String newId = SessionIds.generate();
            CreateArgs args = new CreateArgs(token, events.name(), "", null, fields);
            long stamp = stamp(newId);
            ScriptReply reply = call("changeId", () -> scripts.create(keyOf(newId), args));
            switch (reply.status()) {
                case OK -> {
                    Session s = decodeWritten(newId, reply.hash());
                    call("changeId", () -> scripts.delete(keyOf(id), events.name(),
                            events.message(SessionEvent.Type.ROTATED, newId, id)));
                    forget(id);
                    cache(newId, s, stamp, reply.hash());
                    events.fire(new SessionEvent(SessionEvent.Type.ROTATED, newId, id));
                    return Optional.of(s);
                }
                case GONE -> {
                    call("changeId", () -> scripts.delete(keyOf(id), events.name(),
                            events.message(SessionEvent.Type.DELETED, id, null)));
                    return Optional.empty();
                }
                case EXISTS -> {
                    // the id is taken: take another
                }
                default -> throw new SessionStoreException("unexpected reply from the create script");
            }
        }
        throw new SessionStoreException("could not find a free session id after " + ID_ATTEMPTS + " attempts");
    }

    @Override
    public Registration addListener(SessionListener listener) {
        Objects.requireNonNull(listener, "listener");
        checkOpen();
        try {
            return events.addListener(listener);
        } catch (IllegalStateException e) {
            throw e; // closed meanwhile
        } catch (RuntimeException e) {
            throw failure("subscribe to the session channel", e);
        }
    }

    @Override
    public SessionSettings settings() {
        return settings;
    }

    /** Whether this store keeps a near cache. */
    public boolean hasNearCache() {
        return nearCache != null;
    }

    /**
     * Whether a near-cached copy of {@code id} would be served right now without a round trip
     * (diagnostics and tests; never touches Redis).
     */
    public boolean isNearCached(String id) {
        return nearCache != null && id != null && nearCache.get(id) != null;
    }

    /** The Redis key of a session id (for tools and tests; ids are not validated). */
    public String keyOf(String id) {
        return keyPrefix + "{" + id + "}";
    }

    /** The pub/sub channel carrying this store's events and invalidations. */
    public String channel() {
        return events.name();
    }

    /** The event side of this store (tests reach its subscription through this). */
    EventChannel events() {
        return events;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (nearCache != null) {
            nearCache.setCoherent(false);
        }
        events.close();
        if (ownsClient) {
            client.shutdown();
        }
    }

    // ---------------------------------------------------------------- internals

    private void touchAsync(String id) {
        scripts.touch(keyOf(id)).whenComplete((n, e) -> {
            if (e != null || n == null || n != 1L) {
                // gone, expired or Redis failing: stop serving the cached copy
                forget(id);
            }
        });
    }

    /** The near cache's stamp of {@code id} before a round trip (0 without a near cache). */
    private long stamp(String id) {
        return nearCache == null ? 0 : nearCache.stamp(id);
    }

    private void cache(String id, Session s, long stamp, List<Object> hash) {
        if (nearCache == null) {
            return;
        }
        long absRemaining = Long.MAX_VALUE;
        String x = SessionHash.get(hash, SessionHash.ABSOLUTE_EXPIRY);
        if (x != null) {
            try {
                absRemaining = Math.multiplyExact(Long.parseLong(x) - s.lastAccessedTime().toEpochMilli(), 1_000_000L);
            } catch (ArithmeticException | NumberFormatException e) {
                return;
            }
        }
        nearCache.put(id, s, stamp, absRemaining);
    }

    /** Drops {@code id} from the near cache. */
    private void forget(String id) {
        if (nearCache != null) {
            nearCache.invalidate(id);
        }
    }

    private static Session decodeWritten(String id, List<Object> hash) {
        Session s = SessionHash.decode(id, hash);
        if (s == null) {
            throw new SessionStoreException("the session just written does not decode");
        }
        return s;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String token() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("session store is closed");
        }
    }

    /** Sends a command and waits for its reply; a failure of Redis becomes a {@link SessionStoreException}. */
    private <T> T call(String op, Supplier<? extends CompletionStage<T>> command) {
        try {
            return command.get().toCompletableFuture().join();
        } catch (CompletionException e) {
            throw mapped(op, e.getCause());
        } catch (RuntimeException e) {
            throw mapped(op, e);
        }
    }

    private RuntimeException mapped(String op, Throwable e) {
        if (e instanceof SessionStoreException s) {
            return s;
        }
        if (nearCache != null) {
            // Redis trouble may mean missed invalidations: serve nothing cached from before
            nearCache.clear();
        }
        return failure(op, e);
    }

    static SessionStoreException failure(String op, Throwable e) {
        // Redisson's messages can quote command arguments (ids, data): only the type goes out
        return new SessionStoreException("Redis " + op + " failed (" + e.getClass().getSimpleName() + ")");
    }
}
