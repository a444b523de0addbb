package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import io.lbkit.core.Endpoint;

import org.junit.jupiter.api.Test;

/** Validation of every setting: bad values fail at build time naming the field and the value. */
class ActiveCheckTest {

    private static void fails(String message, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertEquals(message, x.getMessage());
    }

    @Test
    void timingValidation() {
        fails("rise must be >= 1, got 0", () -> ActiveCheck.builder().rise(0).build());
        fails("fall must be >= 1, got -1", () -> ActiveCheck.builder().fall(-1).build());
        fails("interval must be > 0, got PT-1S", () -> ActiveCheck.builder().interval(Duration.ofSeconds(-1)).build());
        fails("fastInterval must be > 0, got PT0S", () -> ActiveCheck.builder().fastInterval(Duration.ZERO).build());
        fails("downInterval must be >= 1 ms, got PT0.0001S",
                () -> ActiveCheck.builder().downInterval(Duration.ofNanos(100_000)).build());
        fails("timeout must be > 0, got PT-0.5S", () -> ActiveCheck.builder().timeout(Duration.ofMillis(-500)).build());
        fails("jitterPercent must be 0..50, got 51", () -> ActiveCheck.builder().jitterPercent(51).build());
        fails("port must be 0..65535, got 70000", () -> ActiveCheck.builder().port(70000).build());
    }

    @Test
    void httpValidation() {
        fails("expectedStatuses must be within 100-599, got 700", () -> HttpCheck.builder().expectStatuses(200, 700));
        fails("expectedStatuses must be within 100-599, got 700", () -> HttpCheck.builder().expectStatuses("200-700"));
        fails("expectedStatuses must be within 100-599, got 99", () -> HttpCheck.builder().expectStatusRange(99, 200));
        fails("expectedStatuses range must not be reversed, got 300-200", () -> HttpCheck.builder().expectStatuses("300-200"));
        fails("expectedStatuses: cannot parse 'abc' in '200,abc' (use codes and ranges such as 200-399,404)",
                () -> HttpCheck.builder().expectStatuses("200,abc"));
        fails("method must be GET, HEAD or OPTIONS, got 'POST'", () -> HttpCheck.builder().method("POST"));
        fails("path must start with '/' and contain no spaces or control characters, got 'health'",
                () -> HttpCheck.builder().path("health"));
        fails("header 'Host' is managed by the check; use host(...)", () -> HttpCheck.builder().header("Host", "x"));
        fails("header 'X-A' value must not contain control characters", () -> HttpCheck.builder().header("X-A", "a\r\nB: c"));
        fails("maxBodyBytes must be 1..262144, got 262145", () -> HttpCheck.builder().maxBodyBytes(262145).build());
        fails("method HEAD has no body; a body match needs GET or OPTIONS",
                () -> HttpCheck.builder().method("HEAD").expectBodyContains("ok").build());
        fails("expectPrefix must be 1..65536 bytes, got 0", () -> TcpCheck.sendExpect(new byte[] {1}, new byte[0]));
    }

    @Test
    void expectedStatusesParseAndRender() {
        HttpCheck d = HttpCheck.builder().build();
        assertEquals("200-399", d.expectedStatuses());
        assertTrue(d.expects(200) && d.expects(302) && d.expects(399));
        assertFalse(d.expects(400) || d.expects(199) || d.expects(500));
        assertEquals("200,204,300-302", HttpCheck.builder().expectStatuses("200, 204,300-302").build().expectedStatuses());
        assertEquals("200-299,404", HttpCheck.builder().expectStatuses("2xx,404").build().expectedStatuses());
        assertEquals("200-204,503", HttpCheck.builder().expectStatusRange(200, 204).expectStatusRange(503, 503).build()
                .expectedStatuses());
        HttpCheck only503 = HttpCheck.builder().expectStatuses(503).build();
        assertTrue(only503.expects(503));
        assertFalse(only503.expects(200));
    }

    @Test
    void checkerValidation() {
        fails("httpThreads must be 4..256, got 1", () -> ActiveChecker.builder().httpThreads(1).build());
        fails("syncInterval must be >= 10 ms, got PT0S", () -> ActiveChecker.builder().syncInterval(Duration.ZERO).build());
        try (ActiveChecker checker = ActiveChecker.builder().build()) {
            fails("endpoint 'name-only': port must be 1..65535 to be probed, got 0",
                    () -> checker.watch(Endpoint.builder("name-only").build()));
        }
    }

    @Test
    void checkNowOnUnknownOrStoppedCheckerFails() throws Exception {
        try (ActiveChecker checker = ActiveChecker.builder().build()) {
            java.util.concurrent.ExecutionException unknown = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> checker.checkNow("nope").get());
            assertEquals("no watched endpoint 'nope'", unknown.getCause().getMessage());
            checker.watch(Endpoint.of("127.0.0.1", 9));
            java.util.concurrent.ExecutionException notStarted = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> checker.checkNow("127.0.0.1:9").get());
            assertEquals("ActiveChecker is not started", notStarted.getCause().getMessage());
            assertFalse(checker.state("127.0.0.1:9").orElseThrow().checked());
        }
    }

}
