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

/**
 * A real store with a switch that makes every call fail as if its server were down. The
 * asynchronous calls go to the real store's asynchronous methods, so a Redis store completes them
 * on its own I/O threads, as in production.
 */
final class FaultyStore implements SessionStore {
    private final SessionStore delegate;
    final AtomicBoolean down = new AtomicBoolean();

    FaultyStore(SessionStore delegate) {
        this.delegate = delegate;
    }

    private void check() {
        if (down.get()) {
            throw new SessionStoreException("store is down (test fault)");
        }
    }

    private <T> CompletionStage<T> checkAsync() {
        return down.get() ? CompletableFuture.failedFuture(new SessionStoreException("store is down (test fault)")) : null;
    }

    @Override
    public Session create(Map<String, JsonNode> attributes) {
        check();
        return delegate.create(attributes);
    }

    @Override
    public CompletionStage<Session> createAsync(Map<String, JsonNode> attributes) {
        CompletionStage<Session> down = checkAsync();
        return down != null ? down : delegate.createAsync(attributes);
    }

    @Override
    public Optional<Session> load(String id) {
        check();
        return delegate.load(id);
    }

    @Override
    public CompletionStage<Optional<Session>> loadAsync(String id) {
        CompletionStage<Optional<Session>> down = checkAsync();
        return down != null ? down : delegate.loadAsync(id);
    }

    @Override
    public Optional<Session> save(String id, SessionChanges changes) {
        check();
        return delegate.save(id, changes);
    }

    @Override
    public CompletionStage<Optional<Session>> saveAsync(String id, SessionChanges changes) {
        CompletionStage<Optional<Session>> down = checkAsync();
        return down != null ? down : delegate.saveAsync(id, changes);
    }

    @Override
    public boolean delete(String id) {
        check();
        return delegate.delete(id);
    }

    @Override
    public CompletionStage<Boolean> deleteAsync(String id) {
        CompletionStage<Boolean> down = checkAsync();
        return down != null ? down : delegate.deleteAsync(id);
    }

    @Override
    public Optional<Session> changeId(String id) {
        check();
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
