package io.lbkit.session;

import java.util.Objects;

/**
 * Something that happened to a session. Stores deliver events of sessions changed through any
 * instance when they can (Redis: pub/sub and, when enabled on the server, keyspace notifications
 * for expiry); see the store's documentation.
 *
 * @param type      what happened
 * @param sessionId the session's id (for {@link Type#ROTATED} the new id)
 * @param previousId for {@link Type#ROTATED} the old id, else {@code null}
 */
public record SessionEvent(Type type, String sessionId, String previousId) {

    public SessionEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(sessionId, "sessionId");
    }

    public enum Type { CREATED, UPDATED, DELETED, EXPIRED, ROTATED }

    @Override
    public String toString() {
        return "SessionEvent[" + type + " id#" + SessionIds.logHash(sessionId)
                + (previousId == null ? "" : " from id#" + SessionIds.logHash(previousId)) + "]";
    }
}
