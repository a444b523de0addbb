package io.lbkit.servlet.backend;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** A real store with a switch that makes every call fail as if its server were down. */
final class FaultyStore implements SessionStore {
    private final SessionStore delegate;
    final AtomicBoolean down = new AtomicBoolean();
    final AtomicInteger loads = new AtomicInteger();

    FaultyStore(SessionStore delegate) {
        this.delegate = delegate;
    }

    private void check() {
        if (down.get()) {
            throw new SessionStoreException("store is down (test fault)");
        }
    }

    @Override
    public Session create(Map<String, JsonNode> attributes) {
        check();
        return delegate.create(attributes);
    }

    @Override
    public Optional<Session> load(String id) {
        check();
        loads.incrementAndGet();
        return delegate.load(id);
    }

    @Override
    public Optional<Session> save(String id, SessionChanges changes) {
        check();
        return delegate.save(id, changes);
    }

    @Override
    public boolean delete(String id) {
        check();
        return delegate.delete(id);
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
