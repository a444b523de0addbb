package io.lbkit.servlet.backend;

import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionStore;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session state of one request: id resolution, the current {@link StoreHttpSession}, cookie
 * writes and the save. Methods are synchronized: an async request may touch the session from
 * another thread.
 */
final class RequestSessions implements AsyncListener {

    private static final Logger log = LoggerFactory.getLogger(RequestSessions.class);
    private static final int MAX_COOKIE_CANDIDATES = 3;

    private final SessionFilter.Config config;
    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final SessionStore store;

    private boolean resolved;
    private String requestedId;
    private boolean requestedFromCookie;
    private boolean requestedValid;
    private StoreHttpSession current;
    private Boolean trustedPeer;
    private boolean savedBeforeCommit;
    private boolean asyncStarted;
    private boolean listenerAdded;
    private boolean finished;

    RequestSessions(SessionFilter.Config config, HttpServletRequest request, HttpServletResponse response) {
        this.config = config;
        this.request = request;
        this.response = response;
        this.store = config.store();
    }

    SessionFilter.Config config() {
        return config;
    }

    jakarta.servlet.ServletContext servletContext() {
        return request.getServletContext();
    }

    // ---- id resolution -------------------------------------------------------------------------

    private boolean trustedPeer() {
        if (trustedPeer == null) {
            trustedPeer = config.trustedProxies().contains(request.getRemoteAddr());
        }
        return trustedPeer;
    }

    /** Candidate ids, header (trusted proxy only) first, then cookies; only well-formed ones. */
    private List<String> candidates() {
        List<String> ids = new ArrayList<>(2);
        if (config.idHeader() != null && trustedPeer()) {
            String h = request.getHeader(config.idHeader());
            if (h != null) {
                h = h.strip();
                if (SessionIds.isWellFormed(h)) {
                    ids.add(h);
                }
                if (requestedId == null) {
                    requestedId = SessionIds.isWellFormed(h) ? h : null;
                }
            }
        }
        for (String v : CookieSupport.values(request, config.cookieName(), MAX_COOKIE_CANDIDATES)) {
            if (SessionIds.isWellFormed(v) && !ids.contains(v)) {
                ids.add(v);
                if (requestedId == null) {
                    requestedId = v;
                    requestedFromCookie = true;
                }
            }
        }
        return ids;
    }

    private void resolve() {
        if (resolved) {
            return;
        }
        for (String id : candidates()) {
            Optional<Session> s = store.load(id); // SessionStoreException propagates: 503
            if (s.isPresent()) {
                current = new StoreHttpSession(this, s.get(), false);
                requestedValid = id.equals(requestedId);
                if (!id.equals(requestedId)) {
                    requestedId = id;
                    requestedFromCookie = true;
                }
                break;
            }
        }
        resolved = true;
    }

    synchronized StoreHttpSession getSession(boolean create) {
        resolve();
        if (current != null || !create) {
            return current;
        }
        if (response.isCommitted()) {
            throw new IllegalStateException("cannot create a session after the response has been committed");
        }
        Session s = store.create(Map.of());
        current = new StoreHttpSession(this, s, true);
        writeCookie(s.id());
        log.debug("created session id#{}", SessionIds.logHash(s.id()));
        return current;
    }

    synchronized String changeSessionId() {
        resolve();
        StoreHttpSession s = current;
        if (s == null) {
            throw new IllegalStateException("changeSessionId: the request has no session");
        }
        String old = s.getIdUnchecked();
        Optional<Session> moved = store.changeId(old);
        if (moved.isEmpty()) {
            // it expired or was deleted meanwhile: strict mode, start over
            current = null;
            throw new IllegalStateException("changeSessionId: the session no longer exists");
        }
        s.rotated(moved.get());
        writeCookie(moved.get().id());
        log.debug("rotated session id#{} to id#{}", SessionIds.logHash(old), SessionIds.logHash(moved.get().id()));
        return moved.get().id();
    }

    synchronized void invalidated(StoreHttpSession s) {
        store.delete(s.getIdUnchecked());
        if (current == s) {
            current = null;
        }
        writeCookie(null);
    }

    synchronized String requestedSessionId() {
        if (!resolved) {
            candidates();
        }
        return requestedId;
    }

    synchronized boolean requestedSessionIdValid() {
        resolve();
        return requestedValid && current != null && requestedId != null && requestedId.equals(current.getIdUnchecked());
    }

    synchronized boolean requestedSessionIdFromCookie() {
        requestedSessionId();
        return requestedId != null && requestedFromCookie;
    }

    // ---- cookies -------------------------------------------------------------------------------

    boolean secureRequest() {
        return switch (config.secure()) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> request.isSecure() || (trustedPeer() && forwardedHttps());
        };
    }

    private boolean forwardedHttps() {
        String p = request.getHeader("X-Forwarded-Proto");
        if (p == null) {
            return false;
        }
        int comma = p.indexOf(',');
        return (comma < 0 ? p : p.substring(0, comma)).strip().equalsIgnoreCase("https");
    }

    private String cookiePath() {
        if (config.cookiePath() != null) {
            return config.cookiePath();
        }
        String cp = request.getContextPath();
        return cp == null || cp.isEmpty() ? "/" : cp;
    }

    private void writeCookie(String id) {
        String header = CookieSupport.header(config, cookiePath(), secureRequest(), id);
        if (!CookieSupport.write(response, config.cookieName(), header)) {
            log.warn("response already committed: session cookie not {}", id == null ? "deleted" : "sent");
        }
    }

    // ---- saving --------------------------------------------------------------------------------

    /** Called before the response commits (flush, close, buffer full, sendError, ...). */
    void beforeCommit() {
        synchronized (this) {
            if (savedBeforeCommit) {
                return;
            }
            savedBeforeCommit = true;
        }
        save();
    }

    /** Called once when the request (or the async request) completes. */
    void finish() {
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
        }
        save();
    }

    private void save() {
        StoreHttpSession s;
        SessionChanges changes;
        synchronized (this) {
            s = current;
            if (s == null) {
                return;
            }
            changes = s.drainChanges();
        }
        if (changes.isEmpty()) {
            return;
        }
        String id = s.getIdUnchecked();
        OptionalLong after = store.update(id, changes);
        if (after.isEmpty()) {
            log.info("session id#{} expired or was deleted before this request's changes were saved; they are dropped",
                    SessionIds.logHash(id));
        } else {
            s.updated(changes, after.getAsLong());
        }
    }

    // ---- async ---------------------------------------------------------------------------------

    synchronized void asyncStarted(jakarta.servlet.AsyncContext ac) {
        asyncStarted = true;
        if (!listenerAdded) {
            listenerAdded = true;
            ac.addListener(this);
        }
    }

    synchronized boolean asyncStarted() {
        return asyncStarted;
    }

    void ensureAsyncListener(HttpServletRequest req) {
        synchronized (this) {
            if (listenerAdded) {
                return;
            }
            listenerAdded = true;
        }
        try {
            req.getAsyncContext().addListener(this);
        } catch (IllegalStateException e) {
            // already completed on another thread before we got here
            finishQuietly();
        }
    }

    void finishQuietly() {
        try {
            finish();
        } catch (RuntimeException e) {
            log.warn("session save after async completion failed: {}", e.toString());
        }
    }

    @Override
    public void onComplete(AsyncEvent event) {
        finishQuietly();
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        // onComplete follows
    }

    @Override
    public void onError(AsyncEvent event) {
        // onComplete follows
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        event.getAsyncContext().addListener(this);
    }
}
