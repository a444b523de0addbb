package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class LogFormatTest {

    private static final long WALL = 1_796_665_213_456L; // 2026-12-07T19:00:13.456Z
    private static final long MS = 1_000_000L;

    private static AccessRecord record(TestRequest req) {
        AccessRecord r = new AccessRecord().begin("192.0.2.1", "GET", "/a?b=1", "HTTP/1.1", req, 1_000 * MS);
        r.status(200);
        r.bodyBytes(12);
        r.end(1_005 * MS);
        return r;
    }

    private static String local(long wall) {
        return DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
                .format(ZonedDateTime.ofInstant(java.time.Instant.ofEpochMilli(wall), ZoneId.systemDefault()));
    }

    @Test
    void combinedIsNginxsWithDashForWhatIsMissing() {
        TestRequest req = new TestRequest("GET", "/a").header("User-Agent", "curl/8.0");
        String line = LogFormat.compile(LogFormat.COMBINED, LogFormat.Escape.DEFAULT).render(record(req), WALL);
        assertEquals("192.0.2.1 - - [" + local(WALL) + "] \"GET /a?b=1 HTTP/1.1\" 200 12 \"-\" \"curl/8.0\"", line);
    }

    @Test
    void defaultEscapingWritesQuoteBackslashControlAndHighBytesAsHex() {
        TestRequest req = new TestRequest("GET", "/a").header("User-Agent", "a\"b\\c\u0001\u00c3\u00a9\u007f");
        String line = LogFormat.compile("$http_user_agent", LogFormat.Escape.DEFAULT).render(record(req), WALL);
        assertEquals("a\\x22b\\x5Cc\\x01\\xC3\\xA9\\x7F", line);
    }

    @Test
    void charactersAboveLatin1AreWrittenAsUtf8Bytes() {
        TestRequest req = new TestRequest("GET", "/a").header("X-Name", "\u20ac");
        assertEquals("\\xE2\\x82\\xAC", LogFormat.compile("$http_x_name", LogFormat.Escape.DEFAULT).render(record(req), WALL));
        assertEquals("\u00e2\u0082\u00ac", LogFormat.compile("$http_x_name", LogFormat.Escape.JSON).render(record(req), WALL));
    }

    @Test
    void jsonEscapingAndEmptyForWhatIsMissing() {
        TestRequest req = new TestRequest("GET", "/a").header("User-Agent", "q\"\\\n\t\u0001\u00e9");
        LogFormat f = LogFormat.compile("{\"ua\":\"$http_user_agent\",\"ref\":\"$http_referer\",\"u\":\"$upstream_addr\"}",
                LogFormat.Escape.JSON);
        assertEquals("{\"ua\":\"q\\\"\\\\\\n\\t\\u0001\u00e9\",\"ref\":\"\",\"u\":\"\"}", f.render(record(req), WALL));
    }

    @Test
    void noEscapingPassesBytesThrough() {
        TestRequest req = new TestRequest("GET", "/a").header("User-Agent", "a\"b");
        assertEquals("a\"b -", LogFormat.compile("$http_user_agent $http_referer", LogFormat.Escape.NONE)
                .render(record(req), WALL));
    }

    @Test
    void everyRetryShowsInTheUpstreamVariables() {
        AccessRecord r = new AccessRecord().begin("192.0.2.1", "GET", "/", "HTTP/1.1", new TestRequest("GET", "/"), 0);
        r.attemptStarted("10.0.0.1", 80, 0);
        r.attemptEnded(502, 3 * MS);                 // refused: no connection, no head
        r.attemptStarted("10.0.0.2", 80, 3 * MS);
        r.connected(4 * MS);
        r.responseHead(200, 1_260 * MS);
        r.attemptEnded(0, 1_300 * MS);
        r.status(200);
        r.end(1_301 * MS);
        LogFormat f = LogFormat.compile("$upstream_addr|$upstream_status|$upstream_connect_time|$upstream_header_time|"
                + "$upstream_response_time|$request_time", LogFormat.Escape.DEFAULT);
        assertEquals("10.0.0.1:80, 10.0.0.2:80|502, 200|-, 0.001|-, 1.257|0.003, 1.297|1.301", f.render(r, WALL));
    }

    @Test
    void noAttemptPrintsDashForTheUpstreamVariables() {
        AccessRecord r = record(new TestRequest("GET", "/"));
        assertEquals("- - -", LogFormat.compile("$upstream_addr $upstream_status $upstream_response_time",
                LogFormat.Escape.DEFAULT).render(r, WALL));
    }

    @Test
    void cookiesHeadersAndBracedNames() {
        TestRequest req = new TestRequest("GET", "/").header("Cookie", "a=1; Session=xyz; b=2").header("X-Real", "r");
        AccessRecord r = record(req);
        r.requestId("abc");
        assertEquals("xyz|-|rx|abc|GET|/a?b=1|HTTP/1.1|200|0.005",
                LogFormat.compile("$cookie_session|$cookie_c|${http_x_real}x|$request_id|$request_method|$request_uri|"
                        + "$server_protocol|$status|$request_time", LogFormat.Escape.DEFAULT).render(r, WALL));
    }

    @Test
    void timesAndMsec() {
        AccessRecord r = record(new TestRequest("GET", "/"));
        String iso = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx", Locale.ROOT)
                .format(ZonedDateTime.ofInstant(java.time.Instant.ofEpochMilli(WALL), ZoneId.systemDefault()));
        assertEquals(iso + " 1796665213.456", LogFormat.compile("$time_iso8601 $msec", LogFormat.Escape.DEFAULT)
                .render(r, WALL));
    }

    @Test
    void generatedRequestIdIsThirtyTwoHexAndStaysForTheRecord() {
        AccessRecord r = record(new TestRequest("GET", "/"));
        LogFormat f = LogFormat.compile("$request_id", LogFormat.Escape.DEFAULT);
        String id = f.render(r, WALL);
        assertTrue(id.matches("[0-9a-f]{32}"), id);
        assertEquals(id, f.render(r, WALL));
    }

    @Test
    void badFormatsFailNamingWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LogFormat.compile("$remote_addr $nope", LogFormat.Escape.DEFAULT));
        assertEquals("access log format: unknown variable '$nope'", e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LogFormat.compile("a $ b", LogFormat.Escape.DEFAULT))
                .getMessage().contains("without a variable name at 2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LogFormat.compile("${status", LogFormat.Escape.DEFAULT))
                .getMessage().contains("unclosed"));
    }

    @Test
    void recordIsReusedAcrossRequests() {
        AccessRecord r = new AccessRecord();
        for (int i = 0; i < 3; i++) {
            r.begin("192.0.2.1", "GET", "/", "HTTP/1.1", null, 0);
            r.attemptStarted("a", 1, 0);
            r.attemptEnded(502, 0);
            r.attemptStarted("b", 1, 0);
            r.attemptEnded(504, 0);
            r.attemptStarted("c", 1, 0);
            r.responseHead(200, 0);
            r.end(0);
        }
        assertEquals("a:1, b:1, c:1 502, 504, 200", LogFormat.compile("$upstream_addr $upstream_status",
                LogFormat.Escape.DEFAULT).render(r, WALL));
    }
}
