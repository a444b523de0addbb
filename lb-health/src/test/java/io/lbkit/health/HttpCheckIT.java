package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import io.lbkit.core.Endpoint;
import io.lbkit.health.FlakyBackend.Mode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP probes against a real loopback backend in every mode; probes run by checkNow only (the interval is a day).
 * A probe that must get an answer has {@link #ANSWERS}, long enough for a loaded machine (the first
 * probe of the JVM also loads the HTTP client); only the backends that never answer in time (hang,
 * slow, trickle) are probed with the short {@link #SHORT} their detail names.
 */
class HttpCheckIT {

    private static final Duration ANSWERS = Duration.ofSeconds(20);
    private static final Duration SHORT = Duration.ofMillis(500);

    private FlakyBackend backend;
    private ActiveChecker checker;
    private final List<CheckResult> seen = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        backend = new FlakyBackend();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (checker != null) {
            checker.close();
        }
        backend.close();
    }

    private static ActiveCheck.Builder timing(Duration timeout) {
        return ActiveCheck.builder().interval(Duration.ofDays(1)).timeout(timeout).jitterPercent(0);
    }

    private Endpoint endpoint() {
        return Endpoint.of("127.0.0.1", backend.port());
    }

    private CheckResult probe(HttpCheck http) throws Exception {
        return probe(timing(ANSWERS).http(http).build());
    }

    private CheckResult probe(ActiveCheck check) throws Exception {
        if (checker == null) {
            checker = ActiveChecker.builder().check(check).listener(seen::add).build();
            checker.watch(endpoint());
            checker.start();
        }
        return checker.checkNow(endpoint().id()).get(60, TimeUnit.SECONDS);
    }

    private CheckResult probeIn(Mode mode) throws Exception {
        backend.mode(mode);
        return probe(HttpCheck.get("/health"));
    }

    /** A probe of a backend that never answers within {@link #SHORT}. */
    private CheckResult probeTimingOut(Mode mode) throws Exception {
        backend.mode(mode);
        return probe(timing(SHORT).http(HttpCheck.get("/health")).build());
    }

    @Test
    void healthyBackendPassesWithDefaultsAndSendsTheDefaultRequest() throws Exception {
        CheckResult r = probe(HttpCheck.get("/health/ready?full=1"));
        assertTrue(r.passed(), r.toString());
        assertEquals(200, r.status());
        assertEquals("status 200", r.detail());
        assertEquals(endpoint().id(), r.endpointId());
        assertEquals("GET", backend.lastRequest.get("method"));
        assertEquals("/health/ready?full=1", backend.lastRequest.get("path"));
        assertEquals("127.0.0.1:" + backend.port(), backend.lastRequest.get("host"));
        assertEquals("lbkit-health-check", backend.lastRequest.get("user-agent"));
        assertTrue(r.durationNanos() > 0);
    }

    @Test
    void configuredMethodHostAndHeadersAreSent() throws Exception {
        CheckResult r = probe(HttpCheck.builder().method("head").path("/x").host("app.example")
                .header("X-Probe", "yes").build());
        assertTrue(r.passed(), r.toString());
        assertEquals("HEAD", backend.lastRequest.get("method"));
        assertEquals("app.example", backend.lastRequest.get("host"));
        assertEquals("yes", backend.lastRequest.get("x-probe"));
    }

    @Test
    void failingBackendReportsTheStatusAndTheExpectedRanges() throws Exception {
        CheckResult r = probeIn(Mode.FAILING);
        assertFalse(r.passed());
        assertEquals(500, r.status());
        assertEquals("status 500 not in 200-399", r.detail());
    }

    @Test
    void expectedStatusesCanIncludeOtherwiseFailingCodes() throws Exception {
        backend.mode(Mode.FAILING);
        CheckResult r = probe(HttpCheck.builder().expectStatuses("200,500").build());
        assertTrue(r.passed(), r.toString());
        assertEquals(500, r.status());
    }

    @Test
    void hangingBackendTimesOut() throws Exception {
        CheckResult r = probeTimingOut(Mode.HANG);
        assertFalse(r.passed());
        assertEquals("timeout after 500 ms", r.detail());
        assertEquals(0, r.status());
    }

    @Test
    void slowBackendTimesOut() throws Exception {
        CheckResult r = probeTimingOut(Mode.SLOW);
        assertFalse(r.passed());
        assertEquals("timeout after 500 ms", r.detail());
    }

    @Test
    void tricklingBackendTimesOut() throws Exception {
        CheckResult r = probeTimingOut(Mode.TRICKLE);
        assertFalse(r.passed());
        assertEquals("timeout after 500 ms", r.detail());
    }

    @Test
    void garbageIsAnInvalidResponse() throws Exception {
        CheckResult r = probeIn(Mode.GARBAGE);
        assertFalse(r.passed());
        assertEquals("invalid HTTP response", r.detail());
    }

    @Test
    void resetIsReported() throws Exception {
        // Jetty's client reads a reset (RST) as an early end of stream
        CheckResult r = probeIn(Mode.RESET);
        assertFalse(r.passed());
        assertEquals("connection closed before response", r.detail());
    }

    @Test
    void closedPortIsRefused() throws Exception {
        CheckResult r = probeIn(Mode.CLOSED);
        assertFalse(r.passed());
        assertEquals("connection refused", r.detail());
    }

    @Test
    void bodyAndHeaderMatches() throws Exception {
        assertTrue(probe(HttpCheck.builder().expectBodyContains("status: UP").build()).passed());
        checker.close();
        checker = null;
        CheckResult miss = probe(HttpCheck.builder().expectBodyMatches(Pattern.compile("status: (DOWN|OUT)")).build());
        assertFalse(miss.passed());
        assertEquals(200, miss.status());
        assertEquals("body did not match", miss.detail());
        checker.close();
        checker = null;
        assertTrue(probe(HttpCheck.builder().expectHeaderEquals("X-Health", "ok").build()).passed());
        checker.close();
        checker = null;
        CheckResult badHeader = probe(HttpCheck.builder().expectHeader("X-Health", Pattern.compile("good|fine")).build());
        assertEquals("header X-Health did not match", badHeader.detail());
        checker.close();
        checker = null;
        CheckResult noHeader = probe(HttpCheck.builder().expectHeaderEquals("X-Missing", "1").build());
        assertEquals("header X-Missing missing", noHeader.detail());
    }

    @Test
    void bodyIsReadOnlyUpTo256KiB() throws Exception {
        backend.mode(Mode.BIG_BODY);
        CheckResult early = probe(HttpCheck.builder().expectBodyContains("EARLY").build());
        assertTrue(early.passed(), early.toString());
        checker.close();
        checker = null;
        // NEEDLE sits at 300 KiB of a 1 MiB body: past the limit, so never seen
        CheckResult late = probe(HttpCheck.builder().expectBodyContains("NEEDLE").build());
        assertFalse(late.passed());
        assertEquals("body did not match", late.detail());
        checker.close();
        checker = null;
        CheckResult small = probe(HttpCheck.builder().expectBodyContains("EARLY").maxBodyBytes(500).build());
        assertEquals("body did not match", small.detail());
    }

    @Test
    void newConnectionPerProbeUnlessReuseIsOn() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertTrue(probe(HttpCheck.get("/")).passed());
        }
        assertEquals(3, backend.accepted());
        checker.close();
        checker = null;
        int before = backend.accepted();
        for (int i = 0; i < 3; i++) {
            CheckResult r = probe(HttpCheck.builder().reuseConnection(true).build());
            assertTrue(r.passed(), r.toString());
        }
        assertEquals(1, backend.accepted() - before);
    }

    @Test
    void riseAndFallTransitionsInOrder() throws Exception {
        // every failure kind counts the same (a timeout too, but that would need a timeout short
        // enough to also fail a slow pass on a loaded machine: hangingBackendTimesOut covers it)
        ActiveCheck check = timing(ANSWERS).rise(2).fall(3).http(HttpCheck.get("/")).build();
        // CHECKING: two passes make it healthy
        probe(check);
        probe(check);
        backend.mode(Mode.FAILING);
        probe(check);
        probe(check);
        backend.mode(Mode.GARBAGE);
        probe(check); // third failure in a row: down
        backend.mode(Mode.RESET);
        probe(check);
        backend.mode(Mode.HEALTHY);
        probe(check);
        probe(check); // second pass: up again
        List<String> expected = List.of(
                "pass healthy=false changed=false p=1 f=0 status 200",
                "pass healthy=true changed=true p=2 f=0 status 200",
                "fail healthy=true changed=false p=0 f=1 status 500 not in 200-399",
                "fail healthy=true changed=false p=0 f=2 status 500 not in 200-399",
                "fail healthy=false changed=true p=0 f=3 invalid HTTP response",
                "fail healthy=false changed=false p=0 f=4 connection closed before response",
                "pass healthy=false changed=false p=1 f=0 status 200",
                "pass healthy=true changed=true p=2 f=0 status 200");
        assertEquals(expected, seen.stream().map(HttpCheckIT::line).toList());
        ActiveChecker.State state = checker.state(endpoint().id()).orElseThrow();
        assertTrue(state.healthy());
        assertTrue(state.checked());
        assertEquals(2, state.consecutivePasses());
        assertEquals(seen.get(seen.size() - 1), state.lastResult());
    }

    static String line(CheckResult r) {
        return (r.passed() ? "pass" : "fail") + " healthy=" + r.healthy() + " changed=" + r.changed()
                + " p=" + r.consecutivePasses() + " f=" + r.consecutiveFailures() + " " + r.detail();
    }
}
