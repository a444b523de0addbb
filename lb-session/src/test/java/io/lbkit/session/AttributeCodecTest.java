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
}
