package io.lbkit.session.redis;

import io.lbkit.session.SessionLimitException;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStoreException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link RedisScripts#SAVE} or {@link RedisScripts#CREATE} answered: a status, then values
 * that depend on it.
 *
 * @param status the first element of the reply
 * @param values the rest
 */
record ScriptReply(Status status, List<Object> values) {

    enum Status {
        /** Applied: then the hash ({@link #hash}) or, for a save without read-back, the version. */
        OK,
        /** No such session (absent, expired, or expired by this very write): nothing written. */
        GONE,
        /** Create only: the id is taken (nothing written). */
        EXISTS,
        /** Save only: the stored version is not the expected one ({@link #number}). */
        CONFLICT,
        /** Save only: merge bases that moved or were probed ({@link #currentTexts}); nothing written. */
        MERGE,
        /** Save only: a limit would be broken ({@link #limitName}, {@link #number}); nothing written. */
        LIMIT
    }

    /** @throws SessionStoreException when the reply is not one the scripts give */
    @SuppressWarnings("unchecked")
    static ScriptReply of(String script, Object reply) {
        if (reply instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof String status) {
            try {
                return new ScriptReply(Status.valueOf(status.toUpperCase(Locale.ROOT)),
                        List.copyOf((List<Object>) l.subList(1, l.size())));
            } catch (IllegalArgumentException e) {
                // falls through
            }
        }
        throw new SessionStoreException("unexpected reply from the " + script + " script");
    }

    /** The session's hash as a flat field/value list (OK of a create, or of a save with read-back). */
    @SuppressWarnings("unchecked")
    List<Object> hash() {
        return (List<Object>) values.get(0);
    }

    /** The number an OK without read-back, a CONFLICT or a LIMIT carries. */
    long number() {
        return Long.parseLong((String) values.get(values.size() - 1));
    }

    /** LIMIT: which limit, {@code count} or {@code bytes}. */
    String limitName() {
        return (String) values.get(0);
    }

    /** LIMIT as the exception a caller gets, naming the limit and the value that broke it. */
    SessionLimitException limitException(SessionSettings settings) {
        return new SessionLimitException("count".equals(limitName())
                ? "session would have " + number() + " attributes, more than maxAttributes=" + settings.maxAttributes()
                : "session attributes would take " + number() + " bytes as JSON, more than maxSessionBytes="
                        + settings.maxSessionBytes());
    }

    /** MERGE: attribute field to its current text ({@code ""}: absent). */
    @SuppressWarnings("unchecked")
    Map<String, String> currentTexts() {
        List<Object> pairs = (List<Object>) values.get(0);
        Map<String, String> texts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.size(); i += 2) {
            texts.put((String) pairs.get(i), (String) pairs.get(i + 1));
        }
        return texts;
    }
}
