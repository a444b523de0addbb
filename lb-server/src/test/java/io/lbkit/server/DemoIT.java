package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.health.HealthMonitor;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The demo does what its guide says, through real sockets. */
class DemoIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private DemoCommand.Demo demo;
    private URI base;

    @BeforeEach
    void start() throws Exception {
        demo = DemoCommand.Demo.start("127.0.0.1", 0);
        base = demo.proxy().uris().get(0);
    }

    @AfterEach
    void stop() {
        demo.close();
    }

    private static HttpResponse<String> get(HttpClient c, URI uri) throws Exception {
        return c.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void roundRobinReachesEveryBackendAndTheSessionFollowsTheClient() throws Exception {
        HttpClient c = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
        Set<String> servedBy = new HashSet<>();
        List<Long> visits = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = get(c, base.resolve("/"));
            assertEquals(200, r.statusCode(), r.body());
            String by = r.headers().firstValue("X-Served-By").orElseThrow();
            assertEquals(by, r.headers().firstValue("X-Instance-ID").orElseThrow());
            JsonNode body = JSON.readTree(r.body());
            assertEquals(by, body.get("instance").asText());
            servedBy.add(by);
            visits.add(body.get("visits").asLong());
        }
        assertEquals(Set.of("backend-1", "backend-2", "backend-3"), servedBy);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), visits, "one session shared by all three backends");

        HttpResponse<String> forwarded = get(c, base.resolve("/headers"));
        JsonNode headers = JSON.readTree(forwarded.body());
        assertTrue(headers.get("x_session_id_present").asBoolean(), forwarded.body());
        assertEquals(6, headers.get("x_session_data").get("visits").asLong(), "the proxy forwarded the session");

        HttpCookie session = ((CookieManager) c.cookieHandler().orElseThrow()).getCookieStore().getCookies().stream()
                .filter(k -> k.getName().equals("LBSESSION")).findFirst().orElseThrow();
        HttpResponse<String> api = get(HttpClient.newHttpClient(), base.resolve("/session?session_id=" + session.getValue()));
        assertEquals(200, api.statusCode(), api.body());
        assertEquals(6, JSON.readTree(api.body()).get("data").get("visits").asLong());
    }

    @Test
    void cartIsStickyAndEventsStream() throws Exception {
        HttpClient c = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
        String first = get(c, base.resolve("/cart")).headers().firstValue("X-Served-By").orElseThrow();
        for (int i = 0; i < 5; i++) {
            assertEquals(first, get(c, base.resolve("/cart")).headers().firstValue("X-Served-By").orElseThrow());
        }
        HttpResponse<InputStream> sse = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(base.resolve("/events")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, sse.statusCode());
        assertTrue(sse.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
        List<String> data = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    data.add(line);
                }
            }
        }
        assertEquals(5, data.size(), data.toString());
        assertTrue(data.get(4).contains("\"event\":5"), data.get(4));
    }

    @Test
    void aClientsForwardingHeadersAreNotBelievedSoCookiesStayPlainOverHttp() throws Exception {
        HttpClient c = HttpClient.newHttpClient();
        for (String path : List.of("/", "/cart", "/headers")) {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20))
                    .header("X-Forwarded-Proto", "https").header("X-Forwarded-For", "203.0.113.7")
                    .header("Forwarded", "for=203.0.113.7;proto=https").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            List<String> cookies = r.headers().allValues("Set-Cookie");
            if (!path.equals("/headers")) {
                assertFalse(cookies.isEmpty(), path + " sets a cookie");
            }
            for (String cookie : cookies) {
                assertFalse(cookie.toLowerCase(java.util.Locale.ROOT).contains("secure"), path + ": " + cookie);
            }
            if (path.equals("/headers")) {
                JsonNode seen = JSON.readTree(r.body());
                assertEquals("http", seen.get("x_forwarded_proto").asText(), "the backend learns the client's real scheme");
                assertEquals("127.0.0.1", seen.get("x_forwarded_for").asText(), "and its real address");
            }
        }
    }

    @Test
    void aFailingBackendIsEjectedByOutlierDetection() throws Exception {
        HttpClient c = HttpClient.newHttpClient();
        HttpResponse<String> fail = c.send(HttpRequest.newBuilder(base.resolve("/fail")).timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, fail.statusCode(), fail.body());
        String broken = JSON.readTree(fail.body()).get("instance").asText();
        HealthMonitor health = demo.proxy().monitor("demo");

        // round robin brings every third request to the broken backend: nine requests, three 500s in a row
        int errors = 0;
        for (int i = 0; i < 9; i++) {
            HttpResponse<String> r = get(c, base.resolve("/"));
            if (r.statusCode() == 500) {
                errors++;
                assertEquals(broken, r.headers().firstValue("X-Served-By").orElseThrow());
            } else {
                assertEquals(200, r.statusCode(), r.body());
            }
        }
        assertEquals(3, errors);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20); // applied on the monitor's thread
        while (!health.health(broken).orElseThrow().ejected()) {
            assertTrue(System.nanoTime() < deadline, "not ejected: " + health.states());
            Thread.sleep(10);
        }
        assertEquals(1, health.health(broken).orElseThrow().ejections());
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = get(c, base.resolve("/"));
            assertEquals(200, r.statusCode(), r.body());
            assertNotEquals(broken, r.headers().firstValue("X-Served-By").orElseThrow());
        }
    }

    @Test
    void aPortInUseFailsWithOneLineThatSuggestsAnotherPort() {
        int taken = base.getPort();
        try (CapturedStderr stderr = new CapturedStderr()) {
            Cli.Result r = Cli.run("demo", "--port", String.valueOf(taken));
            assertEquals(1, r.status());
            assertEquals("", r.out());
            assertEquals(List.of("error: port " + taken + " on 127.0.0.1 is already in use: stop what uses it, or start the "
                    + "demo on another port with --port N (--port 0 takes any free one)"), r.errLines());
            assertEquals(List.of(), stderr.linesWith("Exception"), "no stack trace in the log either");
            assertEquals(List.of(), stderr.linesWith("\tat "));
        }
    }

    @Test
    void whatBrowsersFetchOnTheirOwnIsNoVisit() throws Exception {
        HttpClient c = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
        assertEquals(1, JSON.readTree(get(c, base.resolve("/")).body()).get("visits").asLong());
        for (String path : List.of("/favicon.ico", "/apple-touch-icon.png", "/robots.txt", "/.well-known/security.txt")) {
            HttpResponse<String> r = get(c, base.resolve(path));
            assertEquals(404, r.statusCode(), path + ": " + r.body());
        }
        assertEquals(2, JSON.readTree(get(c, base.resolve("/")).body()).get("visits").asLong(), "only pages count");

        HttpResponse<String> icon = get(HttpClient.newHttpClient(), base.resolve("/favicon.ico"));
        assertEquals(404, icon.statusCode());
        assertEquals(List.of(), icon.headers().allValues("Set-Cookie"), "no session for a favicon");
    }

    /** One server-sent event: its id and its data. */
    private record Event(long id, JsonNode data) {
    }

    /** Opens {@code /events} through the proxy, reads {@code count} events and hangs up. */
    private List<Event> events(String lastEventId, int count) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("/events")).timeout(Duration.ofSeconds(30));
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<InputStream> sse = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, sse.statusCode());
        List<Event> events = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
            long id = -1;
            for (String line; events.size() < count && (line = r.readLine()) != null; ) {
                if (line.startsWith("id: ")) {
                    id = Long.parseLong(line.substring(4));
                } else if (line.startsWith("data: ")) {
                    events.add(new Event(id, JSON.readTree(line.substring(6))));
                }
            }
        }
        return events;
    }

    @Test
    void aReconnectingEventSourceContinuesAfterItsLastEventIdOnWhicheverBackendAnswers() throws Exception {
        List<Event> first = events(null, 2);
        assertEquals(List.of(1L, 2L), first.stream().map(Event::id).toList());
        long last = 2;
        Set<String> backends = new HashSet<>();
        for (int i = 0; i < 3; i++) { // round robin: three reconnects reach the three backends
            Event next = events(String.valueOf(last), 1).get(0);
            assertEquals(last + 1, next.id(), "continues after Last-Event-ID " + last);
            assertEquals(last + 1, next.data().get("event").asLong());
            backends.add(next.data().get("instance").asText());
            last = next.id();
        }
        assertEquals(Set.of("backend-1", "backend-2", "backend-3"), backends);
        assertEquals(1, events("not-a-count", 1).get(0).id(), "an id that is not a count starts over");
    }

    private static final String BROWSER_ACCEPT =
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

    private HttpResponse<String> getAccepting(HttpClient c, String path, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20));
        if (accept != null) {
            b.header("Accept", accept);
        }
        return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aBrowserGetsAPageAndCurlKeepsTheJson() throws Exception {
        HttpClient c = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
        HttpResponse<String> page = getAccepting(c, "/", BROWSER_ACCEPT);
        assertEquals(200, page.statusCode());
        assertEquals("text/html;charset=utf-8", page.headers().firstValue("Content-Type").orElseThrow()
                .toLowerCase(java.util.Locale.ROOT).replace(" ", ""));
        assertEquals("Accept", page.headers().firstValue("Vary").orElseThrow());
        assertTrue(page.body().startsWith("<!doctype html>"), page.body());
        assertTrue(page.body().contains("<title>lbkit demo</title>"));
        assertEquals(List.of(), page.headers().allValues("Set-Cookie"), "the page itself is no visit");

        for (String accept : new String[] {"*/*", null, "application/json", "text/html;q=0.5, application/json",
            "text/html;q=0, */*"}) {
            HttpResponse<String> json = getAccepting(c, "/", accept);
            assertEquals(200, json.statusCode());
            assertEquals("application/json", json.headers().firstValue("Content-Type").orElseThrow(), "Accept: " + accept);
            assertEquals("Accept", json.headers().firstValue("Vary").orElseThrow());
            assertEquals("/", JSON.readTree(json.body()).get("path").asText(), "Accept: " + accept);
        }
        assertEquals(6, JSON.readTree(getAccepting(c, "/", "application/json").body()).get("visits").asLong(),
                "five JSON answers before this one, and no visit for the page");
    }

    @Test
    void thePageLoadsNothingFromElsewhereAndItsScriptCallsOnlyEndpointsThatExist() throws Exception {
        String page = getAccepting(HttpClient.newHttpClient(), "/", BROWSER_ACCEPT).body();
        assertFalse(page.contains("://"), "no URL of another origin (no CDN)");
        assertFalse(page.matches("(?s).*<script[^>]*\\ssrc=.*"), "the script is in the page");
        assertFalse(page.matches("(?s).*<link[^>]*rel=\"stylesheet\".*"), "the style is in the page");

        Matcher script = Pattern.compile("(?s)<script>(.*?)</script>").matcher(page);
        assertTrue(script.find(), "the page has its script");
        Set<String> paths = new java.util.TreeSet<>();
        Matcher literal = Pattern.compile("[\"'`](/[^\"'`\\s?]*)").matcher(script.group(1));
        while (literal.find()) {
            paths.add(literal.group(1));
        }
        assertEquals(Set.of("/", "/events", "/fail"), paths, "what the page's script calls");
        for (String path : paths) {
            HttpResponse<InputStream> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve(path))
                    .timeout(Duration.ofSeconds(20)).header("Accept", "application/json").build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            r.body().close();
            assertNotEquals(404, r.statusCode(), path);
        }
    }

    @Test
    void guideNamesTheProxyUrl() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        DemoCommand.printGuide(out, base, demo.backends().ports());
        String guide = bytes.toString(StandardCharsets.UTF_8);
        String url = base.toString().replaceAll("/$", "");
        assertTrue(guide.contains("curl -N " + url + "/events"), guide);
        assertTrue(guide.contains("curl -s -X POST " + url + "/session"), guide);
    }
}
