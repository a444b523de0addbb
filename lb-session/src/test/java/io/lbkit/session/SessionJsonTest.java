package io.lbkit.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The public helpers a store that keeps attributes as text builds on. */
class SessionJsonTest {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    @Test
    void nameSizeMatchesJacksonEncoding() {
        List<String> names = new ArrayList<>(List.of("a", "q\"\\", "\u0001\n\t", "é€😀", "", "attr0",
                "user name ~!", "x\u007f", "\u0080"));
        for (char c = 0; c < 0x100; c++) {
            names.add("n" + c); // each ASCII and Latin-1 character, printable ones on the fast path
        }
        for (String name : names) {
            int expected = SessionJson.size(Map.of(name, F.numberNode(1))) - 2 - 1;
            assertEquals(expected, SessionJson.nameSize(name), name);
        }
    }

    @Test
    void membersAddUpToTheSizeOfTheWholeObject() {
        Map<String, JsonNode> attributes = new LinkedHashMap<>();
        attributes.put("user", F.textNode("ann ü 😀"));
        attributes.put("q\"", F.numberNode(new BigDecimal("12345678901234567890.25")));
        attributes.put("cart", F.arrayNode().add(1).add("x"));
        long sum = 2 + (attributes.size() - 1);
        for (Map.Entry<String, JsonNode> e : attributes.entrySet()) {
            sum += SessionJson.nameSize(e.getKey())
                    + SessionJson.write(e.getValue()).getBytes(StandardCharsets.UTF_8).length;
        }
        assertEquals(SessionJson.size(attributes), sum);
    }

    @Test
    void readGivesBackWhatWriteWroteWithExactNumbers() {
        ObjectNode o = F.objectNode();
        o.put("dec", new BigDecimal("0.1000000000000000055511151231257827"));
        o.put("s", "ü\"\\\n😀");
        String text = SessionJson.write(o);
        assertEquals(o, SessionJson.read(text));
        assertEquals("0.1000000000000000055511151231257827",
                SessionJson.read(text).get("dec").decimalValue().toPlainString());
    }

    @Test
    void readRefusesWhatIsNotExactlyOneValueWithoutQuotingIt() {
        for (String bad : List.of("{not json", "1 2", "", "{\"secret\":1}x")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SessionJson.read(bad), bad);
            assertFalse(e.getMessage().contains("secret"), e.getMessage());
        }
    }

    @Test
    void applyToGivesTheValueAfterEachKindOfChange() {
        ObjectNode before = F.objectNode().put("a", 1).put("b", 2);
        SessionChanges changes = SessionChanges.builder().merge("m", F.objectNode().putNull("a").put("c", 3)).build();
        assertEquals(F.objectNode().put("b", 2).put("c", 3), changes.changes().get(0).applyTo(before));
        assertEquals(F.objectNode().put("b", 2), before.without("a"), "the value before is not modified");
        assertEquals(F.objectNode().put("c", 3), changes.changes().get(0).applyTo(null), "merge into nothing");
        assertEquals(F.numberNode(7), SessionChanges.builder().set("s", F.numberNode(7)).build()
                .changes().get(0).applyTo(before));
        assertNull(SessionChanges.builder().remove("r").build().changes().get(0).applyTo(before));
    }

    @Test
    void checkLimitsNamesTheLimitAndAnswersTheSize() {
        SessionSettings settings = SessionSettings.builder().maxAttributes(2).maxSessionBytes(64).build();
        Map<String, JsonNode> ok = Map.of("a", F.numberNode(1));
        assertEquals(SessionJson.size(ok), settings.checkLimits(ok));
        assertEquals("session has 3 attributes, more than maxAttributes=2", assertThrows(SessionLimitException.class,
                () -> settings.checkLimits(Map.of("a", F.numberNode(1), "b", F.numberNode(1), "c", F.numberNode(1))))
                .getMessage());
        Map<String, JsonNode> big = Map.of("a", F.textNode("x".repeat(70)));
        assertEquals("session attributes take " + SessionJson.size(big) + " bytes as JSON, more than maxSessionBytes=64",
                assertThrows(SessionLimitException.class, () -> settings.checkLimits(big)).getMessage());
    }
}
