package io.lbkit.servlet.backend;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.AttributeCodec;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpSession;
import java.time.Duration;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link HttpSession} over a stored {@link Session}. Reads decode lazily (once per attribute
 * per request); writes are recorded as attribute deltas and saved by {@link RequestSessions}.
 */
final class StoreHttpSession implements HttpSession {

    private static final Logger log = LoggerFactory.getLogger(StoreHttpSession.class);
    private static final Object REMOVED = new Object();

    private final RequestSessions owner;
    private final AttributeCodec codec;
    private final boolean trackReads;
    private Session stored;
    private final boolean isNew;
    private boolean invalid;
    /** name -> value set in this request (or REMOVED); saved as SET/REMOVE. */
    private final Map<String, Object> written = new LinkedHashMap<>();
    /** name -> decoded value handed out by getAttribute, so repeated reads return the same object. */
    private final Map<String, Object> decoded = new HashMap<>();
    /** ON_GET_ATTRIBUTE: name -> JSON the mutable value had when read. */
    private final Map<String, JsonNode> readMutable = new HashMap<>();
    private Duration newInterval;

    StoreHttpSession(RequestSessions owner, Session stored, boolean isNew) {
        this.owner = owner;
        this.codec = owner.config().codec();
        this.trackReads = owner.config().saveMode() == SessionFilter.SaveMode.ON_GET_ATTRIBUTE;
        this.stored = stored;
        this.isNew = isNew;
    }

    private void check(String method) {
        if (invalid) {
            throw new IllegalStateException(method + ": session already invalidated");
        }
    }

    String getIdUnchecked() {
        synchronized (owner) {
            return stored.id();
        }
    }

    @Override
    public String getId() {
        return getIdUnchecked();
    }

    @Override
    public long getCreationTime() {
        synchronized (owner) {
            check("getCreationTime");
            return stored.creationTime().toEpochMilli();
        }
    }

    /** The time this request loaded (and so touched) the session. */
    @Override
    public long getLastAccessedTime() {
        synchronized (owner) {
            check("getLastAccessedTime");
            return stored.lastAccessedTime().toEpochMilli();
        }
    }

    @Override
    public ServletContext getServletContext() {
        return owner.servletContext();
    }

    /** Values ≤ 0 (the spec's "never") mean the store's default idle timeout. */
    @Override
    public void setMaxInactiveInterval(int interval) {
        synchronized (owner) {
            // the default itself, not ZERO: a zero interval ends the session on Redis, and the
            // local copy after an update must say what the store holds
            newInterval = interval <= 0 ? owner.config().store().settings().idleTimeout() : Duration.ofSeconds(interval);
        }
    }

    @Override
    public int getMaxInactiveInterval() {
        synchronized (owner) {
            Duration d = newInterval != null && !newInterval.isZero() ? newInterval
                    : newInterval != null ? owner.config().store().settings().idleTimeout()
                    : stored.maxInactiveInterval();
            return (int) Math.min(Integer.MAX_VALUE, d.getSeconds());
        }
    }

    @Override
    public Object getAttribute(String name) {
        Objects.requireNonNull(name, "name");
        synchronized (owner) {
            check("getAttribute");
            Object w = written.get(name);
            if (w != null) {
                return w == REMOVED ? null : w;
            }
            if (decoded.containsKey(name)) {
                return decoded.get(name);
            }
            JsonNode node = stored.attribute(name);
            if (node == null) {
                return null;
            }
            Object v = codec.decode(name, node);
            if (v == AttributeCodec.UNAVAILABLE) {
                v = null;
            } else if (trackReads && isMutable(v)) {
                readMutable.put(name, node);
            }
            decoded.put(name, v);
            return v;
        }
    }

    private static boolean isMutable(Object v) {
        return v != null && !(v instanceof String || v instanceof Number || v instanceof Boolean);
    }

    @Override
    public Enumeration<String> getAttributeNames() {
        synchronized (owner) {
            check("getAttributeNames");
            Set<String> names = new LinkedHashSet<>(stored.attributes().keySet());
            for (Map.Entry<String, Object> e : written.entrySet()) {
                if (e.getValue() == REMOVED) {
                    names.remove(e.getKey());
                } else {
                    names.add(e.getKey());
                }
            }
            return Collections.enumeration(List.copyOf(names));
        }
    }

    /**
     * Records the value; it is encoded now (so an unsupported type fails here, with an
     * {@link IllegalArgumentException}) and again when saved, so later in-place changes count.
     */
    @Override
    public void setAttribute(String name, Object value) {
        Objects.requireNonNull(name, "name");
        if (value == null) {
            removeAttribute(name);
            return;
        }
        codec.encode(name, value); // refuses what could not be stored and read back, naming the attribute
        synchronized (owner) {
            check("setAttribute");
            written.put(name, value);
            decoded.remove(name);
            readMutable.remove(name);
        }
    }

    @Override
    public void removeAttribute(String name) {
        Objects.requireNonNull(name, "name");
        synchronized (owner) {
            check("removeAttribute");
            written.put(name, REMOVED);
            decoded.remove(name);
            readMutable.remove(name);
        }
    }

    @Override
    public void invalidate() {
        synchronized (owner) {
            check("invalidate");
            invalid = true;
            written.clear();
            owner.invalidated(this);
        }
    }

    @Override
    public boolean isNew() {
        synchronized (owner) {
            check("isNew");
            return isNew;
        }
    }

    /** The pending changes, cleared; called under the owner's lock. */
    SessionChanges drainChanges() {
        if (invalid) {
            return SessionChanges.none();
        }
        SessionChanges.Builder b = SessionChanges.builder();
        for (Map.Entry<String, Object> e : written.entrySet()) {
            if (e.getValue() == REMOVED) {
                b.remove(e.getKey());
            } else {
                b.set(e.getKey(), codec.encode(e.getValue()));
            }
        }
        for (Map.Entry<String, JsonNode> e : readMutable.entrySet()) {
            JsonNode now;
            try {
                now = codec.encode(e.getKey(), decoded.get(e.getKey()));
            } catch (IllegalArgumentException x) {
                // stored before the codec refused such values (an unpaired surrogate, a number no
                // double holds): left as stored rather than failing the request
                log.warn("{}; it was stored so before and is left as stored", x.getMessage());
                continue;
            }
            if (!now.equals(e.getValue())) {
                b.set(e.getKey(), now);
                e.setValue(now);
            }
        }
        if (newInterval != null) {
            b.maxInactiveInterval(newInterval);
            newInterval = null;
        }
        // values already written keep being returned by getAttribute; later changes re-enter
        for (Map.Entry<String, Object> e : written.entrySet()) {
            if (e.getValue() != REMOVED) {
                decoded.put(e.getKey(), e.getValue());
                if (trackReads && isMutable(e.getValue())) {
                    readMutable.put(e.getKey(), codec.encode(e.getValue()));
                }
            } else {
                decoded.put(e.getKey(), null);
            }
        }
        written.clear();
        return b.build();
    }

    /** After an update: the stored state with this request's saved changes applied. */
    void updated(SessionChanges changes, long version) {
        synchronized (owner) {
            stored = stored.withChanges(changes, version);
        }
    }

    /** After changeSessionId. */
    void rotated(Session moved) {
        synchronized (owner) {
            stored = moved;
        }
    }
}
