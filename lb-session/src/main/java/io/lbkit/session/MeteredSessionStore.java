package io.lbkit.session;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A {@link SessionStore} that records every call to the store it wraps as one Micrometer timer,
 * {@value #CALLS}, tagged with the store, the operation and its outcome; the counts of those
 * timers are the sessions created, loaded, saved, the conflicts and the store errors.
 *
 * <pre>{@code
 * SessionStore store = MeteredSessionStore.of(RedisSessionStore.builder().uri(url).build(), registry);
 * }</pre>
 *
 * <table>
 *   <caption>Tags of {@value #CALLS} (Prometheus: {@code lbkit_session_store_calls_seconds_count} and {@code _sum})</caption>
 *   <tr><th>tag</th><th>values</th></tr>
 *   <tr><td>{@code store}</td><td>{@code redis}, {@code memory}, or the name given to {@link #of(SessionStore, MeterRegistry, String)}</td></tr>
 *   <tr><td>{@code operation}</td><td>{@code create}, {@code load}, {@code save}, {@code update}, {@code delete}, {@code change_id}</td></tr>
 *   <tr><td>{@code outcome}</td><td>{@code ok} (created, found, saved, deleted, moved); {@code missing} (no such session);
 *       {@code conflict} ({@link VersionConflictException}); {@code too_large} ({@link SessionLimitException});
 *       {@code error} (any other failure: the store is unreachable or failed)</td></tr>
 * </table>
 *
 * <p>Synchronous calls are timed on the caller's thread; asynchronous ones from the call to the
 * completion of their stage, which stays asynchronous. The timers are looked up once, when the
 * store is wrapped: recording a synchronous call allocates nothing of its own beyond what the
 * registry's timer does (an asynchronous one adds its completion callback). Listeners, settings
 * and {@link #close()} go to the wrapped store.
 */
public final class MeteredSessionStore implements SessionStore {

    /** The timer's name: {@value}. */
    public static final String CALLS = "lbkit.session.store.calls";

    private enum Op { CREATE, LOAD, SAVE, UPDATE, DELETE, CHANGE_ID }

    private enum Outcome { OK, MISSING, CONFLICT, TOO_LARGE, ERROR }

    private final SessionStore store;
    private final Timer[][] timers = new Timer[Op.values().length][Outcome.values().length];

    private MeteredSessionStore(SessionStore store, MeterRegistry registry, String name) {
        this.store = store;
        for (Op op : Op.values()) {
            for (Outcome o : Outcome.values()) {
                timers[op.ordinal()][o.ordinal()] = Timer.builder(CALLS)
                        .description("Calls to the session store, by operation and outcome")
                        .tag("store", name)
                        .tag("operation", op.name().toLowerCase(java.util.Locale.ROOT))
                        .tag("outcome", o.name().toLowerCase(java.util.Locale.ROOT))
                        .register(registry);
            }
        }
    }

    /**
     * Wraps {@code store}; its {@code store} tag is {@code redis} for a store whose class name
     * starts with "Redis", {@code memory} for {@link InMemorySessionStore}, else the class's
     * simple name in lower case.
     */
    public static MeteredSessionStore of(SessionStore store, MeterRegistry registry) {
        Objects.requireNonNull(store, "store");
        return of(store, registry, defaultName(store instanceof MeteredSessionStore m ? m.store : store));
    }

    /** Wraps {@code store}, tagged {@code store=name}. */
    public static MeteredSessionStore of(SessionStore store, MeterRegistry registry, String name) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(registry, "registry");
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank, got '" + name + "'");
        }
        if (store instanceof MeteredSessionStore m) {
            store = m.store; // wrapping twice would count every call twice
        }
        return new MeteredSessionStore(store, registry, name);
    }

    static String defaultName(SessionStore store) {
        if (store instanceof InMemorySessionStore) {
            return "memory";
        }
        String n = store.getClass().getSimpleName();
        return n.startsWith("Redis") ? "redis" : n.toLowerCase(java.util.Locale.ROOT);
    }

    /** The store this one records the calls of. */
    public SessionStore delegate() {
        return store;
    }

    private void record(Op op, Outcome outcome, long started) {
        timers[op.ordinal()][outcome.ordinal()].record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }

    private static Outcome failure(Throwable t) {
        Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return e instanceof VersionConflictException ? Outcome.CONFLICT
                : e instanceof SessionLimitException ? Outcome.TOO_LARGE : Outcome.ERROR;
    }

    private static Outcome of(boolean present) {
        return present ? Outcome.OK : Outcome.MISSING;
    }

    @Override
    public Session create(Map<String, JsonNode> attributes) {
        long t = System.nanoTime();
        try {
            Session s = store.create(attributes);
            record(Op.CREATE, Outcome.OK, t);
            return s;
        } catch (RuntimeException e) {
            record(Op.CREATE, failure(e), t);
            throw e;
        }
    }

    @Override
    public Optional<Session> load(String id) {
        long t = System.nanoTime();
        try {
            Optional<Session> s = store.load(id);
            record(Op.LOAD, of(s.isPresent()), t);
            return s;
        } catch (RuntimeException e) {
            record(Op.LOAD, failure(e), t);
            throw e;
        }
    }

    @Override
    public Optional<Session> save(String id, SessionChanges changes) {
        long t = System.nanoTime();
        try {
            Optional<Session> s = store.save(id, changes);
            record(Op.SAVE, of(s.isPresent()), t);
            return s;
        } catch (RuntimeException e) {
            record(Op.SAVE, failure(e), t);
            throw e;
        }
    }

    @Override
    public OptionalLong update(String id, SessionChanges changes) {
        long t = System.nanoTime();
        try {
            OptionalLong v = store.update(id, changes);
            record(Op.UPDATE, of(v.isPresent()), t);
            return v;
        } catch (RuntimeException e) {
            record(Op.UPDATE, failure(e), t);
            throw e;
        }
    }

    @Override
    public boolean delete(String id) {
        long t = System.nanoTime();
        try {
            boolean existed = store.delete(id);
            record(Op.DELETE, of(existed), t);
            return existed;
        } catch (RuntimeException e) {
            record(Op.DELETE, failure(e), t);
            throw e;
        }
    }

    @Override
    public Optional<Session> changeId(String id) {
        long t = System.nanoTime();
        try {
            Optional<Session> s = store.changeId(id);
            record(Op.CHANGE_ID, of(s.isPresent()), t);
            return s;
        } catch (RuntimeException e) {
            record(Op.CHANGE_ID, failure(e), t);
            throw e;
        }
    }

    @Override
    public CompletionStage<Session> createAsync(Map<String, JsonNode> attributes) {
        long t = System.nanoTime();
        return store.createAsync(attributes).whenComplete((s, e) -> record(Op.CREATE, e == null ? Outcome.OK : failure(e), t));
    }

    @Override
    public CompletionStage<Optional<Session>> loadAsync(String id) {
        long t = System.nanoTime();
        return store.loadAsync(id).whenComplete((s, e) -> record(Op.LOAD, e == null ? of(s.isPresent()) : failure(e), t));
    }

    @Override
    public CompletionStage<Optional<Session>> saveAsync(String id, SessionChanges changes) {
        long t = System.nanoTime();
        return store.saveAsync(id, changes)
                .whenComplete((s, e) -> record(Op.SAVE, e == null ? of(s.isPresent()) : failure(e), t));
    }

    @Override
    public CompletionStage<OptionalLong> updateAsync(String id, SessionChanges changes) {
        long t = System.nanoTime();
        return store.updateAsync(id, changes)
                .whenComplete((v, e) -> record(Op.UPDATE, e == null ? of(v.isPresent()) : failure(e), t));
    }

    @Override
    public CompletionStage<Boolean> deleteAsync(String id) {
        long t = System.nanoTime();
        return store.deleteAsync(id).whenComplete((d, e) -> record(Op.DELETE, e == null ? of(d) : failure(e), t));
    }

    @Override
    public Registration addListener(SessionListener listener) {
        return store.addListener(listener);
    }

    @Override
    public SessionSettings settings() {
        return store.settings();
    }

    @Override
    public void close() {
        store.close();
    }

    @Override
    public String toString() {
        return "Metered[" + store + "]";
    }
}
