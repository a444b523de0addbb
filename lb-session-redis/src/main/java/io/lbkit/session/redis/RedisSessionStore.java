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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.redisson.api.RPatternTopic;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.api.listener.StatusListener;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SessionStore} in Redis through Redisson 4: standalone, Sentinel or Cluster.
 *
 * <p>Each session is one hash {@code <keyPrefix>{<id>}} (the braces are a Cluster hash tag, so
 * every key of a session stays in one slot) holding metadata fields ({@code #c} creation,
 * {@code #a} last access, {@code #i} max inactive, {@code #v} version, {@code #x} absolute
 * expiry, {@code #n}/{@code #s} attribute count and size, {@code #t} last write token) and one
 * field {@code a:<name>} per attribute holding its JSON text. Every operation is one Lua script
 * (one round trip; two for a {@code MERGE} that the store cannot check against a cached value,
 * three for {@link #changeId}); data and TTL always change together. Events and near-cache
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

    private static final Logger LOG = LoggerFactory.getLogger(RedisSessionStore.class);
    private static final String ATTR = "a:";
    private static final int MERGE_ATTEMPTS = 64;

    private final RedissonClient client;
    private final boolean ownsClient;
    private final SessionSettings settings;
    private final String keyPrefix;
    private final String channel;
    private final String origin;
    private final RedisScripts scripts;
    private final NearCache nearCache;
    private final List<SessionListener> listeners = new CopyOnWriteArrayList<>();
    private final RTopic topic;
    // the event channel is subscribed to only when something here uses it: a near cache (from
    // the start) or a listener (from the first addListener); guarded by this
    private int topicListenerId = -1;
    private int topicStatusId = -1;
    private final RPatternTopic expiredTopic;
    private final int expiredListenerId;
    private volatile boolean closed;

    /**
     * What the builder decided besides the client and the near cache.
     *
     * @param database the database whose keyspace notifications carry expiries
     */
    record Options(SessionSettings settings, String keyPrefix, int database, boolean expiredEvents,
                   boolean configureKeyspaceNotifications) {
    }

    RedisSessionStore(RedissonClient client, boolean ownsClient, Options b, NearCache nearCache) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.settings = b.settings();
        this.keyPrefix = b.keyPrefix();
        this.channel = b.keyPrefix() + "events";
        this.origin = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        this.scripts = new RedisScripts(client);
        this.nearCache = nearCache;
        this.topic = client.getTopic(channel, StringCodec.INSTANCE);
        try {
            if (nearCache != null) {
                subscribe();
            }
            if (b.configureKeyspaceNotifications()) {
                RedisClients.enableExpiredNotifications(client);
            }
            if (b.expiredEvents()) {
                this.expiredTopic = client.getPatternTopic("__keyevent@" + b.database() + "__:expired",
                        StringCodec.INSTANCE);
                this.expiredListenerId = expiredTopic.addListener(String.class, (pattern, ch, key) -> onExpired(key));
            } else {
                this.expiredTopic = null;
                this.expiredListenerId = -1;
            }
        } catch (RuntimeException e) {
            if (ownsClient) {
                client.shutdown();
            }
            throw failure("subscribe to the session channel", e);
        }
        if (nearCache != null) {
            // addListener returns once subscribed; the status callback may run on another thread
            nearCache.setCoherent(true);
        }
    }

    /**
     * Subscribes to the event channel once. A store without a near cache and without listeners
     * needs none of the messages (its own saves included), so it does not subscribe at all.
     */
    synchronized void subscribe() { // package-private for a test of the close race
        if (topicListenerId != -1) {
            return;
        }
        if (closed) {
            // close() removes the listeners under this lock: subscribing after it would leave a
            // subscription behind on a client this store does not own
            throw new IllegalStateException("session store is closed");
        }
        topicStatusId = topic.addListener(new StatusListener() {
            @Override
            public void onSubscribe(String ch) {
                if (nearCache != null) {
                    // first subscription or a resubscription after a reconnect: anything
                    // cached may have missed invalidations
                    nearCache.setCoherent(true);
                }
            }

            @Override
            public void onUnsubscribe(String ch) {
                if (nearCache != null) {
                    nearCache.setCoherent(false);
                }
            }
        });
        topicListenerId = topic.addListener(String.class, (ch, msg) -> onMessage(msg));
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
        List<Object> args = new ArrayList<>(8 + 2 * attributes.size());
        String token = token();
        long size = 0;
        args.add(token);
        args.add(channel);
        args.add(null); // message, set per id
        args.add(settings.absoluteTimeout() == null ? "" : Long.toString(settings.absoluteTimeout().toMillis()));
        args.add("#i");
        args.add(Long.toString(settings.idleTimeout().toMillis()));
        args.add("#v");
        args.add("1");
        for (Map.Entry<String, JsonNode> e : attributes.entrySet()) {
            String text = SessionJson.write(e.getValue());
            args.add(ATTR + e.getKey());
            args.add(text);
            size += SessionJson.nameSize(e.getKey()) + utf8Length(text);
        }
        args.add("#n");
        args.add(Integer.toString(attributes.size()));
        args.add("#s");
        args.add(Long.toString(size));
        for (int attempt = 0; attempt < 3; attempt++) {
            String id = SessionIds.generate();
            args.set(2, message('C', id, null));
            long stamp = nearCache == null ? 0 : nearCache.stamp(id);
            List<Object> r = call("create", () -> scripts.create(hashSlot(id), keys(id), args.toArray()));
            String status = (String) r.get(0);
            if ("ok".equals(status)) {
                Session s = decodeOrThrow(id, r.get(1));
                cache(id, s, stamp, r.get(1));
                fire(new SessionEvent(SessionEvent.Type.CREATED, id, null));
                return s;
            }
            if ("gone".equals(status)) {
                throw new IllegalStateException("absoluteTimeout expired the session at creation");
            }
            // "exists": a 192-bit collision, astronomically unlikely; take another id
        }
        throw new SessionStoreException("could not find a free session id after 3 attempts");
    }

    @Override
    public Optional<Session> load(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return Optional.empty();
        }
        checkOpen();
        if (nearCache != null) {
            NearCache.Entry e = nearCache.get(id);
            if (e != null) {
                if (nearCache.claimTouch(e)) {
                    touchAsync(id);
                }
                return Optional.of(e.session);
            }
        }
        if (nearCache != null) {
            // the load script slides the session now, so the copy cached below carries the real
            // access time its local deadline is computed from (hits are served locally anyway)
            long stamp = nearCache.stamp(id);
            List<Object> r = call("load", () -> scripts.load(hashSlot(id), keys(id), "0"));
            if (r == null || r.isEmpty()) {
                return Optional.empty();
            }
            Session s = decode(id, r);
            if (s != null) {
                cache(id, s, stamp, r);
            }
            return Optional.ofNullable(s);
        }
        // a plain HGETALL: Redis's own TTL (idle, capped by the absolute expiry at every write)
        // already hides an expired session; the access time and TTL slide by an asynchronous
        // touch when the last one is older than a tenth of the idle timeout, as on a near-cache hit
        Map<String, String> all = call("load", () -> client.<String, String>getMap(keyOf(id), StringCodec.INSTANCE)
                .readAllMap());
        if (all == null || all.isEmpty()) {
            return Optional.empty();
        }
        List<Object> r = new ArrayList<>(all.size() * 2);
        all.forEach((f, v) -> {
            r.add(f);
            r.add(v);
        });
        Session s = decode(id, r);
        if (s != null && touchDue(all.get("#a"), all.get("#i"))) {
            touchAsync(id);
        }
        return Optional.ofNullable(s);
    }

    /**
     * Whether a load should slide the session: its last access ({@code #a}, Redis time) is a
     * tenth of the idle timeout old, or lies in this host's future (a clock behind Redis's:
     * touching on every load is then the safe side).
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
    public java.util.concurrent.CompletionStage<OptionalLong> updateAsync(String id, SessionChanges changes) {
        try {
            return java.util.concurrent.CompletableFuture.completedFuture(update(id, changes));
        } catch (RuntimeException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }

    /** Runs the save script: the session after the change ({@code readBack}) or its version; null when gone. */
    private Object write(String id, SessionChanges changes, boolean readBack) {
        Map<String, PendingChange> ops = collapse(changes);
        // merge bases: from the near cache when it holds the session, else probe in the script
        Map<String, String> known = new LinkedHashMap<>();
        if (nearCache != null && ops.values().stream().anyMatch(p -> p.merges != null)) {
            NearCache.Entry e = nearCache.get(id);
            if (e != null) {
                for (PendingChange p : ops.values()) {
                    if (p.merges != null) {
                        JsonNode cur = e.session.attribute(p.name);
                        known.put(ATTR + p.name, cur == null ? "" : SessionJson.write(cur));
                    }
                }
            }
        }
        boolean anyAttribute = !ops.isEmpty();
        boolean publish = anyAttribute || changes.maxInactiveInterval() != null;
        String message = publish ? message('U', id, null) : "";
        String token = token();
        for (int attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
            List<Object> args = new ArrayList<>(9 + 5 * ops.size());
            args.add(token);
            args.add(changes.expectedVersion().isPresent() ? Long.toString(changes.expectedVersion().getAsLong()) : "");
            args.add(changes.maxInactiveInterval() == null ? "" : Long.toString(changes.maxInactiveInterval().toMillis()));
            args.add(Integer.toString(settings.maxAttributes()));
            args.add(Integer.toString(settings.maxSessionBytes()));
            args.add(channel);
            args.add(message);
            args.add(Integer.toString(ops.size()));
            args.add(readBack ? "1" : "0");
            for (PendingChange p : ops.values()) {
                String field = ATTR + p.name;
                String cost = Integer.toString(SessionJson.nameSize(p.name));
                if (p.merges == null) {
                    args.add(p.value == null ? "R" : "S");
                    args.add(field);
                    args.add(p.value == null ? "" : SessionJson.write(p.value));
                    args.add("");
                } else if (known.containsKey(field)) {
                    String old = known.get(field);
                    // a stored text that does not parse cannot be merged into: the merge replaces it
                    JsonNode merged = old.isEmpty() ? null : parse(old);
                    for (SessionChanges.AttributeChange merge : p.merges) {
                        merged = merge.applyTo(merged);
                    }
                    args.add("M");
                    args.add(field);
                    args.add(SessionJson.write(merged));
                    args.add(old);
                } else {
                    args.add("P");
                    args.add(field);
                    args.add("");
                    args.add("");
                }
                args.add(cost);
            }
            long stamp = nearCache == null ? 0 : nearCache.stamp(id);
            List<Object> r = call("save", () -> scripts.save(hashSlot(id), keys(id), args.toArray()));
            String status = (String) r.get(0);
            switch (status) {
                case "ok" -> {
                    if (!readBack) {
                        if (publish) {
                            fire(new SessionEvent(SessionEvent.Type.UPDATED, id, null));
                        }
                        return Long.parseLong((String) r.get(1));
                    }
                    Session s = decode(id, r.get(1));
                    if (nearCache != null) {
                        if (s == null) {
                            nearCache.invalidate(id);
                        } else {
                            cache(id, s, stamp, r.get(1));
                        }
                    }
                    if (publish && s != null) {
                        fire(new SessionEvent(SessionEvent.Type.UPDATED, id, null));
                    }
                    return s;
                }
                case "gone" -> {
                    if (nearCache != null) {
                        nearCache.invalidate(id);
                    }
                    return null;
                }
                case "conflict" -> {
                    if (nearCache != null) {
                        nearCache.invalidate(id);
                    }
                    throw new VersionConflictException(changes.expectedVersion().getAsLong(),
                            Long.parseLong((String) r.get(1)));
                }
                case "limit" -> throw new SessionLimitException("count".equals(r.get(1))
                        ? "session would have " + r.get(2) + " attributes, more than maxAttributes="
                                + settings.maxAttributes()
                        : "session attributes would take " + r.get(2) + " bytes as JSON, more than maxSessionBytes="
                                + settings.maxSessionBytes());
                case "merge" -> {
                    @SuppressWarnings("unchecked")
                    List<Object> stale = (List<Object>) r.get(1);
                    for (int i = 0; i + 1 < stale.size(); i += 2) {
                        known.put((String) stale.get(i), (String) stale.get(i + 1));
                    }
                    mergeBackoff(attempt);
                }
                default -> throw new SessionStoreException("unexpected reply from the save script");
            }
        }
        throw new SessionStoreException("merge kept conflicting with concurrent writers after "
                + MERGE_ATTEMPTS + " attempts");
    }

    /**
     * After a lost merge race, waits a random time that grows with the attempt (up to ~3 ms), so
     * that writers contending for one attribute spread out instead of colliding again at once.
     */
    private static void mergeBackoff(int attempt) {
        if (attempt >= 2) {
            long bound = 50_000L << Math.min(attempt - 2, 6);
            java.util.concurrent.locks.LockSupport.parkNanos(
                    java.util.concurrent.ThreadLocalRandom.current().nextLong(bound));
        }
    }

    @Override
    public boolean delete(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return false;
        }
        checkOpen();
        if (nearCache != null) {
            nearCache.invalidate(id);
        }
        Long n = call("delete", () -> scripts.delete(hashSlot(id), keys(id), channel, message('D', id, null)));
        if (nearCache != null) {
            nearCache.invalidate(id);
        }
        boolean existed = n != null && n == 1L;
        if (existed) {
            fire(new SessionEvent(SessionEvent.Type.DELETED, id, null));
        }
        return existed;
    }

    @Override
    public Optional<Session> changeId(String id) {
        if (!SessionIds.isWellFormed(id)) {
            return Optional.empty();
        }
        checkOpen();
        if (nearCache != null) {
            nearCache.invalidate(id);
        }
        // 1: read the old session (slides it too)
        List<Object> r = call("changeId", () -> scripts.load(hashSlot(id), keys(id), "0"));
        if (r == null || r.isEmpty() || decode(id, r) == null) {
            return Optional.empty();
        }
        List<Object> copy = new ArrayList<>(r.size() + 4);
        for (int i = 0; i + 1 < r.size(); i += 2) {
            String f = (String) r.get(i);
            if (!"#a".equals(f) && !"#t".equals(f)) {
                copy.add(f);
                copy.add(r.get(i + 1));
            }
        }
        // 2: write it under a new id (different slot in Cluster: no RENAME), 3: drop the old one
        for (int attempt = 0; attempt < 3; attempt++) {
            String newId = SessionIds.generate();
            List<Object> args = new ArrayList<>(copy.size() + 4);
            args.add(token());
            args.add(channel);
            args.add("");
            args.add("");
            args.addAll(copy);
            long stamp = nearCache == null ? 0 : nearCache.stamp(newId);
            List<Object> c = call("changeId", () -> scripts.create(hashSlot(newId), keys(newId), args.toArray()));
            String status = (String) c.get(0);
            if ("exists".equals(status)) {
                continue;
            }
            if ("gone".equals(status)) {
                call("changeId", () -> scripts.delete(hashSlot(id), keys(id), channel, message('D', id, null)));
                return Optional.empty();
            }
            Session s = decodeOrThrow(newId, c.get(1));
            call("changeId", () -> scripts.delete(hashSlot(id), keys(id), channel, message('R', newId, id)));
            if (nearCache != null) {
                nearCache.invalidate(id);
                cache(newId, s, stamp, c.get(1));
            }
            fire(new SessionEvent(SessionEvent.Type.ROTATED, newId, id));
            return Optional.of(s);
        }
        throw new SessionStoreException("could not find a free session id after 3 attempts");
    }

    @Override
    public Registration addListener(SessionListener listener) {
        Objects.requireNonNull(listener, "listener");
        checkOpen();
        try {
            subscribe(); // events of other instances reach a listener only through the channel
        } catch (IllegalStateException e) {
            throw e; // closed meanwhile
        } catch (RuntimeException e) {
            throw failure("subscribe to the session channel", e);
        }
        listeners.add(listener);
        return () -> listeners.remove(listener);
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
        return channel;
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
        try {
            if (!client.isShutdown()) {
                synchronized (this) {
                    if (topicListenerId != -1) {
                        topic.removeListener(topicListenerId, topicStatusId);
                    }
                }
                if (expiredTopic != null) {
                    expiredTopic.removeListener(expiredListenerId);
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("removing session channel listeners failed: {}", e.getClass().getSimpleName());
        }
        if (ownsClient) {
            client.shutdown();
        }
    }

    // ---------------------------------------------------------------- internals

    /** One attribute's net change: SET (value), REMOVE (value null, merges null) or merges. */
    private static final class PendingChange {
        final String name;
        JsonNode value;
        List<SessionChanges.AttributeChange> merges;

        PendingChange(String name) {
            this.name = name;
        }
    }

    private static Map<String, PendingChange> collapse(SessionChanges changes) {
        Map<String, PendingChange> ops = new LinkedHashMap<>();
        for (SessionChanges.AttributeChange c : changes.changes()) {
            PendingChange p = ops.get(c.name());
            if (p == null) {
                p = new PendingChange(c.name());
                ops.put(c.name(), p);
                if (c.kind() == SessionChanges.AttributeChange.Kind.MERGE) {
                    p.merges = new ArrayList<>(2);
                    p.merges.add(c);
                    continue;
                }
            }
            switch (c.kind()) {
                case SET -> {
                    p.value = c.value();
                    p.merges = null;
                }
                case REMOVE -> {
                    p.value = null;
                    p.merges = null;
                }
                case MERGE -> {
                    if (p.merges != null) {
                        p.merges.add(c);
                    } else {
                        // after a SET or REMOVE of the same name the base is known: no round trip
                        p.value = c.applyTo(p.value);
                    }
                }
                default -> throw new AssertionError(c.kind());
            }
        }
        return ops;
    }

    private void touchAsync(String id) {
        String key = keyOf(id);
        scripts.touchAsync(hashSlot(id), List.of(key)).whenComplete((n, e) -> {
            if ((e != null || n == null || n != 1L) && nearCache != null) {
                // gone, expired or Redis failing: stop serving the cached copy
                nearCache.invalidate(id);
            }
        });
    }

    private void cache(String id, Session s, long stamp, Object raw) {
        if (nearCache == null) {
            return;
        }
        long absRemaining = Long.MAX_VALUE;
        String x = field(raw, "#x");
        if (x != null) {
            try {
                absRemaining = Math.multiplyExact(Long.parseLong(x) - s.lastAccessedTime().toEpochMilli(), 1_000_000L);
            } catch (ArithmeticException | NumberFormatException e) {
                return;
            }
        }
        nearCache.put(id, s, stamp, absRemaining);
    }

    private static String field(Object raw, String name) {
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) raw;
        for (int i = 0; i + 1 < l.size(); i += 2) {
            if (name.equals(l.get(i))) {
                return (String) l.get(i + 1);
            }
        }
        return null;
    }

    private void onMessage(String msg) {
        // T|origin|id|previous
        String[] p = msg.split("\\|", -1);
        if (p.length != 4 || p[0].length() != 1 || !SessionIds.isWellFormed(p[2])) {
            return;
        }
        if (origin.equals(p[1])) {
            return; // our own write: already applied to our near cache, events already fired
        }
        String id = p[2];
        String prev = p[3].isEmpty() ? null : p[3];
        if (nearCache != null) {
            nearCache.invalidate(id);
            if (prev != null) {
                nearCache.invalidate(prev);
            }
        }
        SessionEvent.Type type = switch (p[0].charAt(0)) {
            case 'C' -> SessionEvent.Type.CREATED;
            case 'U' -> SessionEvent.Type.UPDATED;
            case 'D' -> SessionEvent.Type.DELETED;
            case 'R' -> SessionEvent.Type.ROTATED;
            default -> null;
        };
        if (type != null && (type != SessionEvent.Type.ROTATED || prev != null)) {
            fire(new SessionEvent(type, id, prev));
        }
    }

    private void onExpired(String key) {
        if (key == null || !key.startsWith(keyPrefix + "{") || !key.endsWith("}")) {
            return;
        }
        String id = key.substring(keyPrefix.length() + 1, key.length() - 1);
        if (!SessionIds.isWellFormed(id)) {
            return;
        }
        if (nearCache != null) {
            nearCache.invalidate(id);
        }
        fire(new SessionEvent(SessionEvent.Type.EXPIRED, id, null));
    }

    private void fire(SessionEvent event) {
        for (SessionListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("session listener {} failed on {}: {}", l.getClass().getName(), event, e.toString());
            }
        }
    }

    private String message(char type, String id, String previous) {
        return type + "|" + origin + "|" + id + "|" + (previous == null ? "" : previous);
    }

    private List<Object> keys(String id) {
        return Collections.singletonList(keyOf(id));
    }

    /** Routing key for Redisson: the session key itself (its hash tag picks the slot). */
    private String hashSlot(String id) {
        return keyOf(id);
    }

    private Session decodeOrThrow(String id, Object raw) {
        Session s = decode(id, raw);
        if (s == null) {
            throw new SessionStoreException("the session just written does not decode");
        }
        return s;
    }

    /** The session from a flat HGETALL reply, or null (logged) when it does not decode. */
    private Session decode(String id, Object raw) {
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) raw;
        Long created = null;
        Long accessed = null;
        Long inactive = null;
        Long version = null;
        Map<String, JsonNode> attributes = new LinkedHashMap<>();
        for (int i = 0; i + 1 < l.size(); i += 2) {
            String f = (String) l.get(i);
            String v = (String) l.get(i + 1);
            if (f.startsWith(ATTR)) {
                JsonNode node = parse(v);
                if (node == null) {
                    LOG.warn("session id#{}: attribute is not valid JSON; treating the session as absent",
                            SessionIds.logHash(id));
                    return null;
                }
                attributes.put(f.substring(ATTR.length()), node);
                continue;
            }
            try {
                switch (f) {
                    case "#c" -> created = Long.parseLong(v);
                    case "#a" -> accessed = Long.parseLong(v);
                    case "#i" -> inactive = Long.parseLong(v);
                    case "#v" -> version = Long.parseLong(v);
                    default -> {
                        // other metadata (#x, #n, #s, #t) or fields of a newer version: ignored
                    }
                }
            } catch (NumberFormatException e) {
                LOG.warn("session id#{}: metadata field {} is not a number; treating the session as absent",
                        SessionIds.logHash(id), f);
                return null;
            }
        }
        if (created == null || accessed == null || inactive == null || version == null) {
            LOG.warn("session id#{}: metadata is missing; treating the session as absent", SessionIds.logHash(id));
            return null;
        }
        return new Session(id, attributes, Instant.ofEpochMilli(created), Instant.ofEpochMilli(accessed),
                Duration.ofMillis(inactive), version);
    }

    /** The value of a stored attribute text, or null when it is not JSON. */
    private static JsonNode parse(String text) {
        try {
            return SessionJson.read(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
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

    private <T> T call(String op, java.util.function.Supplier<T> action) {
        try {
            return action.get();
        } catch (SessionStoreException | SessionLimitException | VersionConflictException e) {
            throw e;
        } catch (RuntimeException e) {
            if (nearCache != null) {
                // Redis trouble may mean missed invalidations: serve nothing cached from before
                nearCache.clear();
            }
            throw failure(op, e);
        }
    }

    static SessionStoreException failure(String op, Throwable e) {
        // Redisson's messages can quote command arguments (ids, data): only the type goes out
        return new SessionStoreException("Redis " + op + " failed (" + e.getClass().getSimpleName() + ")");
    }
}
