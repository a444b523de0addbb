package io.lbkit.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The JSON text of attribute values, for a {@link SessionStore} that keeps them as text (the
 * Redis store keeps one hash field of JSON text per attribute). Every store goes through one
 * Jackson configuration: the plain tree model without polymorphic default typing, decimals read
 * as {@link java.math.BigDecimal} so that numbers come back exact, nothing accepted after the
 * value.
 *
 * <p>The sizes are the ones {@link SessionSettings#maxSessionBytes()} is checked against: the
 * attributes as one JSON object, {@code {"a":1,"b":2}}, take two bytes of braces, one comma
 * between members, and per member {@link #nameSize} of the name plus the UTF-8 length of
 * {@link #write} of the value. A store that adds these up on its server (in a script) agrees with
 * {@link SessionSettings#checkLimits} to the byte.
 */
public final class SessionJson {

    private SessionJson() {
    }

    /** The compact JSON text of {@code value}; its UTF-8 length is what the size limit counts. */
    public static String write(JsonNode value) {
        return new String(bytes(value), StandardCharsets.UTF_8);
    }

    /**
     * The value that {@code text} holds.
     *
     * @throws IllegalArgumentException when {@code text} is not exactly one JSON value (the
     *     message quotes none of it: it may be session data)
     */
    public static JsonNode read(String text) {
        try {
            JsonNode node = Attributes.MAPPER.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new IllegalArgumentException("session attribute text holds no JSON value");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("session attribute text is not valid JSON ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /** Bytes of {@code attributes} encoded as one JSON object: what {@code maxSessionBytes} limits. */
    public static int size(Map<String, JsonNode> attributes) {
        return Attributes.encodedSize(attributes);
    }

    /**
     * Bytes an attribute's name adds to the encoded attribute object: the quoted, escaped name
     * and the colon after it.
     */
    public static int nameSize(String name) {
        int n = name.length();
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                // escapes and multi-byte characters: count what Jackson writes
                return bytes(Attributes.MAPPER.getNodeFactory().textNode(name)).length + 1;
            }
        }
        return n + 3; // printable ASCII: the name, two quotes and the colon
    }

    private static byte[] bytes(JsonNode value) {
        try {
            return Attributes.MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("session attribute value cannot be encoded as JSON", e);
        }
    }
}
