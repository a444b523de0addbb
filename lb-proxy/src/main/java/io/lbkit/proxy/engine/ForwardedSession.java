package io.lbkit.proxy.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.core.internal.Repeats;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.session.AttributeCodec;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionLimitException;
import io.lbkit.session.SessionStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session of one exchange under {@link SessionForwarding}: which session the client's cookie
 * names, what the backend gets, and what its answer changes. Made by
 * {@link SessionForwarder#start}; see there for the order of calls.
 *
 * <p>Not thread-safe, but safe to hand between threads the usual way: the stages of {@link #load}
 * and {@link #save} complete on whatever thread the store completes on, and the engine calls
 * {@link #addRequestFields} / {@link #addResponseFields} after the stage completed (a
 * continuation of the stage, or a task the engine queues onto its own thread after it).
 * Logs name the session by {@link SessionIds#logHash}, never its id or data.
 */
public final class ForwardedSession {

    private static final Logger log = LoggerFactory.getLogger(SessionForwarder.class);

    private final SessionForwarder rule;
    private final SessionForwarding settings;
    private final ClientRequest request;
    private final boolean secureCookie;

    private String id;          // the loaded session's id, or null
    private String data;        // its attributes as JSON, or null when they did not fit
    private String newCookie;   // the Set-Cookie of a session the backend's answer created, or null
    private int patchFields;    // save(): how many X-New-Session-Data fields the response has
    private String patchText;   // save(): the last one's value

    ForwardedSession(SessionForwarder rule, ClientRequest request, boolean secureCookie) {
        this.rule = rule;
        this.settings = rule.settings;
        this.request = request;
        this.secureCookie = secureCookie;
    }

    // =====================================================================================
    // request
    // =====================================================================================

    /**
     * Loads the session the client's cookie names. Null when there is nothing to wait for (no
     * well-formed session cookie: no store call); else a stage that completes normally once the
     * request fields are known (an unknown or expired id means no session), or exceptionally when
     * the store failed (logged; {@link SessionForwarder#isStoreFailure} is true).
     */
    public CompletionStage<Void> load() {
        String cookie = cookieId();
        if (cookie == null) {
            return null;
        }
        SessionStore store = rule.store;
        return rule.call(() -> store.loadAsync(cookie), () -> store.load(cookie)).handle((found, failure) -> {
            if (failure != null) {
                Throwable cause = SessionForwarder.unwrap(failure);
                long skipped = rule.storeFailures.admit();
                if (skipped >= 0) {
                    log.warn("session #{}: the session store failed while loading, answering 503: {}{}",
                            SessionIds.logHash(cookie), cause.toString(), Repeats.note(skipped));
                }
                throw new SessionForwarder.StoreUnavailable(cause);
            }
            found.ifPresent(this::loaded);
            return null;
        });
    }

    private void loaded(Session s) {
        String json = SessionJson.encode(s.attributes());
        id = s.id();
        if (json.length() <= settings.maxDataBytes()) {
            data = json;
        } else {
            log.warn("session #{}: data takes {} bytes as JSON, more than maxDataBytes={}; sending {}: true",
                    SessionIds.logHash(s.id()), json.length(), settings.maxDataBytes(), settings.truncatedHeader());
        }
    }

    /** The first well-formed value of the session cookie, or null. */
    private String cookieId() {
        String name = settings.cookieName();
        RequestValues.Slice value = null;
        for (String header : request.headers("Cookie")) {
            int at = 0;
            while (at >= 0 && at < header.length()) {
                if (value == null) {
                    value = new RequestValues.Slice();
                }
                at = RequestValues.findCookie(header, at, name, value);
                if (at >= 0 && SessionIds.isWellFormed(value)) {
                    return value.toString();
                }
            }
        }
        return null;
    }

    /**
     * Writes the loaded session into the backend request: {@code X-Session-ID} and
     * {@code X-Session-Data}, or {@code X-Session-Data-Truncated: true} instead of the data when
     * it is longer than {@link SessionForwarding#maxDataBytes()}. Nothing without a session.
     */
    public void addRequestFields(HeaderSink backendRequest) {
        if (id == null) {
            return;
        }
        backendRequest.set(settings.idHeader(), id);
        if (data != null) {
            backendRequest.set(settings.dataHeader(), data);
        } else {
            backendRequest.set(settings.truncatedHeader(), "true");
        }
    }

    /** Whether a session was loaded for this exchange. */
    public boolean hasSession() {
        return id != null;
    }

    // =====================================================================================
    // response
    // =====================================================================================

    /**
     * Applies the backend's {@code X-New-Session-Data} merge patch from {@code backendResponse}:
     * saved into the loaded session, or a new session created from it. Null when there is nothing
     * to wait for (no patch, or one that is ignored and logged); else a stage that completes when
     * the store is done, normally whatever happened (store failures are logged: the response goes
     * on unchanged).
     */
    public CompletionStage<Void> save(ResponseFields backendResponse) {
        patchFields = 0;
        patchText = null;
        backendResponse.forEach(this::scan);
        if (patchFields == 0) {
            return null;
        }
        String tag = id == null ? "(new)" : "#" + SessionIds.logHash(id);
        JsonNode patch = parsePatch(patchFields, patchText, tag);
        patchText = null;
        if (patch == null) {
            return null;
        }
        SessionStore store = rule.store;
        if (id != null) {
            String sid = id;
            SessionChanges changes = SessionChanges.fromMergePatch(patch);
            return rule.call(() -> store.updateAsync(sid, changes), () -> store.update(sid, changes))
                    .handle((saved, failure) -> {
                        if (failure != null) {
                            logStoreFailure(tag, "saving", SessionForwarder.unwrap(failure));
                        } else if (saved.isEmpty()) {
                            log.info("session {}: gone before the backend's {} could be saved (expired or deleted); "
                                    + "dropped", tag, settings.newDataHeader());
                        }
                        return null;
                    });
        }
        Map<String, JsonNode> attributes = SessionJson.withoutNulls(patch);
        if (attributes.isEmpty()) {
            return null;
        }
        return rule.call(() -> store.createAsync(attributes), () -> store.create(attributes))
                .handle((created, failure) -> {
                    if (failure != null) {
                        logStoreFailure(tag, "creating", SessionForwarder.unwrap(failure));
                    } else {
                        newCookie = SessionCookies.setCookie(settings.cookieName(), created.id(), settings.cookiePath(),
                                null, -1, settings.sameSite(), secureCookie);
                        log.debug("session #{} created from the backend's {}", SessionIds.logHash(created.id()),
                                settings.newDataHeader());
                    }
                    return null;
                });
    }

    private void scan(String name, String value) {
        if (Headers.sameFieldName(name, settings.newDataHeader())) {
            patchFields++;
            patchText = value;
        }
    }

    /**
     * Writes the cookie of a session that {@link #save} created into the client response,
     * replacing a {@code Set-Cookie} of the same cookie name that the backend may have sent.
     * Nothing when no session was created.
     */
    public void addResponseFields(ResponseHeaderSink clientResponse) {
        if (newCookie == null) {
            return;
        }
        String prefix = settings.cookieName() + "=";
        List<String> keep = null;
        boolean replaced = false;
        for (String h : clientResponse.values("Set-Cookie")) {
            if (h.startsWith(prefix)) {
                replaced = true;
            } else {
                if (keep == null) {
                    keep = new ArrayList<>(2);
                }
                keep.add(h);
            }
        }
        if (replaced) {
            clientResponse.remove("Set-Cookie");
            if (keep != null) {
                for (String h : keep) {
                    clientResponse.add("Set-Cookie", h);
                }
            }
        }
        clientResponse.add("Set-Cookie", newCookie);
    }

    /** The patch as a JSON object, or null (logged, without the data) when it cannot be used. */
    private JsonNode parsePatch(int fields, String text, String tag) {
        if (fields > 1) {
            warnIgnored(tag, "sent " + fields + " times");
            return null;
        }
        if (text == null || text.length() > settings.maxPatchBytes()) {
            warnIgnored(tag, (text == null ? 0 : text.length()) + " bytes, more than maxPatchBytes="
                    + settings.maxPatchBytes());
            return null;
        }
        JsonNode patch;
        try {
            patch = SessionJson.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            // the exception message quotes the input; log only its kind and position
            warnIgnored(tag, "not valid JSON (" + e.getClass().getSimpleName()
                    + (e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr()) + ")");
            return null;
        }
        if (patch == null || !patch.isObject()) {
            warnIgnored(tag, "a JSON " + (patch == null ? "nothing" : patch.getNodeType()) + ", not an object");
            return null;
        }
        try {
            for (Map.Entry<String, JsonNode> e : patch.properties()) {
                AttributeCodec.defaults().encode(e.getKey(), e.getValue()); // what would not read back
            }
        } catch (IllegalArgumentException e) {
            warnIgnored(tag, e.getMessage()); // names the attribute and the problem, never the value
            return null;
        }
        log.trace("session {}: applying {}", tag, settings.newDataHeader());
        return patch;
    }

    private void warnIgnored(String tag, String why) {
        log.warn("session {}: ignoring the backend's {} for {} {}: {}; the session is unchanged", tag,
                settings.newDataHeader(), request.method(), request.rawPath(), why);
    }

    private void logStoreFailure(String tag, String doing, Throwable cause) {
        if (cause instanceof SessionLimitException) {
            warnIgnored(tag, "over the store's limits (" + cause.getMessage() + ")");
        } else {
            long skipped = rule.storeFailures.admit();
            if (skipped >= 0) {
                log.warn("session {}: the session store failed while {} for {} {}; the response goes on unchanged: {}{}",
                        tag, doing, request.method(), request.rawPath(), cause.toString(), Repeats.note(skipped));
            }
        }
    }
}
