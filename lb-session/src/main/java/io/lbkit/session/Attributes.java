package io.lbkit.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Shared attribute logic of every store: applying {@link SessionChanges} (RFC 7386 merge for
 * {@code MERGE}), limit checks, and the one JSON mapper (plain tree model, no default typing).
 */
final class Attributes {

    /** The mapper every store uses: no polymorphic typing, big numbers kept exact. */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Attributes() {
    }

    /** The attributes after {@code changes}; {@code current} is not modified. */
    static Map<String, JsonNode> apply(Map<String, JsonNode> current, SessionChanges changes) {
        Map<String, JsonNode> next = new LinkedHashMap<>(current);
        for (SessionChanges.AttributeChange c : changes.changes()) {
            JsonNode value = c.applyTo(next.get(c.name()));
            if (value == null) {
                next.remove(c.name());
            } else {
                next.put(c.name(), value);
            }
        }
        return next;
    }

    /**
     * RFC 7386 MergePatch(target, patch). {@code target} is not modified; a missing or non-object
     * target is treated as {@code {}} when the patch is an object.
     */
    static JsonNode mergePatch(JsonNode target, JsonNode patch) {
        if (patch == null || !patch.isObject()) {
            return patch;
        }
        ObjectNode result = target != null && target.isObject()
                ? ((ObjectNode) target).deepCopy()
                : JsonNodeFactory.instance.objectNode();
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            if (e.getValue().isNull()) {
                result.remove(e.getKey());
            } else {
                result.set(e.getKey(), mergePatch(result.get(e.getKey()), e.getValue()));
            }
        }
        return result;
    }

    /**
     * Checks attribute count and encoded size against the settings.
     *
     * @return the encoded size in bytes of the attributes as one JSON object
     * @throws SessionLimitException naming the limit and the value that broke it
     */
    static int checkLimits(SessionSettings settings, Map<String, JsonNode> attributes) {
        if (attributes.size() > settings.maxAttributes()) {
            throw new SessionLimitException("session has " + attributes.size()
                    + " attributes, more than maxAttributes=" + settings.maxAttributes());
        }
        int size = encodedSize(attributes);
        if (size > settings.maxSessionBytes()) {
            throw new SessionLimitException("session attributes take " + size
                    + " bytes as JSON, more than maxSessionBytes=" + settings.maxSessionBytes());
        }
        return size;
    }

    /**
     * Checks the limits of {@code after}, the result of applying {@code changes} to {@code before}
     * whose encoded size is {@code beforeSize}, encoding only the changed attributes: the object
     * {@code {"a":1,"b":2}} takes 2 bytes of braces, one comma between members and each member's
     * {@code "name":value}.
     *
     * @return the encoded size of {@code after}, equal to {@link #encodedSize}{@code (after)}
     */
    static int checkLimits(SessionSettings settings, int beforeSize, Map<String, JsonNode> before,
                           Map<String, JsonNode> after, SessionChanges changes) {
        if (after.size() > settings.maxAttributes()) {
            throw new SessionLimitException("session has " + after.size()
                    + " attributes, more than maxAttributes=" + settings.maxAttributes());
        }
        long members = before.isEmpty() ? 0 : beforeSize - 2L - (before.size() - 1);
        java.util.Set<String> seen = changes.changes().size() > 1 ? new java.util.HashSet<>() : null;
        for (SessionChanges.AttributeChange c : changes.changes()) {
            String name = c.name();
            if (seen != null && !seen.add(name)) {
                continue;
            }
            JsonNode old = before.get(name);
            if (old != null) {
                members -= memberSize(name, old);
            }
            JsonNode now = after.get(name);
            if (now != null) {
                members += memberSize(name, now);
            }
        }
        long size = 2 + members + Math.max(0, after.size() - 1);
        if (size > settings.maxSessionBytes()) {
            throw new SessionLimitException("session attributes take " + size
                    + " bytes as JSON, more than maxSessionBytes=" + settings.maxSessionBytes());
        }
        return (int) size;
    }

    /** Bytes of {@code "name":value} inside the encoded attribute object. */
    static int memberSize(String name, JsonNode value) {
        try {
            return SessionJson.nameSize(name) + MAPPER.writeValueAsBytes(value).length;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode session attribute", e);
        }
    }

    static int encodedSize(Map<String, JsonNode> attributes) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.setAll(attributes);
        try {
            return MAPPER.writeValueAsBytes(o).length;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode session attributes", e);
        }
    }
}
