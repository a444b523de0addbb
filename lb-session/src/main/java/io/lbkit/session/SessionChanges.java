package io.lbkit.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Attribute-level changes to apply to one session in a single atomic save. Build with
 * {@link #builder()} or from a JSON merge patch with {@link #fromMergePatch}. An empty change set
 * only slides the idle expiry.
 *
 * @param changes             one change per attribute name, in the order given
 * @param maxInactiveInterval a new idle timeout, or {@code null} to keep the current one
 * @param expectedVersion     compare-and-set: when present the save fails with
 *                            {@link VersionConflictException} unless the stored version equals it
 */
public record SessionChanges(List<AttributeChange> changes, Duration maxInactiveInterval,
                             OptionalLong expectedVersion) {

    public SessionChanges {
        changes = List.copyOf(changes);
        Objects.requireNonNull(expectedVersion, "expectedVersion");
        if (maxInactiveInterval != null && maxInactiveInterval.isNegative()) {
            throw new IllegalArgumentException("maxInactiveInterval must not be negative: " + maxInactiveInterval);
        }
    }

    /** No attribute changes: a save only slides the expiry. */
    public static SessionChanges none() {
        return new SessionChanges(List.of(), null, OptionalLong.empty());
    }

    public boolean isEmpty() {
        return changes.isEmpty() && maxInactiveInterval == null;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Turns an RFC 7386 JSON merge patch on the session's attribute object into changes: a
     * top-level {@code null} removes the attribute, an object value is merged into the stored
     * attribute ({@link AttributeChange.Kind#MERGE}, applied atomically by the store), anything
     * else replaces it.
     *
     * @throws IllegalArgumentException when the patch is not a JSON object
     */
    public static SessionChanges fromMergePatch(JsonNode patch) {
        if (patch == null || !patch.isObject()) {
            throw new IllegalArgumentException("a session merge patch must be a JSON object, got "
                    + (patch == null ? "nothing" : patch.getNodeType()));
        }
        Builder b = builder();
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            JsonNode v = e.getValue();
            if (v.isNull()) {
                b.remove(e.getKey());
            } else if (v.isObject()) {
                b.merge(e.getKey(), (ObjectNode) v);
            } else {
                b.set(e.getKey(), v);
            }
        }
        return b.build();
    }

    /** One attribute change. */
    public record AttributeChange(String name, Kind kind, JsonNode value) {
        public AttributeChange {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(kind, "kind");
            if (kind == Kind.REMOVE ? value != null : value == null || value.isNull()) {
                throw new IllegalArgumentException(kind + " of attribute '" + name
                        + "' " + (kind == Kind.REMOVE ? "takes no value" : "needs a non-null value"));
            }
            if (kind == Kind.MERGE && !value.isObject()) {
                throw new IllegalArgumentException("MERGE of attribute '" + name + "' needs an object patch");
            }
        }

        /**
         * The attribute's value after this change, given its value before ({@code null}: absent):
         * the value for {@link Kind#SET}, {@code null} for {@link Kind#REMOVE}, the RFC 7386 merge
         * of the patch into {@code current} for {@link Kind#MERGE}. {@code current} is not modified.
         */
        public JsonNode applyTo(JsonNode current) {
            return switch (kind) {
                case SET -> value;
                case REMOVE -> null;
                case MERGE -> Attributes.mergePatch(current, value);
            };
        }

        public enum Kind {
            /** Replace the attribute with the value. */
            SET,
            /** Remove the attribute. */
            REMOVE,
            /**
             * RFC 7386 merge of the object patch into the stored value (a missing or non-object
             * stored value is treated as {@code {}}), read and written atomically.
             */
            MERGE
        }
    }

    public static final class Builder {
        private final Map<String, AttributeChange> changes = new LinkedHashMap<>();
        private Duration maxInactiveInterval;
        private OptionalLong expectedVersion = OptionalLong.empty();

        private Builder() {
        }

        public Builder set(String name, JsonNode value) {
            changes.put(name, new AttributeChange(name, AttributeChange.Kind.SET, value));
            return this;
        }

        public Builder remove(String name) {
            changes.put(name, new AttributeChange(name, AttributeChange.Kind.REMOVE, null));
            return this;
        }

        public Builder merge(String name, ObjectNode patch) {
            changes.put(name, new AttributeChange(name, AttributeChange.Kind.MERGE, patch));
            return this;
        }

        public Builder maxInactiveInterval(Duration interval) {
            this.maxInactiveInterval = interval;
            return this;
        }

        public Builder expectedVersion(long version) {
            this.expectedVersion = OptionalLong.of(version);
            return this;
        }

        public SessionChanges build() {
            return new SessionChanges(new ArrayList<>(changes.values()), maxInactiveInterval, expectedVersion);
        }
    }
}
