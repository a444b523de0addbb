package io.lbkit.session.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The ARGV of {@link RedisScripts#CREATE}, in the order the script reads them (KEYS[1] is the new
 * session's key). The script reads an empty string as "not given".
 *
 * @param token            this create's token ({@code #t}): a re-sent script finds it and only answers
 * @param channel          the event channel
 * @param message          the event to publish ({@code ""}: none)
 * @param absoluteLifetime the absolute lifetime from now, used when {@code fields} holds no
 *                         absolute expiry; {@code null}: none
 * @param fields           hash fields and values to write, alternating: every metadata field but
 *                         the access time and the token (which the script sets) and, for a new
 *                         session, the creation time
 */
record CreateArgs(String token, String channel, String message, Duration absoluteLifetime, List<Object> fields) {

    /** ARGV values before the fields. */
    static final int HEADER = 4;

    CreateArgs {
        fields = List.copyOf(fields);
    }

    Object[] argv() {
        List<Object> argv = new ArrayList<>(HEADER + fields.size());
        argv.add(token);
        argv.add(channel);
        argv.add(message);
        argv.add(absoluteLifetime == null ? "" : Long.toString(absoluteLifetime.toMillis()));
        argv.addAll(fields);
        return argv.toArray();
    }
}
