package io.lbkit.session;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts {@code HttpSession} attribute values to the JSON a {@link SessionStore} keeps, and
 * back, without Jackson's polymorphic default typing: a stored class name is only ever looked up
 * in this codec's allow-list, never loaded by name.
 *
 * <h2>Encoding</h2>
 * <table>
 *   <caption>Java value to JSON</caption>
 *   <tr><th>Java</th><th>JSON</th></tr>
 *   <tr><td>{@code null}</td><td>{@code null}</td></tr>
 *   <tr><td>{@link String}</td><td>string</td></tr>
 *   <tr><td>{@link Boolean}</td><td>{@code true}/{@code false}</td></tr>
 *   <tr><td>{@link Integer}, {@link Long}, {@link Short}, {@link Byte}, {@link BigInteger}</td>
 *       <td>integer number</td></tr>
 *   <tr><td>{@link Double}, {@link Float} (finite only)</td><td>number</td></tr>
 *   <tr><td>{@link BigDecimal}</td><td>number; an integral value ({@code 100}, {@code 1E+2},
 *       {@code 5.00}) is written as an integer</td></tr>
 *   <tr><td>{@link List} of supported values</td><td>array</td></tr>
 *   <tr><td>{@link Map} with {@link String} keys and supported values</td><td>object (the key
 *       {@value #TYPE_KEY} is reserved)</td></tr>
 *   <tr><td>{@link JsonNode}</td><td>itself, unchanged</td></tr>
 *   <tr><td>an instance of a class on the allow-list (exact class)</td>
 *       <td>{@code {"@lbkit.type": "<class name>", "value": <Jackson's tree of the object>}}</td></tr>
 * </table>
 * Anything else (a {@code Set}, an array, {@code NaN}, a class not on the list) is refused with
 * an {@link IllegalArgumentException} naming the type, at {@code setAttribute} time.
 *
 * <h2>Only what reads back unchanged</h2>
 * Every value, a {@link JsonNode} included (a session API body, a backend's session header), is
 * refused with an {@link IllegalArgumentException} when a reader would get something else back:
 * <ul>
 *   <li>a string or an object key with an unpaired UTF-16 surrogate (U+D800 alone): not Unicode
 *       text, so not valid JSON text once written as UTF-8;</li>
 *   <li>a number that a reader holding numbers as doubles cannot hold: beyond
 *       &plusmn;{@value Double#MAX_VALUE} (it would read {@code Infinity}), a non-zero number
 *       closer to 0 than {@value Double#MIN_VALUE} (it would read 0), {@code NaN} or an infinity.
 *       Within that range every number is kept exactly, digits beyond a double's included;</li>
 *   <li>a value nested deeper than {@value #MAX_DEPTH} levels, and a {@code JsonNode} that holds
 *       binary data or a Java object rather than JSON.</li>
 * </ul>
 * The message names the attribute (when given), the place inside the value as a JSON Pointer
 * (RFC 6901) and the problem, never the value.
 *
 * <h2>Decoding: what comes back</h2>
 * <ul>
 *   <li>Strings, booleans and {@code null} come back as themselves.</li>
 *   <li>An integer number comes back as {@link Integer} if it fits, else {@link Long} if it fits,
 *       else {@link BigInteger}. So an {@code Integer} round-trips exactly; a {@code Long},
 *       {@code Short}, {@code Byte} or {@code BigInteger} comes back as the smallest of those
 *       three types that holds its value (read numbers through {@link Number}).</li>
 *   <li>A non-integral number comes back as {@link Double} when that double has exactly the
 *       decimal value stored, else as {@link BigDecimal}; no precision is ever lost. A finite
 *       {@code Double} round-trips exactly; a {@code Float} comes back as the {@code Double}
 *       of its decimal text ({@code 0.1f} → {@code 0.1d}); a non-integral {@code BigDecimal}
 *       comes back as an equal-valued {@code Double} or {@code BigDecimal}.</li>
 *   <li>An array comes back as a mutable {@link ArrayList}, an object as a mutable
 *       {@link LinkedHashMap}, recursively. A stored {@code JsonNode} therefore comes back as
 *       plain Java values, not as a {@code JsonNode}.</li>
 *   <li>A typed wrapper whose class is on the allow-list comes back as an instance bound by
 *       Jackson (unknown properties ignored, so a field removed in a newer version is not an
 *       error). A wrapper naming a class that is not on the list, or whose value no longer
 *       binds, comes back as {@link #UNAVAILABLE}: logged once per class name at WARN, never
 *       thrown, the class never loaded.</li>
 * </ul>
 * The result does not depend on the store: a value read straight from memory and one re-parsed
 * from Redis decode the same.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class AttributeCodec {

    private static final Logger log = LoggerFactory.getLogger(AttributeCodec.class);

    /** The reserved property that marks a typed wrapper object: {@value}. */
    public static final String TYPE_KEY = "@lbkit.type";
    /** The property of a typed wrapper that holds the object: {@value}. */
    public static final String VALUE_KEY = "value";

    /**
     * What {@link #decode} returns for a stored value that cannot be given back (class not on
     * the allow-list, or data that no longer binds). Compare with {@code ==}.
     */
    public static final Object UNAVAILABLE = new Object() {
        @Override
        public String toString() {
            return "AttributeCodec.UNAVAILABLE";
        }
    };

    private static final AttributeCodec DEFAULTS = builder().build();
    private static final int MAX_LOGGED = 1024;
    /** The deepest nesting of arrays and objects a value may have. */
    static final int MAX_DEPTH = 200;
    private static final int MAX_NAME_SHOWN = 64;

    private final Map<String, Class<?>> allowed;
    private final ObjectMapper mapper;
    private final Set<String> logged = ConcurrentHashMap.newKeySet();

    private AttributeCodec(Builder b) {
        this.allowed = Map.copyOf(b.allowed);
        this.mapper = JsonMapper.builder()
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .build();
    }

    /** A codec with no typed classes: plain JSON values only. */
    public static AttributeCodec defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The allow-listed classes by name. */
    public Set<String> allowedClassNames() {
        return allowed.keySet();
    }

    /**
     * The JSON form of an attribute value.
     *
     * @throws IllegalArgumentException when the value (or something inside it) has a type this
     *     codec does not store, or would not read back unchanged (see the class documentation);
     *     the message names the type or the problem, never the value
     */
    public JsonNode encode(Object value) {
        return encode(null, value);
    }

    /**
     * The JSON form of the value of attribute {@code name}: {@link #encode(Object)}, with the name
     * checked too (no unpaired surrogate) and named in the message of a refusal. A
     * {@link JsonNode} value is checked and returned unchanged, so a writer of JSON from outside
     * (the session API, a backend's session header) refuses what cannot be stored.
     *
     * @param name the attribute's name, or {@code null} when it is checked elsewhere
     * @throws IllegalArgumentException when the name or the value cannot be stored and read back
     *     unchanged; the message names the attribute, the place inside the value and the problem
     */
    public JsonNode encode(String name, Object value) {
        try {
            if (name != null) {
                checkText(name, "a name");
            }
            return encode(value, 0, Collections.newSetFromMap(new IdentityHashMap<>()));
        } catch (Refusal r) {
            throw new IllegalArgumentException(r.message(name));
        }
    }

    private JsonNode encode(Object value, int depth, Set<Object> path) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (depth > MAX_DEPTH) {
            throw Refusal.tooDeep();
        }
        if (value == null) {
            return f.nullNode();
        }
        if (value instanceof JsonNode n) {
            checkJson(n, depth);
            return n;
        }
        if (value instanceof String s) {
            checkText(s, "a string");
            return f.textNode(s);
        }
        if (value instanceof Boolean b) {
            return f.booleanNode(b);
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return f.numberNode(((Number) value).intValue());
        }
        if (value instanceof Long l) {
            return integral(BigInteger.valueOf(l));
        }
        if (value instanceof BigInteger bi) {
            refuse(integerProblem(bi));
            return integral(bi);
        }
        if (value instanceof Double || value instanceof Float) {
            double d = value instanceof Float fl ? Double.parseDouble(fl.toString()) : (Double) value;
            refuse(Double.isFinite(d) ? null : NOT_FINITE);
            return f.numberNode(d);
        }
        if (value instanceof BigDecimal bd) {
            refuse(decimalProblem(bd)); // before an integral value is expanded to all its digits
            BigDecimal stripped = bd.signum() == 0 ? BigDecimal.ZERO : bd.stripTrailingZeros();
            if (stripped.scale() <= 0) {
                return integral(stripped.toBigIntegerExact());
            }
            return f.numberNode(bd);
        }
        if (value instanceof List<?> list) {
            enter(value, path);
            ArrayNode a = f.arrayNode(list.size());
            for (Object o : list) {
                try {
                    a.add(encode(o, depth + 1, path));
                } catch (Refusal r) {
                    throw r.within(Integer.toString(a.size()));
                }
            }
            path.remove(value);
            return a;
        }
        if (value instanceof Map<?, ?> m) {
            enter(value, path);
            ObjectNode o = f.objectNode();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("session attribute map keys must be strings, got "
                            + (e.getKey() == null ? "null" : e.getKey().getClass().getName()));
                }
                if (TYPE_KEY.equals(key)) {
                    throw new IllegalArgumentException("the map key '" + TYPE_KEY + "' is reserved");
                }
                checkKey(key);
                try {
                    o.set(key, encode(e.getValue(), depth + 1, path));
                } catch (Refusal r) {
                    throw r.within(key);
                }
            }
            path.remove(value);
            return o;
        }
        Class<?> type = value.getClass();
        if (allowed.get(type.getName()) == type) {
            ObjectNode w = f.objectNode();
            w.put(TYPE_KEY, type.getName());
            JsonNode tree = mapper.valueToTree(value);
            try {
                checkJson(tree, depth + 1);
            } catch (Refusal r) {
                throw r.within(VALUE_KEY);
            }
            w.set(VALUE_KEY, tree);
            return w;
        }
        throw new IllegalArgumentException("cannot store a " + type.getName()
                + " in a session: use String, Boolean, Integer, Long, Double, BigDecimal, BigInteger, "
                + "List, Map<String, ?> or JsonNode, or allow the class in the AttributeCodec");
    }

    // ---- what reads back unchanged -----------------------------------------------------------

    private static final String NOT_FINITE = "is NaN or infinite, which JSON cannot hold";
    private static final String TOO_LARGE = "is a number beyond the range of a double (±" + Double.MAX_VALUE
            + "): a reader that holds numbers as doubles gets Infinity";
    private static final String TOO_SMALL = "is a non-zero number closer to 0 than a double holds ("
            + Double.MIN_VALUE + "): a reader that holds numbers as doubles gets 0";

    /** Checks a JSON tree: a value given as a {@code JsonNode}, or an allow-listed object's tree. */
    private static void checkJson(JsonNode n, int depth) {
        if (depth > MAX_DEPTH) {
            throw Refusal.tooDeep();
        }
        switch (n.getNodeType()) {
            case STRING -> checkText(n.textValue(), "a string");
            case NUMBER -> refuse(numberProblem(n));
            case BOOLEAN, NULL -> {
            }
            case ARRAY -> {
                for (int i = 0; i < n.size(); i++) {
                    try {
                        checkJson(n.get(i), depth + 1);
                    } catch (Refusal r) {
                        throw r.within(Integer.toString(i));
                    }
                }
            }
            case OBJECT -> {
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    checkKey(e.getKey());
                    try {
                        checkJson(e.getValue(), depth + 1);
                    } catch (Refusal r) {
                        throw r.within(e.getKey());
                    }
                }
            }
            case BINARY -> throw new Refusal("is binary data, not a JSON value: store it as a string");
            default -> throw new Refusal("is a Java object or a missing value, not a JSON value");
        }
    }

    private static void checkKey(String key) {
        checkText(key, "the object key '" + printable(key) + "'");
    }

    /** Refuses text with an unpaired UTF-16 surrogate; {@code what} names the text in the message. */
    private static void checkText(String s, String what) {
        int i = unpairedSurrogate(s);
        if (i >= 0) {
            throw new Refusal("has " + what + " with an unpaired UTF-16 surrogate (" + escape(s.charAt(i))
                    + " at index " + i + "), which is not Unicode text");
        }
    }

    /** The index of the first surrogate that is not half of a pair, or -1. */
    static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    private static String numberProblem(JsonNode n) {
        if (n.isDouble() || n.isFloat()) {
            return Double.isFinite(n.doubleValue()) ? null : NOT_FINITE;
        }
        if (n.isBigInteger()) {
            return integerProblem(n.bigIntegerValue());
        }
        if (n.isBigDecimal()) {
            return decimalProblem(n.decimalValue());
        }
        return null; // int, long, short: always within a double's range
    }

    private static String integerProblem(BigInteger v) {
        return v.bitLength() > 1024 || Double.isInfinite(v.doubleValue()) ? TOO_LARGE : null;
    }

    private static String decimalProblem(BigDecimal v) {
        if (v.signum() == 0) {
            return null;
        }
        long exponent = (long) v.precision() - v.scale() - 1; // v = d.ddd × 10^exponent
        if (exponent > 308) {
            return TOO_LARGE; // decided without expanding the digits of 1e999999999
        }
        if (exponent < -324) {
            return TOO_SMALL;
        }
        double d = v.doubleValue();
        return Double.isInfinite(d) ? TOO_LARGE : d == 0 ? TOO_SMALL : null;
    }

    private static void refuse(String problem) {
        if (problem != null) {
            throw new Refusal(problem);
        }
    }

    /** Text fit for a message or a log line: control characters and unpaired surrogates escaped, cut at 64. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_NAME_SHOWN) + 8);
        for (int i = 0; i < s.length() && i < MAX_NAME_SHOWN; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (Character.isISOControl(c) || Character.isSurrogate(c)) {
                b.append(escape(c));
            } else {
                b.append(c);
            }
        }
        return s.length() > MAX_NAME_SHOWN ? b.append("…").toString() : b.toString();
    }

    private static String escape(char c) {
        return String.format("\\u%04x", (int) c);
    }

    /**
     * Why a value is refused. The place inside it is filled in on the way out of the recursion
     * (nothing is built while all is well); {@link #encode(String, Object)} turns it into an
     * {@link IllegalArgumentException}.
     */
    private static final class Refusal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient Deque<String> at = new ArrayDeque<>();
        private final boolean placed;

        Refusal(String problem) {
            this(problem, true);
        }

        private Refusal(String problem, boolean placed) {
            super(problem, null, false, false);
            this.placed = placed;
        }

        /** Too deep: said without the place, which would list every level. */
        static Refusal tooDeep() {
            return new Refusal("nests deeper than " + MAX_DEPTH + " levels", false);
        }

        Refusal within(String segment) {
            if (placed) {
                at.addFirst(segment);
            }
            return this;
        }

        String message(String name) {
            StringBuilder b = new StringBuilder("session attribute");
            if (name != null) {
                b.append(" '").append(printable(name)).append('\'');
            }
            if (!at.isEmpty()) {
                b.append(" at ");
                for (String segment : at) {
                    b.append('/').append(printable(segment.replace("~", "~0").replace("/", "~1")));
                }
            }
            return b.append(' ').append(getMessage()).toString();
        }
    }

    private static void enter(Object container, Set<Object> path) {
        if (!path.add(container)) {
            throw new IllegalArgumentException("session attribute contains a reference cycle");
        }
    }

    private static JsonNode integral(BigInteger v) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (v.bitLength() < 32) {
            return f.numberNode(v.intValue());
        }
        if (v.bitLength() < 64) {
            return f.numberNode(v.longValue());
        }
        return f.numberNode(v);
    }

    /**
     * The Java value of a stored attribute (see the class documentation for the exact types).
     *
     * @param name the attribute's name, for the log line only
     * @return the value, {@code null} for JSON null or a missing node, or {@link #UNAVAILABLE}
     */
    public Object decode(String name, JsonNode node) {
        return decode(name, node, 0);
    }

    private Object decode(String name, JsonNode node, int depth) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        switch (node.getNodeType()) {
            case STRING:
                return node.textValue();
            case BOOLEAN:
                return node.booleanValue();
            case NUMBER:
                return number(node);
            case ARRAY: {
                List<Object> list = new ArrayList<>(node.size());
                for (JsonNode e : node) {
                    Object v = decode(name, e, depth + 1);
                    if (v == UNAVAILABLE) {
                        return UNAVAILABLE;
                    }
                    list.add(v);
                }
                return list;
            }
            case OBJECT: {
                JsonNode type = node.get(TYPE_KEY);
                if (type != null) {
                    return typed(name, type, node.get(VALUE_KEY));
                }
                Map<String, Object> map = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : node.properties()) {
                    Object v = decode(name, e.getValue(), depth + 1);
                    if (v == UNAVAILABLE) {
                        return UNAVAILABLE;
                    }
                    map.put(e.getKey(), v);
                }
                return map;
            }
            default:
                unavailable(name, "node type " + node.getNodeType(), null);
                return UNAVAILABLE;
        }
    }

    private Object typed(String name, JsonNode type, JsonNode value) {
        String className = type.isTextual() ? type.textValue() : String.valueOf(type);
        Class<?> cls = allowed.get(className);
        if (cls == null) {
            unavailable(name, "class " + className + " is not on the allow-list", null);
            return UNAVAILABLE;
        }
        try {
            return mapper.treeToValue(value, cls);
        } catch (Exception e) {
            unavailable(name, "stored " + className + " no longer binds", e);
            return UNAVAILABLE;
        }
    }

    private void unavailable(String name, String why, Exception e) {
        String key = why;
        if (logged.size() < MAX_LOGGED && logged.add(key)) {
            log.warn("session attribute '{}' is unavailable: {} (logged once){}", name, why,
                    e == null ? "" : ": " + e.getClass().getSimpleName());
        }
    }

    private static Object number(JsonNode node) {
        if (node.isIntegralNumber()) {
            if (node.isInt()) {
                return node.intValue();
            }
            return narrow(node.bigIntegerValue());
        }
        BigDecimal bd = node.isDouble() || node.isFloat()
                ? new BigDecimal(Double.toString(node.doubleValue()))
                : node.decimalValue();
        BigDecimal stripped = bd.signum() == 0 ? BigDecimal.ZERO : bd.stripTrailingZeros();
        double d = bd.doubleValue();
        if (Double.isFinite(d) && new BigDecimal(Double.toString(d)).compareTo(stripped) == 0) {
            return d;
        }
        return bd;
    }

    private static Object narrow(BigInteger v) {
        if (v.bitLength() < 32) {
            return v.intValue();
        }
        if (v.bitLength() < 64) {
            return v.longValue();
        }
        return v;
    }

    /** Configures an {@link AttributeCodec}. */
    public static final class Builder {
        private final Map<String, Class<?>> allowed = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Allows instances of exactly these classes (not subclasses) to be stored as typed
         * wrappers and bound back with Jackson. Only list plain data classes (records, beans) that
         * are safe to build from data a client or another instance may have written.
         */
        public Builder allow(Class<?>... classes) {
            for (Class<?> c : classes) {
                Objects.requireNonNull(c, "allowed class");
                if (c.isPrimitive() || c.isArray() || c.isInterface()
                        || java.lang.reflect.Modifier.isAbstract(c.getModifiers())) {
                    throw new IllegalArgumentException("allow needs a concrete class, got " + c.getName());
                }
                allowed.put(c.getName(), c);
            }
            return this;
        }

        public AttributeCodec build() {
            return new AttributeCodec(this);
        }
    }
}
