package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ErrorAnswerTest {

    @Test
    void anAnswerIsOneLineWithTheStandardReason() {
        assertEquals("502 Bad Gateway\n", new String(ErrorAnswer.body(502), StandardCharsets.US_ASCII));
        assertEquals("413 Content Too Large\n", new String(ErrorAnswer.body(413), StandardCharsets.US_ASCII));
        assertEquals("Gateway Timeout", ErrorAnswer.reason(504));
        assertEquals("Error", ErrorAnswer.reason(599));
    }

    @Test
    void answersToARequestOutOfStepCloseTheConnection() {
        for (int s : new int[] {400, 408, 413, 414, 431, 501}) {
            assertTrue(ErrorAnswer.closesConnection(s), String.valueOf(s));
        }
        for (int s : new int[] {404, 405, 502, 503, 504}) {
            assertFalse(ErrorAnswer.closesConnection(s), String.valueOf(s));
        }
    }
}
