package io.lbkit.proxy.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * The body of a session API request: exactly one JSON object, read strictly (no duplicate key, no
 * trailing data, decimals kept exact). What is wrong is said in lbkit's words, never in the
 * parser's, which name its own classes and settings.
 */
final class JsonBody {

    /** The deepest nesting read; an attribute value is then held to AttributeCodec's 200 levels. */
    static final int MAX_NESTING = 1000;
    /** The longest number read, in characters. */
    static final int MAX_NUMBER_CHARS = 1000;
    private static final int MAX_POINTER_SHOWN = 200;

    /**
     * Reads and writes the API's JSON. Strings and keys have no limit of their own: the body's
     * size limit (413) and the session's (maxSessionBytes) bound them.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_NESTING)
                            .maxNumberLength(MAX_NUMBER_CHARS)
                            .maxStringLength(Integer.MAX_VALUE)
                            .maxNameLength(Integer.MAX_VALUE)
                            .build())
                    .build())
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    /** A body that is not one JSON object; the message says why. */
    static final class MalformedException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedException(String message) {
            super(message, null, false, false);
        }
    }

    private JsonBody() {
    }

    /** The body as a JSON object. */
    static ObjectNode object(byte[] body) throws MalformedException {
        JsonNode node;
        try (JsonParser p = MAPPER.createParser(body)) {
            node = read(p);
        } catch (IOException e) { // closing a parser over a byte array
            throw new MalformedException("the body could not be read");
        }
        if (node == null || node.isMissingNode()) {
            throw new MalformedException("a JSON object body is required");
        }
        if (!node.isObject()) {
            throw new MalformedException("the body must be a JSON object, got " + kind(node));
        }
        return (ObjectNode) node;
    }

    private static JsonNode read(JsonParser p) throws MalformedException, IOException {
        try {
            JsonNode node = MAPPER.readTree(p);
            if (node != null && p.nextToken() != null) {
                throw new MalformedException("the body has more after its JSON value" + at(p.currentTokenLocation()));
            }
            return node;
        } catch (StreamConstraintsException e) {
            throw new MalformedException(p.getParsingContext().getNestingDepth() > MAX_NESTING
                    ? "the body nests deeper than " + MAX_NESTING + " levels"
                    : "a number in the body is longer than " + MAX_NUMBER_CHARS + " characters"
                    + at(p.currentLocation()));
        } catch (DatabindException e) { // reading a tree, only a duplicate key is refused past the parser
            String pointer = p.getParsingContext().pathAsPointer().toString();
            if (pointer.length() > MAX_POINTER_SHOWN) {
                pointer = pointer.substring(0, MAX_POINTER_SHOWN) + "…";
            }
            throw new MalformedException("duplicate key at " + pointer);
        } catch (JsonEOFException e) {
            throw new MalformedException("malformed JSON: the body ends inside a value" + at(e.getLocation()));
        } catch (JsonProcessingException e) {
            throw new MalformedException("malformed JSON" + at(e.getLocation()));
        }
    }

    private static String at(JsonLocation l) {
        return l == null || l.getLineNr() < 0 ? "" : " at line " + l.getLineNr() + ", column " + l.getColumnNr();
    }

    private static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> "no JSON value";
        };
    }
}
