package io.lbkit.session.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionEvent;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
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
 * <p>Every operation runs on Redisson's asynchronous API. {@link #createAsync}, {@link #loadAsync},
 * {@link #saveAsync}, {@link #updateAsync} and {@link #deleteAsync} return without waiting for Redis,
 * with the results and exceptions of their blocking twins delivered through the stage; the blocking methods wait
 * for them. A stage completes on one of Redisson's I/O threads (a near-cache hit or a malformed id
 * at once, on the calling thread), so a callback attached without an executor runs there and must
 * not block, as a {@link SessionListener} must not; this store's own events are fired there too.
 * The blocking methods refuse to wait on such a thread ({@link SessionStoreException}), as
 * Redisson's own do.
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

    /** New ids tried when one is taken (a 192-bit collision: astronomically unlikely). */
    private static final int ID_ATTEMPTS = 3;

    private final RedissonClient client;
    private final boolean ownsClient;
    private final SessionSettings settings;
    private final String keyPrefix;
    private final RedisScripts scripts;
    private final NearCache nearCache;
    private final RedisCalls calls;
    private final EventChannel events;
    private final SessionSaves saves;
    private volatile boolean closed;

    /**
     * What the builder decided besides the client and the near cache.
     *
     * @param database the database whose keyspace notifications carry expiries
     */
    record Options(SessionSettings settings, String keyPrefix, int database, boolean expiredEvents,
                   boolean configureKeyspaceNotifications) {
    }

    /** @param nearCache {@link NearCache#disabled()} for a store without one */
    RedisSessionStore(RedissonClient client, boolean ownsClient, Options options, NearCache nearCache) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.settings = options.settings();
        this.keyPrefix = options.keyPrefix();
        this.scripts = new RedisScripts(client);
        this.nearCache = nearCache;
        this.calls = new RedisCalls(nearCache);
        this.events = new EventChannel(client, keyPrefix, nearCache);
        this.saves = new SessionSaves(scripts, settings, events, nearCache, calls, keyPrefix);
        try {
            if (nearCache.isEnabled()) {
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
            throw RedisCalls.failure("subscribe to the session channel", e);
        }
        // subscribe() returns once subscribed; the status callback may run on another thread
        nearCache.setCoherent(true);
    }

    /** A builder: the one way to make a store. */
    public static RedisSessionStoreBuilder builder() {
        return new RedisSessionStoreBuilder();
    }

    // ---------------------------------------------------------------- blocking operations

    @Override
    public Session create(Map<String, JsonNode> attributes) {
        return Futures.await("create", createAsync(attributes));
    }

    @Override
    public Optional<Session> load(String id) {
        return Futures.await("load", loadAsync(id));
    }

    @Override
    public Optional<Session> save(String id, SessionChanges changes) {
        return Futures.await("save", saveAsync(id, changes));
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
        return Futures.await("save", updateAsync(id, changes));
    }

    @Override
    public boolean delete(String id) {
        return Futures.await("delete", deleteAsync(id));
    }

    @Override
    public Optional<Session> changeId(String id) {
        return Futures.await("changeId", changeIdAsync(id));
    }

    // ---------------------------------------------------------------- asynchronous operations

    @Override
    public CompletionStage<Session> createAsync(Map<String, JsonNode> attributes) {
        return Futures.start(() -> {
            Objects.requireNonNull(attributes, "attributes");
            checkOpen();
            settings.checkLimits(attributes);
            List<Object> fields = SessionHash.newSession(settings, attributes);
            String token = token();
            return createUnderNewId("create", id -> new CreateArgs(token, events.name(),
                    events.message(SessionEvent.Type.CREATED, id, null), settings.absoluteTimeout(), fields))
                    .thenApply(created -> switch (created.reply().status()) {
                        case OK -> {
                            Session s = cacheCreated(created);
                            events.fire(new SessionEvent(SessionEvent.Type.CREATED, s.id(), null));
                            yield s;
                        }
                        case GONE -> throw new IllegalStateException("absoluteTimeout expired the session at creation");
                        default -> throw unexpectedReply("create");
                    });
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>A near-cache hit completes at once, on the calling thread.
     */
    @Override
    public CompletionStage<Optional<Session>> loadAsync(String id) {
        return Futures.start(() -> {
            if (!SessionIds.isWellFormed(id)) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            checkOpen();
            if (!nearCache.isEnabled()) {
                return loadFromHash(id);
            }
            NearCache.Entry e = nearCache.get(id);
            if (e != null) {
                if (nearCache.claimTouch(e)) {
                    touch(id);
                }
                return CompletableFuture.completedFuture(Optional.of(e.session));
            }
            // the load script slides the session now, so the copy cached below carries the real
            // access time its local deadline is computed from (hits are served locally anyway)
            long stamp = nearCache.stamp(id);
            return calls.call("load", () -> scripts.load(keyOf(id))).thenApply(hash -> {
                Session s = hash == null || hash.isEmpty() ? null : SessionHash.decode(id, hash);
                if (s != null) {
                    nearCache.put(id, s, stamp, SessionHash.absoluteRemainingNanos(hash, s));
                }
                return Optional.ofNullable(s);
            });
        });
    }

    /**
     * A plain HGETALL: Redis's own TTL (idle, capped by the absolute expiry at every write)
     * already hides an expired session; the access time and TTL slide by an asynchronous touch
     * when the last one is older than a tenth of the idle timeout, as on a near-cache hit.
     */
    private CompletableFuture<Optional<Session>> loadFromHash(String id) {
        return calls.call("load", () -> client.<String, String>getMap(keyOf(id), StringCodec.INSTANCE)
                .readAllMapAsync()).thenApply(hash -> {
                    if (hash == null || hash.isEmpty()) {
                        return Optional.empty();
                    }
                    Session s = SessionHash.decode(id, SessionHash.flat(hash));
                    if (s != null && SessionHash.touchDue(hash, System.currentTimeMillis())) {
                        touch(id);
                    }
                    return Optional.ofNullable(s);
                });
    }

    @Override
    public CompletionStage<Optional<Session>> saveAsync(String id, SessionChanges changes) {
        return Futures.start(() -> {
            Objects.requireNonNull(changes, "changes");
            if (!SessionIds.isWellFormed(id)) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            checkOpen();
            return saves.save(id, changes, true).thenApply(saved -> saved.map(SessionSaves.Saved::session));
        });
    }

    /** {@inheritDoc} What the script answers: see {@link #update}. */
    @Override
    public CompletionStage<OptionalLong> updateAsync(String id, SessionChanges changes) {
        return Futures.start(() -> {
            Objects.requireNonNull(changes, "changes");
            if (!SessionIds.isWellFormed(id)) {
                return CompletableFuture.completedFuture(OptionalLong.empty());
            }
            checkOpen();
            return saves.save(id, changes, nearCache.isEnabled()).thenApply(saved -> saved.isPresent()
                    ? OptionalLong.of(saved.get().version()) : OptionalLong.empty());
        });
    }

    @Override
    public CompletableFuture<Boolean> deleteAsync(String id) {
        return Futures.start(() -> {
            if (!SessionIds.isWellFormed(id)) {
                return CompletableFuture.completedFuture(false);
            }
            checkOpen();
            nearCache.invalidate(id);
            return calls.call("delete", () -> scripts.delete(keyOf(id), events.name(),
                    events.message(SessionEvent.Type.DELETED, id, null))).thenApply(n -> {
                        nearCache.invalidate(id);
                        boolean existed = n != null && n == 1L;
                        if (existed) {
                            events.fire(new SessionEvent(SessionEvent.Type.DELETED, id, null));
                        }
                        return existed;
                    });
        });
    }

    /** Reads the old session (sliding it), writes it under a new id, then drops the old one. */
    private CompletableFuture<Optional<Session>> changeIdAsync(String id) {
        return Futures.start(() -> {
            if (!SessionIds.isWellFormed(id)) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            checkOpen();
            nearCache.invalidate(id);
            return calls.call("changeId", () -> scripts.load(keyOf(id))).thenCompose(hash -> {
                if (hash == null || hash.isEmpty() || SessionHash.decode(id, hash) == null) {
                    return CompletableFuture.completedFuture(Optional.empty());
                }
                // a new key, in another slot in Cluster: no RENAME
                List<Object> fields = SessionHash.movedFields(hash);
                String token = token();
                return createUnderNewId("changeId", newId -> new CreateArgs(token, events.name(), "", null, fields))
                        .thenCompose(moved -> switch (moved.reply().status()) {
                            case OK -> dropRotated(id, cacheCreated(moved));
                            case GONE -> dropExpired(id);
                            default -> throw unexpectedReply("create");
                        });
            });
        });
    }

    /** Deletes the old id of a rotated session, announcing the rotation. */
    private CompletableFuture<Optional<Session>> dropRotated(String oldId, Session moved) {
        return calls.call("changeId", () -> scripts.delete(keyOf(oldId), events.name(),
                events.message(SessionEvent.Type.ROTATED, moved.id(), oldId))).thenApply(n -> {
                    nearCache.invalidate(oldId);
                    events.fire(new SessionEvent(SessionEvent.Type.ROTATED, moved.id(), oldId));
                    return Optional.of(moved);
                });
    }

    /** The moved copy was past its absolute expiry: the old session ends too. */
    private CompletableFuture<Optional<Session>> dropExpired(String oldId) {
        return calls.call("changeId", () -> scripts.delete(keyOf(oldId), events.name(),
                events.message(SessionEvent.Type.DELETED, oldId, null))).thenApply(n -> Optional.empty());
    }

    /** A create script's answer under a free id, with the near cache's stamp taken before it ran. */
    private record Created(String id, ScriptReply reply, long stamp) {
    }

    /** Runs the create script under new ids until one is free; answers OK or GONE. */
    private CompletableFuture<Created> createUnderNewId(String op, Function<String, CreateArgs> argsForId) {
        return createUnderNewId(op, argsForId, 0);
    }

    private CompletableFuture<Created> createUnderNewId(String op, Function<String, CreateArgs> argsForId,
                                                        int attempt) {
        if (attempt == ID_ATTEMPTS) {
            return CompletableFuture.failedFuture(new SessionStoreException(
                    "could not find a free session id after " + ID_ATTEMPTS + " attempts"));
        }
        String id = SessionIds.generate();
        CreateArgs args = argsForId.apply(id);
        long stamp = nearCache.stamp(id);
        return calls.call(op, () -> scripts.create(keyOf(id), args)).thenCompose(reply ->
                reply.status() == ScriptReply.Status.EXISTS
                        ? createUnderNewId(op, argsForId, attempt + 1)
                        : CompletableFuture.completedFuture(new Created(id, reply, stamp)));
    }

    /** The session a create script wrote, near-cached. */
    private Session cacheCreated(Created created) {
        List<Object> hash = created.reply().hash();
        Session s = SessionHash.decode(created.id(), hash);
        if (s == null) {
            throw new SessionStoreException("the session just written does not decode");
        }
        nearCache.put(s.id(), s, created.stamp(), SessionHash.absoluteRemainingNanos(hash, s));
        return s;
    }

    // ---------------------------------------------------------------- listeners, inspection, close

    @Override
    public Registration addListener(SessionListener listener) {
        Objects.requireNonNull(listener, "listener");
        checkOpen();
        try {
            return events.addListener(listener);
        } catch (IllegalStateException e) {
            throw e; // closed meanwhile
        } catch (RuntimeException e) {
            throw RedisCalls.failure("subscribe to the session channel", e);
        }
    }

    @Override
    public SessionSettings settings() {
        return settings;
    }

    /** Whether this store keeps a near cache. */
    public boolean hasNearCache() {
        return nearCache.isEnabled();
    }

    /**
     * Whether a near-cached copy of {@code id} would be served right now without a round trip
     * (diagnostics and tests; never touches Redis).
     */
    public boolean isNearCached(String id) {
        return id != null && nearCache.get(id) != null;
    }

    /** The Redis key of a session id (for tools and tests; ids are not validated). */
    public String keyOf(String id) {
        return SessionHash.key(keyPrefix, id);
    }

    /**
     * Whether Redis answers: PING on every node the store's client uses (the master, replicas and
     * sentinels, or every cluster node), each within {@code timeout}. False, never an exception,
     * when one does not answer or the store is closed. For health checks; no session is touched.
     *
     * @param timeout how long each node may take to answer
     * @return true when every node answered
     */
    public boolean ping(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        return !closed && RedisPing.all(client, timeout);
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
        nearCache.setCoherent(false);
        events.close();
        if (ownsClient) {
            client.shutdown();
        }
    }

    // ---------------------------------------------------------------- internals

    /** Slides the session in Redis without waiting; a failed touch drops the near-cached copy. */
    private void touch(String id) {
        scripts.touch(keyOf(id)).whenComplete((n, e) -> {
            if (e != null || n == null || n != 1L) {
                // gone, expired or Redis failing: stop serving the cached copy
                nearCache.invalidate(id);
            }
        });
    }

    private static SessionStoreException unexpectedReply(String script) {
        return new SessionStoreException("unexpected reply from the " + script + " script");
    }

    /** A write's token (128 random bits): a script that Redisson re-sends finds it and only answers. */
    static String token() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("session store is closed");
        }
    }
}
