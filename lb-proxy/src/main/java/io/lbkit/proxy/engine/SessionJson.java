package io.lbkit.proxy.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON of session forwarding: the attributes as one header-safe value for the backend, and
 * the strict reading of the backend's merge patch. Stateless.
 */
final class SessionJson {

    /** Strict parsing: no duplicate members, no trailing tokens, exact decimals. */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .build();

    /** Compact JSON with only 0x20..0x7E left as is: safe as one header value. */
    private static final ObjectWriter HEADER_WRITER = MAPPER.writer().with(new HeaderSafeEscapes());

    private SessionJson() {
    }

    /** The attributes as one compact, ASCII-only JSON object, members sorted by name. */
    static String encode(Map<String, JsonNode> attributes) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.setAll(new TreeMap<>(attributes));
        try {
            return HEADER_WRITER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode session attributes", e);
        }
    }

    /** RFC 7386 MergePatch({}, patch): the patch with null members removed at every depth. */
    static Map<String, JsonNode> withoutNulls(JsonNode patch) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            JsonNode v = e.getValue();
            if (!v.isNull()) {
                out.put(e.getKey(), v.isObject() ? objectWithoutNulls(v) : v);
            }
        }
        return out;
    }

    private static ObjectNode objectWithoutNulls(JsonNode o) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.setAll(withoutNulls(o));
        return r;
    }

    /** JSON's standard escapes plus DEL; {@link JsonWriteFeature#ESCAPE_NON_ASCII} handles the rest. */
    private static final class HeaderSafeEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private static final int[] ESCAPES;

        static {
            int[] e = CharacterEscapes.standardAsciiEscapesForJSON();
            e[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
            ESCAPES = e;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ESCAPES;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return null;
        }
    }
}
