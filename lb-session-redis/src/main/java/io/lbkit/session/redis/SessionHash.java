package io.lbkit.session.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionJson;
import io.lbkit.session.SessionSettings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one session is laid out in Redis: a hash {@code <keyPrefix>{<id>}} (the braces are a
 * Cluster hash tag, so every key of a session stays in one slot) with metadata fields and one
 * field {@code a:<name>} per attribute holding its JSON text ({@link SessionJson#write}). Times
 * are milliseconds of the Redis server's clock ({@code TIME}), so instances with skewed clocks
 * agree. The Lua scripts ({@link RedisScripts}) name the same fields.
 */
final class SessionHash {

    private static final Logger LOG = LoggerFactory.getLogger(RedisSessionStore.class);

    /** Creation time. */
    static final String CREATED = "#c";
    /** Last access: the start of the idle window. */
    static final String ACCESSED = "#a";
    /** Max inactive interval. */
    static final String IDLE = "#i";
    /** Version: 1 after create, +1 for every save that changes attributes. */
    static final String VERSION = "#v";
    /** Absolute expiry time; absent when the session has none. */
    static final String ABSOLUTE_EXPIRY = "#x";
    /** Number of attributes. */
    static final String COUNT = "#n";
    /** Sum of the attributes' member sizes, for the size limit. */
    static final String SIZE = "#s";
    /** Token of the last write: a script that Redisson re-sends after a timeout finds it and does nothing. */
    static final String TOKEN = "#t";
    /** Prefix of an attribute's field. */
    static final String ATTRIBUTE = "a:";

    private SessionHash() {
    }

    /** The key of a session. */
    static String key(String keyPrefix, String id) {
        return keyPrefix + "{" + id + "}";
    }

    /** The session id in a key of {@link #key}'s form, or null when {@code key} is not one. */
    static String idOfKey(String keyPrefix, String key) {
        if (key == null || !key.startsWith(keyPrefix + "{") || !key.endsWith("}")) {
            return null;
        }
        String id = key.substring(keyPrefix.length() + 1, key.length() - 1);
        return SessionIds.isWellFormed(id) ? id : null;
    }

    /** The hash field of an attribute. */
    static String attributeField(String name) {
        return ATTRIBUTE + name;
    }

    /** A field's value in a flat HGETALL reply ({@code field, value, field, value...}), or null. */
    static String get(List<Object> flat, String field) {
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            if (field.equals(flat.get(i))) {
                return (String) flat.get(i + 1);
            }
        }
        return null;
    }

    /** A hash read as a map, as the flat list the scripts answer. */
    static List<Object> flat(Map<String, String> hash) {
        List<Object> flat = new ArrayList<>(hash.size() * 2);
        hash.forEach((f, v) -> {
            flat.add(f);
            flat.add(v);
        });
        return flat;
    }

    /** The fields of a new session: max inactive, version 1, the attributes, their count and size. */
    static List<Object> newSession(SessionSettings settings, Map<String, JsonNode> attributes) {
        List<Object> fields = new ArrayList<>(8 + 2 * attributes.size());
        fields.add(IDLE);
        fields.add(Long.toString(settings.idleTimeout().toMillis()));
        fields.add(VERSION);
        fields.add("1");
        long size = 0;
        for (Map.Entry<String, JsonNode> e : attributes.entrySet()) {
            String text = SessionJson.write(e.getValue());
            fields.add(attributeField(e.getKey()));
            fields.add(text);
            size += SessionJson.nameSize(e.getKey()) + text.getBytes(StandardCharsets.UTF_8).length;
        }
        fields.add(COUNT);
        fields.add(Integer.toString(attributes.size()));
        fields.add(SIZE);
        fields.add(Long.toString(size));
        return fields;
    }

    /**
     * The fields a session keeps when it moves to a new id: all but the access time and the
     * last write's token, which the create script sets.
     */
    static List<Object> movedFields(List<Object> flat) {
        List<Object> fields = new ArrayList<>(flat.size());
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            Object f = flat.get(i);
            if (!ACCESSED.equals(f) && !TOKEN.equals(f)) {
                fields.add(f);
                fields.add(flat.get(i + 1));
            }
        }
        return fields;
    }

    /**
     * Nanoseconds from the session's last access to its absolute expiry ({@link Long#MAX_VALUE}
     * when it has none); negative when it is past it or the field does not hold a usable time.
     */
    static long absoluteRemainingNanos(List<Object> flat, Session session) {
        String expiry = get(flat, ABSOLUTE_EXPIRY);
        if (expiry == null) {
            return Long.MAX_VALUE;
        }
        try {
            return Math.multiplyExact(Long.parseLong(expiry) - session.lastAccessedTime().toEpochMilli(), 1_000_000L);
        } catch (ArithmeticException | NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Whether a load should slide the session: its last access (Redis time) is a tenth of the
     * idle timeout old at {@code nowMillis}, or lies in this host's future (a clock behind
     * Redis's: touching on every load is then the safe side).
     */
    static boolean touchDue(Map<String, String> hash, long nowMillis) {
        try {
            long since = nowMillis - Long.parseLong(hash.get(ACCESSED));
            return since < 0 || since >= Math.max(1, Long.parseLong(hash.get(IDLE)) / 10);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    /** The value of a stored attribute text, or null when it is not JSON. */
    static JsonNode attributeValue(String text) {
        try {
            return SessionJson.read(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The session in a flat HGETALL reply, or null (logged with the id's hash) when an attribute
     * is not JSON or metadata is missing or not a number. Fields this version does not know
     * ({@code #x}, {@code #n}, {@code #s}, {@code #t}, or a newer version's) are ignored.
     */
    static Session decode(String id, List<Object> flat) {
        Long created = null;
        Long accessed = null;
        Long idle = null;
        Long version = null;
        Map<String, JsonNode> attributes = new LinkedHashMap<>();
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            String field = (String) flat.get(i);
            String value = (String) flat.get(i + 1);
            if (field.startsWith(ATTRIBUTE)) {
                JsonNode node = attributeValue(value);
                if (node == null) {
                    LOG.warn("session id#{}: attribute is not valid JSON; treating the session as absent",
                            SessionIds.logHash(id));
                    return null;
                }
                attributes.put(field.substring(ATTRIBUTE.length()), node);
                continue;
            }
            try {
                switch (field) {
                    case CREATED -> created = Long.parseLong(value);
                    case ACCESSED -> accessed = Long.parseLong(value);
                    case IDLE -> idle = Long.parseLong(value);
                    case VERSION -> version = Long.parseLong(value);
                    default -> {
                        // other metadata or fields of a newer version: ignored
                    }
                }
            } catch (NumberFormatException e) {
                LOG.warn("session id#{}: metadata field {} is not a number; treating the session as absent",
                        SessionIds.logHash(id), field);
                return null;
            }
        }
        if (created == null || accessed == null || idle == null || version == null) {
            LOG.warn("session id#{}: metadata is missing; treating the session as absent", SessionIds.logHash(id));
            return null;
        }
        return new Session(id, attributes, Instant.ofEpochMilli(created), Instant.ofEpochMilli(accessed),
                Duration.ofMillis(idle), version);
    }
}
