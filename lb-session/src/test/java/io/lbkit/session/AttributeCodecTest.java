package io.lbkit.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AttributeCodecTest {

    public record Cart(String owner, List<String> items) {
    }

    /** Counts constructions: proves an unlisted class is never instantiated. */
    public static final class Gadget {
        static final AtomicInteger CREATED = new AtomicInteger();
        public String cmd;

        public Gadget() {
            CREATED.incrementAndGet();
        }
    }

    private final AttributeCodec codec = AttributeCodec.builder().allow(Cart.class).build();

    /** Both paths a stored value takes: kept as a tree (in memory) and re-parsed from text (Redis). */
    private List<Object> roundTrips(Object v) throws Exception {
        JsonNode n = codec.encode(v);
        JsonNode reparsed = Attributes.MAPPER.readTree(Attributes.MAPPER.writeValueAsString(n));
        return java.util.Arrays.asList(codec.decode("a", n), codec.decode("a", reparsed));
    }

    private void assertRoundTrip(Object expected, Object in) throws Exception {
        for (Object out : roundTrips(in)) {
            assertEquals(expected, out, "for " + in);
            if (expected != null) {
                assertEquals(expected.getClass(), out.getClass(), "type for " + in);
            }
        }
    }

    @Test
    void scalarsComeBackAsDocumented() throws Exception {
        assertRoundTrip(null, null);
        assertRoundTrip("héllo", "héllo");
        assertRoundTrip(true, true);
        assertRoundTrip(42, 42);
        assertRoundTrip(42, 42L);
        assertRoundTrip(7, (short) 7);
        assertRoundTrip(7, (byte) 7);
        assertRoundTrip(1L << 40, 1L << 40);
        assertRoundTrip(Long.MIN_VALUE, Long.MIN_VALUE);
        assertRoundTrip(5, BigInteger.valueOf(5));
        BigInteger huge = BigInteger.TWO.pow(100);
        assertRoundTrip(huge, huge);
        assertRoundTrip(0.1, 0.1);
        assertRoundTrip(100.0, 100.0);
        assertRoundTrip(-0.5, -0.5);
        assertRoundTrip(1.0E300, 1.0E300);
        assertRoundTrip(0.1, 0.1f);
        assertRoundTrip(0.1, new BigDecimal("0.1"));
        assertRoundTrip(100, new BigDecimal("100"));
        assertRoundTrip(100, new BigDecimal("1E+2"));
        assertRoundTrip(5, new BigDecimal("5.00"));
        BigDecimal exact = new BigDecimal("0.10000000000000000000000001");
        assertRoundTrip(exact, exact);
    }

    @Test
    void collectionsComeBackMutable() throws Exception {
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("n", 1);
        in.put("list", List.of("a", 2, List.of()));
        in.put("nested", Map.of("k", false));
        in.put("nothing", null);
        for (Object out : roundTrips(in)) {
            assertEquals(in, out);
            assertTrue(out instanceof LinkedHashMap);
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) out;
            assertTrue(m.get("list") instanceof ArrayList);
            m.put("more", 1); // mutable
        }
        JsonNode node = Attributes.MAPPER.readTree("{\"a\":[1,{\"b\":null}]}");
        assertSame(node, codec.encode(node), "JsonNode stored as is");
        assertEquals(Map.of("a", List.of(1, new HashMap<String, Object>() {{ put("b", null); }})),
                codec.decode("x", node));
    }

    @Test
    void allowListedClassRoundTripsAsTypedWrapper() throws Exception {
        Cart cart = new Cart("ann", List.of("apple", "pear"));
        JsonNode n = codec.encode(cart);
        assertEquals(Cart.class.getName(), n.get(AttributeCodec.TYPE_KEY).textValue());
        assertEquals("ann", n.get("value").get("owner").textValue());
        for (Object out : roundTrips(cart)) {
            assertEquals(cart, out);
        }
        // unknown property from a newer version is ignored
        JsonNode newer = Attributes.MAPPER.readTree("{\"@lbkit.type\":\"" + Cart.class.getName()
                + "\",\"value\":{\"owner\":\"bo\",\"items\":[],\"coupon\":\"X\"}}");
        assertEquals(new Cart("bo", List.of()), codec.decode("cart", newer));
    }

    @Test
    void unlistedClassInStoredDataIsUnavailableAndNeverInstantiated() throws Exception {
        int before = Gadget.CREATED.get();
        JsonNode stored = Attributes.MAPPER.readTree("{\"@lbkit.type\":\"" + Gadget.class.getName()
                + "\",\"value\":{\"cmd\":\"rm -rf /\"}}");
        assertSame(AttributeCodec.UNAVAILABLE, codec.decode("g", stored));
        assertSame(AttributeCodec.UNAVAILABLE, codec.decode("g", stored), "second time too (logged once)");
        JsonNode nested = Attributes.MAPPER.readTree("{\"x\":[" + stored + "]}");
        assertSame(AttributeCodec.UNAVAILABLE, codec.decode("g", nested));
        JsonNode missingClass = Attributes.MAPPER.readTree("{\"@lbkit.type\":\"com.example.Gone\",\"value\":{}}");
        assertSame(AttributeCodec.UNAVAILABLE, codec.decode("g", missingClass));
        assertEquals(before, Gadget.CREATED.get());
    }

    @Test
    void allowListedDataThatNoLongerBindsIsUnavailable() throws Exception {
        JsonNode bad = Attributes.MAPPER.readTree("{\"@lbkit.type\":\"" + Cart.class.getName()
                + "\",\"value\":{\"items\":{\"not\":\"a list\"}}}");
        assertSame(AttributeCodec.UNAVAILABLE, codec.decode("cart", bad));
    }

    @Test
    void unsupportedValuesAreRefusedWithTheirType() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> codec.encode(new Gadget()));
        assertTrue(e.getMessage().contains(Gadget.class.getName()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> codec.encode(Set.of(1)));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(Map.of(1, "x")));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(Map.of("@lbkit.type", "x")));
        assertThrows(IllegalArgumentException.class, () -> AttributeCodec.defaults().encode(new Cart("a", List.of())));
        List<Object> cyclic = new ArrayList<>();
        cyclic.add(cyclic);
        assertThrows(IllegalArgumentException.class, () -> codec.encode(cyclic));
        assertThrows(IllegalArgumentException.class, () -> AttributeCodec.builder().allow(List.class));
    }

    // ---- only what reads back unchanged -----------------------------------------------------

    private static final String LONE_HIGH = "\uD800";
    private static final String LONE_LOW = "\uDC00";

    private String refusal(String name, Object value) {
        return assertThrows(IllegalArgumentException.class, () -> codec.encode(name, value)).getMessage();
    }

    private static JsonNode json(String text) throws Exception {
        return Attributes.MAPPER.readTree(text);
    }

    @Test
    void unpairedSurrogatesAreRefusedInStringsKeysAndNamesWhereverTheyAre() throws Exception {
        String suffix = " with an unpaired UTF-16 surrogate (\\ud800 at index 1), which is not Unicode text";
        assertEquals("session attribute 's' has a string" + suffix, refusal("s", "x" + LONE_HIGH));
        assertEquals("session attribute has a string" + suffix, assertThrows(IllegalArgumentException.class,
                () -> codec.encode("x" + LONE_HIGH)).getMessage(), "without a name");
        assertEquals("session attribute 'x\\ud800' has a name" + suffix, refusal("x" + LONE_HIGH, 1));
        assertEquals("session attribute 'cart' at /items/1 has a string" + suffix,
                refusal("cart", Map.of("items", List.of("ok", "x" + LONE_HIGH))));
        assertEquals("session attribute 'm' at /a~1b~0c has the object key 'x\\ud800'" + suffix,
                refusal("m", Map.of("a/b~c", Map.of("x" + LONE_HIGH, 1))));
        assertEquals("session attribute 'cart' at /value/owner has a string" + suffix,
                refusal("cart", new Cart("x" + LONE_HIGH, List.of())));
        // the same checks for a JsonNode (the session API, a backend's session header)
        assertEquals("session attribute 'j' at /a/0 has a string" + suffix, refusal("j", json("{\"a\":[\"x\\ud800\"]}")));
        assertEquals("session attribute 'j' has the object key 'x\\ud800'" + suffix, refusal("j",
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("x" + LONE_HIGH, 1)));
        for (String bad : new String[] {LONE_LOW, LONE_HIGH + LONE_HIGH, LONE_LOW + LONE_HIGH, "a" + LONE_HIGH + "b"}) {
            assertThrows(IllegalArgumentException.class, () -> codec.encode(bad), bad);
            assertThrows(IllegalArgumentException.class, () -> codec.encode(json(
                    Attributes.MAPPER.writeValueAsString(bad))), "parsed " + bad);
        }
        assertRoundTrip("smile \uD83D\uDE00 pair", "smile \uD83D\uDE00 pair");
        assertRoundTrip(new LinkedHashMap<>(Map.of("\uD83D\uDE00", 1)), Map.of("\uD83D\uDE00", 1));
        assertEquals("session attribute 'k\\u000a\\u0000' has a string" + suffix,
                refusal("k\n\u0000", "x" + LONE_HIGH), "control characters of a name are escaped");
    }

    @Test
    void numbersADoubleReaderCannotHoldAreRefused() throws Exception {
        String tooLarge = " is a number beyond the range of a double (±1.7976931348623157E308): a reader that holds"
                + " numbers as doubles gets Infinity";
        String tooSmall = " is a non-zero number closer to 0 than a double holds (4.9E-324): a reader that holds"
                + " numbers as doubles gets 0";
        assertEquals("session attribute 'n'" + tooLarge, refusal("n", new BigDecimal("1e999999999")));
        assertEquals("session attribute 'n' at /0" + tooLarge, refusal("n", json("[1e999999999]")));
        assertEquals("session attribute 'n' at /x" + tooSmall, refusal("n", json("{\"x\":-1e-999999999}")));
        assertEquals("session attribute 'n' is NaN or infinite, which JSON cannot hold", refusal("n", Double.NaN));
        for (String text : new String[] {"1.8e308", "-1.8e308", "1e309", "1E+400", "1e-325", "-2e-324"}) {
            assertThrows(IllegalArgumentException.class, () -> codec.encode(new BigDecimal(text)), text);
            assertThrows(IllegalArgumentException.class, () -> codec.encode(json(text)), "parsed " + text);
        }
        assertThrows(IllegalArgumentException.class, () -> codec.encode(BigInteger.TWO.pow(1024)));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(json("1" + "0".repeat(400))));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(Float.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(
                com.fasterxml.jackson.databind.node.DoubleNode.valueOf(Double.NaN)));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(
                com.fasterxml.jackson.databind.node.FloatNode.valueOf(Float.NEGATIVE_INFINITY)));
        // the edges of the range are kept, exactly
        assertRoundTrip(Double.MAX_VALUE, Double.MAX_VALUE);
        assertRoundTrip(Double.MIN_VALUE, Double.MIN_VALUE);
        assertRoundTrip(BigInteger.TWO.pow(1023), BigInteger.TWO.pow(1023));
        BigDecimal precise = new BigDecimal("1.00000000000000000000000000000000000001E-300");
        assertRoundTrip(precise, precise);
        assertRoundTrip(BigInteger.TEN.pow(308), new BigDecimal("1E+308"));
        assertEquals(0, codec.encode(json("0e999999999")).intValue(), "zero at any exponent is zero");
    }

    @Test
    void nestingDeeperThan200LevelsIsRefusedForJavaAndJsonValuesAlike() throws Exception {
        Object java = List.of();
        for (int i = 1; i < 201; i++) {
            java = List.of(java);
        }
        JsonNode jsonValue = json("[".repeat(201) + "]".repeat(201));
        assertEquals(jsonValue, codec.encode(java), "201 nested arrays are stored");
        assertSame(jsonValue, codec.encode("deep", jsonValue));
        Object deeper = List.of(java);
        JsonNode deeperJson = json("[".repeat(202) + "]".repeat(202));
        assertEquals("session attribute 'deep' nests deeper than 200 levels", refusal("deep", deeper));
        assertEquals("session attribute 'deep' nests deeper than 200 levels", refusal("deep", deeperJson));
    }

    @Test
    void aJsonNodeHoldingNoJsonIsRefused() {
        assertEquals("session attribute 'b' is binary data, not a JSON value: store it as a string",
                refusal("b", com.fasterxml.jackson.databind.node.BinaryNode.valueOf(new byte[] {1})));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.pojoNode(new Object())));
    }
}
