package io.lbkit.session.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionJson;
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
