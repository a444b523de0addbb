package io.lbkit.proxy.contract;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real store with switches that make calls fail as if its server were down, and counters of the
 * calls that reached it. The asynchronous calls go to the real store's asynchronous methods, so a
 * Redis store completes them on its own I/O threads, as in production.
 */
public final class FaultySessionStore implements SessionStore {
    private final SessionStore delegate;
    /** Every call fails. */
    public final AtomicBoolean down = new AtomicBoolean();
    /** Only the writes (create, save, delete, changeId) fail. */
    public final AtomicBoolean writesDown = new AtomicBoolean();
    /** Sessions created (calls that did not fail here). */
    public final AtomicInteger creates = new AtomicInteger();
    /** Loads that reached the real store. */
    public final AtomicInteger loads = new AtomicInteger();

    public FaultySessionStore(SessionStore delegate) {
        this.delegate = delegate;
    }

    private boolean failing(boolean write) {
        return down.get() || (write && writesDown.get());
    }

    private void check(boolean write) {
        if (failing(write)) {
            throw new SessionStoreException("store is down (test fault)");
        }
    }

    private <T> CompletionStage<T> checkAsync(boolean write) {
        return failing(write) ? CompletableFuture.failedFuture(new SessionStoreException("store is down (test fault)")) : null;
    }

    @Override
    public Session create(Map<String, JsonNode> attributes) {
        check(true);
        creates.incrementAndGet();
        return delegate.create(attributes);
    }

    @Override
    public CompletionStage<Session> createAsync(Map<String, JsonNode> attributes) {
        CompletionStage<Session> down = checkAsync(true);
        if (down != null) {
            return down;
        }
        creates.incrementAndGet();
        return delegate.createAsync(attributes);
    }

    @Override
    public Optional<Session> load(String id) {
        check(false);
        loads.incrementAndGet();
        return delegate.load(id);
    }

    @Override
    public CompletionStage<Optional<Session>> loadAsync(String id) {
        CompletionStage<Optional<Session>> down = checkAsync(false);
        if (down != null) {
            return down;
        }
        loads.incrementAndGet();
        return delegate.loadAsync(id);
    }

    @Override
    public Optional<Session> save(String id, SessionChanges changes) {
        check(true);
        return delegate.save(id, changes);
    }

    @Override
    public CompletionStage<Optional<Session>> saveAsync(String id, SessionChanges changes) {
        CompletionStage<Optional<Session>> down = checkAsync(true);
        return down != null ? down : delegate.saveAsync(id, changes);
    }

    @Override
    public boolean delete(String id) {
        check(true);
        return delegate.delete(id);
    }

    @Override
    public CompletionStage<Boolean> deleteAsync(String id) {
        CompletionStage<Boolean> down = checkAsync(true);
        return down != null ? down : delegate.deleteAsync(id);
    }

    @Override
    public Optional<Session> changeId(String id) {
        check(true);
        return delegate.changeId(id);
    }

    @Override
    public Registration addListener(SessionListener listener) {
        return delegate.addListener(listener);
    }

    @Override
    public SessionSettings settings() {
        return delegate.settings();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
