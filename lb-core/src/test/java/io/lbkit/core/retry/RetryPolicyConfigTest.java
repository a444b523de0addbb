package io.lbkit.core.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Parsing nginx syntax and builder validation. */
class RetryPolicyConfigTest {

    private static void assertMessage(IllegalArgumentException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should contain '" + p + "'");
        }
    }

    @Test
    void parsesEveryToken() {
        RetryPolicy p = RetryPolicy.parse(
                "error timeout invalid_header http_500 http_502 http_503 http_504 http_403 http_404 http_429 non_idempotent");
        assertEquals(EnumSet.allOf(RetryCondition.class), p.conditions());
        assertEquals("error timeout invalid_header http_500 http_502 http_503 http_504 http_403 http_404 http_429"
                + " non_idempotent", p.conditionsString());
        assertEquals(p, RetryPolicy.parse(p.conditionsString()), "round trip");
    }

    @Test
    void parsesTheBriefExample() {
        RetryPolicy p = RetryPolicy.parse("error timeout http_502 non_idempotent");
        assertEquals(Set.of(RetryCondition.ERROR, RetryCondition.TIMEOUT, RetryCondition.HTTP_502,
                RetryCondition.NON_IDEMPOTENT), p.conditions());
        assertEquals(0, p.tries());
        assertEquals(Duration.ZERO, p.timeout());
    }

    @Test
    void parseIsCaseInsensitiveToleratesWhitespaceAndDuplicates() {
        assertEquals(RetryPolicy.parse("error http_503"), RetryPolicy.parse("  ERROR\tHttp_503  error\n"));
    }

    @Test
    void offIsEmptyAndWinsOverOtherTokensAsInNginx() {
        assertEquals(RetryPolicy.off(), RetryPolicy.parse("off"));
        assertEquals(RetryPolicy.off(), RetryPolicy.parse("error off timeout"));
        assertEquals("off", RetryPolicy.parse("OFF").conditionsString());
    }

    @Test
    void unknownTokenIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryPolicy.parse("error http_501 timeout"));
        assertMessage(e, "\"http_501\"", "error http_501 timeout", "http_429", "non_idempotent");
        e = assertThrows(IllegalArgumentException.class, () -> RetryPolicy.parse("error,timeout"));
        assertMessage(e, "\"error,timeout\"");
        e = assertThrows(IllegalArgumentException.class, () -> RetryPolicy.parse("denied"));
        assertMessage(e, "\"denied\"", "Plus");
    }

    @Test
    void blankConditionsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RetryPolicy.parse("  "));
        assertMessage(e, "conditions", "off");
    }

    @Test
    void conditionTokensAndLookups() {
        for (RetryCondition c : RetryCondition.values()) {
            assertEquals(c, RetryCondition.fromToken(c.token()));
            assertEquals(c, RetryCondition.fromToken(c.token().toUpperCase()));
            if (c.status() != 0) {
                assertEquals("http_" + c.status(), c.token());
                assertEquals(c, RetryCondition.forStatus(c.status()));
            }
        }
        assertMessage(assertThrows(IllegalArgumentException.class, () -> RetryCondition.fromToken("off")), "off");
    }

    @Test
    void builderSettingsAndToBuilder() {
        RetryPolicy p = RetryPolicy.builder()
                .conditions(RetryCondition.ERROR, RetryCondition.HTTP_503)
                .tries(3)
                .timeout(Duration.ofSeconds(10))
                .build();
        assertEquals(Set.of(RetryCondition.ERROR, RetryCondition.HTTP_503), p.conditions());
        assertEquals(3, p.tries());
        assertEquals(Duration.ofSeconds(10), p.timeout());
        assertEquals(p, p.toBuilder().build());
        assertEquals(p.hashCode(), p.toBuilder().build().hashCode());
        assertNotEquals(p, p.toBuilder().tries(4).build());
        assertEquals(RetryPolicy.off(), RetryPolicy.builder().conditions(List.of()).build());
        assertEquals(RetryPolicy.off(), p.toBuilder().off().build().toBuilder().tries(0).timeout(Duration.ZERO).build());
        assertEquals("RetryPolicy[error http_503, tries=3, timeout=PT10S]", p.toString());
        // the last conditions call wins
        assertEquals(Set.of(RetryCondition.TIMEOUT),
                RetryPolicy.builder().conditions("error").conditions(RetryCondition.TIMEOUT).build().conditions());
        assertEquals(Set.of(RetryCondition.ERROR),
                RetryPolicy.builder().conditions(RetryCondition.TIMEOUT).conditions("error").build().conditions());
    }

    @Test
    void conditionsViewIsUnmodifiable() {
        assertThrows(UnsupportedOperationException.class,
                () -> RetryPolicy.defaults().conditions().add(RetryCondition.HTTP_500));
    }

    @Test
    void validationHappensAtBuildAndNamesFieldAndValue() {
        RetryPolicy.Builder negativeTries = RetryPolicy.builder().tries(-1); // no exception yet
        assertMessage(assertThrows(IllegalArgumentException.class, negativeTries::build), "tries", "-1");

        RetryPolicy.Builder negativeTimeout = RetryPolicy.builder().timeout(Duration.ofMillis(-5));
        assertMessage(assertThrows(IllegalArgumentException.class, negativeTimeout::build), "timeout", "PT-0.005S");

        RetryPolicy.Builder hugeTimeout = RetryPolicy.builder().timeout(Duration.ofDays(365L * 1000));
        assertMessage(assertThrows(IllegalArgumentException.class, hugeTimeout::build), "timeout");

        RetryPolicy.Builder badText = RetryPolicy.builder().conditions("error bogus"); // parsed at build
        assertMessage(assertThrows(IllegalArgumentException.class, badText::build), "\"bogus\"");

        RetryPolicy.Builder withNull = RetryPolicy.builder().conditions(RetryCondition.ERROR, null);
        assertMessage(assertThrows(IllegalArgumentException.class, withNull::build), "conditions", "null");
    }
}
