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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** A real store (in memory) with switches that make calls fail as if its server were down. */
public final class FaultySessionStore implements SessionStore {
    private final SessionStore delegate;
    /** Every call fails. */
    public final AtomicBoolean down = new AtomicBoolean();
    /** Only create and save fail. */
    public final AtomicBoolean writesDown = new AtomicBoolean();
    /** Sessions created. */
    public final AtomicInteger creates = new AtomicInteger();

    public FaultySessionStore(SessionStore delegate) {
        this.delegate = delegate;
    }

    private void check(boolean write) {
        if (down.get() || (write && writesDown.get())) {
            throw new SessionStoreException("store is down (test fault)");
        }
    }

    @Override
    public Session create(Map<String, JsonNode> attributes) {
        check(true);
        creates.incrementAndGet();
        return delegate.create(attributes);
    }

    @Override
    public Optional<Session> load(String id) {
        check(false);
        return delegate.load(id);
    }

    @Override
    public Optional<Session> save(String id, SessionChanges changes) {
        check(true);
        return delegate.save(id, changes);
    }

    @Override
    public boolean delete(String id) {
        check(true);
        return delegate.delete(id);
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
