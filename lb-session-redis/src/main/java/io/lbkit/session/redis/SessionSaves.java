package io.lbkit.session.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionEvent;
import io.lbkit.session.SessionJson;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStoreException;
import io.lbkit.session.VersionConflictException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The saves of a {@link RedisSessionStore}: {@link SessionChanges} applied by rounds of the save
 * script until one applies. Usually the first does; a round that merges into an attribute whose
 * stored text it did not know, or knew wrong (a concurrent writer changed it), learns the current
 * text from the script's answer and the next round merges into that. The merge bases of the first
 * round come from the near cache when it holds the session. No round waits on a thread.
 */
final class SessionSaves {

    /** Rounds of a save whose merge bases keep moving under concurrent writers. */
    static final int MERGE_ATTEMPTS = 64;

    /**
     * An applied save.
     *
     * @param session the session after it, when the script read it back; else {@code null}
     * @param version its version after it
     */
    record Saved(Session session, long version) {
    }

    /**
     * What does not change between the rounds of one save.
     *
     * @param mergeBases attribute field to its stored text, for merges; grows with every round
     * @param message    the update event the script publishes ({@code ""}: none, nothing that
     *                   others must see changed)
     * @param token      the save's token: a round that Redisson re-sends after a timeout is a no-op
     */
    private record Request(String id, SessionChanges changes, AttributeWrites writes, Map<String, String> mergeBases,
                           boolean readBack, String message, String token) {
    }

    private final RedisScripts scripts;
    private final SessionSettings settings;
    private final EventChannel events;
    private final NearCache nearCache;
    private final RedisCalls calls;
    private final String keyPrefix;

    SessionSaves(RedisScripts scripts, SessionSettings settings, EventChannel events, NearCache nearCache,
                 RedisCalls calls, String keyPrefix) {
        this.scripts = scripts;
        this.settings = settings;
        this.events = events;
        this.nearCache = nearCache;
        this.calls = calls;
        this.keyPrefix = keyPrefix;
    }

    /**
     * Applies {@code changes} to the session {@code id} (a well-formed id).
     *
     * @param readBack answer the whole session after the change, not only its version
     * @return the applied save, or empty when the session is gone; fails with
     *     {@link VersionConflictException}, {@link io.lbkit.session.SessionLimitException} or
     *     {@link SessionStoreException}
     */
    CompletableFuture<Optional<Saved>> save(String id, SessionChanges changes, boolean readBack) {
        AttributeWrites writes = AttributeWrites.of(changes);
        boolean publish = !writes.isEmpty() || changes.maxInactiveInterval() != null;
        Request request = new Request(id, changes, writes, cachedMergeBases(id, writes), readBack,
                publish ? events.message(SessionEvent.Type.UPDATED, id, null) : "", RedisSessionStore.token());
        return round(request, 0);
    }

    private CompletableFuture<Optional<Saved>> round(Request request, int attempt) {
        if (attempt == MERGE_ATTEMPTS) {
            return CompletableFuture.failedFuture(new SessionStoreException(
                    "merge kept conflicting with concurrent writers after " + MERGE_ATTEMPTS + " attempts"));
        }
        String id = request.id();
        SessionChanges changes = request.changes();
        SaveArgs args = new SaveArgs(request.token(), changes.expectedVersion(), changes.maxInactiveInterval(),
                settings.maxAttributes(), settings.maxSessionBytes(), events.name(), request.message(),
                request.readBack(), request.writes().fieldWrites(request.mergeBases()));
        long stamp = nearCache.stamp(id);
        return calls.call("save", () -> scripts.save(SessionHash.key(keyPrefix, id), args))
                .thenCompose(reply -> switch (reply.status()) {
                    case OK -> CompletableFuture.completedFuture(applied(request, reply, stamp));
                    case GONE -> {
                        nearCache.invalidate(id);
                        yield CompletableFuture.completedFuture(Optional.empty());
                    }
                    case CONFLICT -> {
                        nearCache.invalidate(id);
                        throw new VersionConflictException(changes.expectedVersion().getAsLong(), reply.number());
                    }
                    case LIMIT -> throw reply.limitException(settings);
                    case MERGE -> {
                        request.mergeBases().putAll(reply.currentTexts());
                        yield backoff(attempt).thenCompose(ignored -> round(request, attempt + 1));
                    }
                    default -> throw new SessionStoreException("unexpected reply from the save script");
                });
    }

    /** The stored texts of the merged attributes, when the near cache holds the session. */
    private Map<String, String> cachedMergeBases(String id, AttributeWrites writes) {
        Map<String, String> bases = new HashMap<>();
        List<String> merged = writes.mergedNames();
        NearCache.Entry e = merged.isEmpty() ? null : nearCache.get(id);
        if (e != null) {
            for (String name : merged) {
                JsonNode current = e.session.attribute(name);
                bases.put(SessionHash.attributeField(name), current == null ? "" : SessionJson.write(current));
            }
        }
        return bases;
    }

    /** A round that applied: caches what it read back and fires the update. */
    private Optional<Saved> applied(Request request, ScriptReply reply, long stamp) {
        String id = request.id();
        Saved saved;
        if (request.readBack()) {
            Session s = SessionHash.decode(id, reply.hash());
            if (s == null) {
                nearCache.invalidate(id);
                return Optional.empty();
            }
            nearCache.put(id, s, stamp, SessionHash.absoluteRemainingNanos(reply.hash(), s));
            saved = new Saved(s, s.version());
        } else {
            saved = new Saved(null, reply.number());
        }
        if (!request.message().isEmpty()) {
            events.fire(new SessionEvent(SessionEvent.Type.UPDATED, id, null));
        }
        return Optional.of(saved);
    }

    /**
     * After a lost merge race, a random pause that grows with the attempt (up to ~3 ms), so that
     * writers contending for one attribute spread out instead of colliding again at once.
     */
    private static CompletableFuture<Void> backoff(int attempt) {
        if (attempt < 2) {
            return CompletableFuture.completedFuture(null);
        }
        long bound = 50_000L << Math.min(attempt - 2, 6);
        return Futures.delay(ThreadLocalRandom.current().nextLong(bound));
    }
}
