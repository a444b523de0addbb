package io.lbkit.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The size computed from the changed attributes only equals the size of the whole encoding. */
class AttributesSizeTest {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String[] NAMES = {"a", "user", "cart", "é-name", "emoji\uD83D\uDE00", "quote\"d", "ctl\u0001", ""};

    private static JsonNode value(Random r) {
        return switch (r.nextInt(7)) {
            case 0 -> F.numberNode(r.nextLong());
            case 1 -> F.textNode("v" + r.nextInt(1000) + (r.nextBoolean() ? "\u00fc\uD83D\uDE00\n\"" : ""));
            case 2 -> F.booleanNode(r.nextBoolean());
            case 3 -> F.numberNode(new BigDecimal("12345678901234567890.25"));
            case 4 -> F.arrayNode().add(r.nextInt()).add("x");
            case 5 -> {
                ObjectNode o = F.objectNode();
                o.put("k" + r.nextInt(3), r.nextInt(10));
                yield o;
            }
            default -> F.numberNode(r.nextDouble());
        };
    }

    @Test
    void incrementalSizeMatchesFullEncoding() {
        SessionSettings settings = SessionSettings.defaults();
        Random r = new Random(42);
        for (int round = 0; round < 2000; round++) {
            Map<String, JsonNode> before = new LinkedHashMap<>();
            for (int i = r.nextInt(5); i > 0; i--) {
                before.put(NAMES[r.nextInt(NAMES.length)], value(r));
            }
            SessionChanges.Builder b = SessionChanges.builder();
            for (int i = 1 + r.nextInt(4); i > 0; i--) {
                String name = NAMES[r.nextInt(NAMES.length)];
                switch (r.nextInt(3)) {
                    case 0 -> b.set(name, value(r));
                    case 1 -> b.remove(name);
                    default -> {
                        ObjectNode patch = F.objectNode();
                        patch.put("k" + r.nextInt(3), r.nextBoolean() ? F.numberNode(r.nextInt()) : F.nullNode());
                        b.merge(name, patch);
                    }
                }
            }
            SessionChanges changes = b.build();
            Map<String, JsonNode> after = Attributes.apply(before, changes);
            int incremental = Attributes.checkLimits(settings, Attributes.encodedSize(before), before, after, changes);
            assertEquals(Attributes.encodedSize(after), incremental, "round " + round + ": " + before + " -> " + after);
        }
    }

    @Test
    void incrementalCheckEnforcesTheByteLimit() {
        SessionSettings settings = SessionSettings.builder().maxSessionBytes(64).build();
        Map<String, JsonNode> before = Map.of("a", F.textNode("x"));
        SessionChanges changes = SessionChanges.builder().set("b", F.textNode("y".repeat(60))).build();
        Map<String, JsonNode> after = Attributes.apply(before, changes);
        SessionLimitException e = assertThrows(SessionLimitException.class,
                () -> Attributes.checkLimits(settings, Attributes.encodedSize(before), before, after, changes));
        assertEquals("session attributes take " + Attributes.encodedSize(after)
                + " bytes as JSON, more than maxSessionBytes=64", e.getMessage());
    }
}
