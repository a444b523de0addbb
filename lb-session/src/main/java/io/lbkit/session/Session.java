package io.lbkit.session;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable view of one stored session.
 *
 * @param id                  the server-generated id
 * @param attributes          attribute name to JSON value, unmodifiable
 * @param creationTime        when the session was created
 * @param lastAccessedTime    the last load or save (start of the idle window)
 * @param maxInactiveInterval idle timeout of this session
 * @param version             incremented by every save that changes attributes; 1 after create
 */
public record Session(String id, Map<String, JsonNode> attributes, Instant creationTime,
                      Instant lastAccessedTime, Duration maxInactiveInterval, long version) {

    public Session {
        Objects.requireNonNull(id, "id");
        attributes = Map.copyOf(attributes);
        Objects.requireNonNull(creationTime, "creationTime");
        Objects.requireNonNull(lastAccessedTime, "lastAccessedTime");
        Objects.requireNonNull(maxInactiveInterval, "maxInactiveInterval");
    }

    /** The attribute's JSON value, or {@code null}. */
    public JsonNode attribute(String name) {
        return attributes.get(name);
    }

    /**
     * This session with {@code changes} applied locally, at {@code version}: what a caller of
     * {@link SessionStore#update} holds afterwards. Concurrent writers' changes to other
     * attributes are not in it (a later load has them), although {@code version} counts them:
     * do not use this copy's version as {@link SessionChanges#expectedVersion} for a
     * compare-and-set (load first). The interval of {@code changes} is taken literally.
     */
    public Session withChanges(SessionChanges changes, long version) {
        Objects.requireNonNull(changes, "changes");
        Duration idle = changes.maxInactiveInterval() == null ? maxInactiveInterval : changes.maxInactiveInterval();
        return new Session(id, Attributes.apply(attributes, changes), creationTime, lastAccessedTime, idle, version);
    }

    @Override
    public String toString() {
        return "Session[id#" + SessionIds.logHash(id) + ", attributes=" + attributes.keySet()
                + ", version=" + version + "]";
    }
}
