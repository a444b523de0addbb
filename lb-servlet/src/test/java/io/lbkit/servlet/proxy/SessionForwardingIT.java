package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.proxy.contract.RawHttp;
import io.lbkit.proxy.contract.ProxyFixture;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.servlet.testing.TestContainer;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Session forwarding (seed 000) through the proxy filter hosted in real Jetty 12 and Tomcat 11,
 * in front of a real Jetty backend that echoes the headers it received and answers
 * {@code X-New-Session-Data} from its {@code set} query parameter.
 */
class SessionForwardingIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String COOKIE = "LBSESSION";

    /** Makes the backend answer a 9000-byte patch (over the 8 KiB default maxPatchBytes). */
    static final String BIG_PATCH = "big";

    static SessionBackend backend;

    private final FaultyStore store = new FaultyStore(InMemorySessionStore.builder()
            .settings(SessionSettings.builder().maxSessionBytes(16 * 1024).build()).build());
    private ProxyFixture proxy;

    @BeforeAll
    static void startBackend() throws Exception {
        backend = new SessionBackend();
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        store.close();
    }

    private ProxyFixture start(TestContainer.Kind kind) {
        return start(kind, b -> { }, c -> { });
    }

    private ProxyFixture start(TestContainer.Kind kind, Consumer<SessionForwarding.Builder> forwarding,
                               Consumer<ProxyConfig.Builder> config) {
        SessionForwarding.Builder f = SessionForwarding.builder(store);
        forwarding.accept(f);
        ProxyConfig.Builder b = ProxyConfig.builder().route(Route.builder("all", upstream(backend)).build())
                .sessionForwarding(f.build());
        config.accept(b);
        proxy = new ProxyFixture(ServletEngine.of(kind), b.build());
        return proxy;
    }

    static Upstream upstream(SessionBackend b) {
        return Upstream.builder("session-backends").endpoint(ProxyFixture.endpoint("s1", b.port())).build();
    }

    // =====================================================================================
    // tests
    // =====================================================================================

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void aFanOutAnswerCreatesTheSessionAndTheClientGetsItsCookie(TestContainer.Kind kind) throws Exception {
        // the store's create runs asynchronously: the fan-out response waits for it, as a single
        // exchange does, so the session's Set-Cookie is part of the answer
        proxy = new ProxyFixture(ServletEngine.of(kind), ProxyConfig.builder()
                .route(Route.builder("fan", upstream(backend)).broadcast(FanOut.builder().build()).build())
                .sessionForwarding(SessionForwarding.builder(store)
                        // store calls finish later, on another thread (a networked store)
                        .executor(java.util.concurrent.CompletableFuture.delayedExecutor(200,
                                java.util.concurrent.TimeUnit.MILLISECONDS)).build()).build());
        HttpResponse<String> first = get("/app?set=" + enc("{\"user\":\"bob\"}"), null);
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(first.headers().allValues("X-New-Session-Data").isEmpty(), "patch header reached the client");
        String setCookie = sessionSetCookie(first);
        assertNotNull(setCookie, "no session cookie: " + first.headers().map());
        assertEquals(JSON.readTree("\"bob\""), store.load(cookieValue(setCookie)).orElseThrow().attribute("user"));
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void backendCreatesSessionClientGetsCookieAndNextRequestCarriesTheSession(TestContainer.Kind kind)
            throws Exception {
        start(kind);
        HttpResponse<String> first = get("/app?set=" + enc("{\"user\":\"alice\",\"n\":1}"), null);
        assertEquals(200, first.statusCode(), first.body());
        Echo saw = new Echo(first.body());
        assertNull(saw.one("x-session-id"), "no session yet: " + first.body());
        assertNull(saw.one("x-session-data"), first.body());
        assertTrue(first.headers().allValues("X-New-Session-Data").isEmpty(), "patch header reached the client");
        String setCookie = sessionSetCookie(first);
        assertNotNull(setCookie, "no session cookie: " + first.headers().map());
        String id = cookieValue(setCookie);
        assertTrue(SessionIds.isWellFormed(id), setCookie);
        List<String> attrs = cookieAttributes(setCookie);
        assertTrue(attrs.contains("httponly"), setCookie);
        assertTrue(attrs.contains("samesite=lax"), setCookie);
        assertTrue(attrs.contains("path=/"), setCookie);
        assertFalse(attrs.stream().anyMatch(a -> a.equals("secure") || a.startsWith("domain=")
                || a.startsWith("max-age=") || a.startsWith("expires=")), setCookie);

        Session stored = store.load(id).orElseThrow();
        assertEquals(JSON.readTree("\"alice\""), stored.attribute("user"));
        assertEquals(1, stored.attribute("n").intValue());

        HttpResponse<String> second = get("/app", id);
        Echo saw2 = new Echo(second.body());
        assertEquals(id, saw2.one("x-session-id"), second.body());
        assertEquals(JSON.readTree("{\"user\":\"alice\",\"n\":1}"), JSON.readTree(saw2.one("x-session-data")));
        assertNull(sessionSetCookie(second), "an existing session gets no new cookie");
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void mergePatchRemovesWithNullAndMergesNestedObjects(TestContainer.Kind kind) throws Exception {
        start(kind);
        String id = cookieValue(sessionSetCookie(get("/app?set=" + enc(
                "{\"a\":1,\"b\":2,\"gone\":null,\"prefs\":{\"theme\":\"dark\",\"lang\":\"en\",\"x\":null}}"), null)));
        Session created = store.load(id).orElseThrow();
        assertEquals(Map.of("a", JSON.readTree("1"), "b", JSON.readTree("2"),
                "prefs", JSON.readTree("{\"theme\":\"dark\",\"lang\":\"en\"}")), created.attributes(),
                "a new session is the patch applied to {} with nulls dropped");

        HttpResponse<String> r = get("/app?set=" + enc("{\"a\":null,\"prefs\":{\"lang\":null,\"tz\":\"UTC\"},\"c\":[1,null]}"), id);
        assertEquals(200, r.statusCode());
        assertNull(sessionSetCookie(r));
        Session after = store.load(id).orElseThrow();
        assertEquals(Map.of("b", JSON.readTree("2"), "prefs", JSON.readTree("{\"theme\":\"dark\",\"tz\":\"UTC\"}"),
                "c", JSON.readTree("[1,null]")), after.attributes());

        Echo saw = new Echo(get("/app", id).body());
        assertEquals(JSON.readTree("{\"b\":2,\"c\":[1,null],\"prefs\":{\"theme\":\"dark\",\"tz\":\"UTC\"}}"),
                JSON.readTree(saw.one("x-session-data")));
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void nonAsciiAndControlCharactersArriveEscapedAndDecodeBack(TestContainer.Kind kind) throws Exception {
        start(kind);
        String name = "h\u00e9llo \u2713 \u65e5\u672c \uD83D\uDE00";
        String ctl = "a\u007fb\nc\td\"e\\";
        // the backend's patch is itself ASCII JSON with escapes
        String patch = "{\"name\":\"h\\u00e9llo \\u2713 \\u65e5\\u672c \\ud83d\\ude00\",\"ctl\":\"a\\u007fb\\nc\\td\\\"e\\\\\","
                + "\"\\u00fcber\":true}";
        String id = cookieValue(sessionSetCookie(get("/app?set=" + enc(patch), null)));
        assertEquals(name, store.load(id).orElseThrow().attribute("name").textValue());

        Echo saw = new Echo(get("/app", id).body());
        String raw = saw.one("x-session-data");
        assertNotNull(raw);
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            assertTrue(c >= 0x20 && c < 0x7f, "character " + (int) c + " at " + i + " in " + raw);
        }
        assertTrue(raw.contains("\\u00E9") || raw.contains("\\u00e9"), raw);
        assertTrue(raw.contains("\\u007F") || raw.contains("\\u007f"), raw);
        JsonNode decoded = JSON.readTree(raw);
        assertEquals(name, decoded.get("name").textValue());
        assertEquals(ctl, decoded.get("ctl").textValue());
        assertTrue(decoded.get("\u00fcber").booleanValue(), raw);
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void clientInjectedSessionHeadersNeverReachTheBackendNorChangeTheStore(TestContainer.Kind kind) throws Exception {
        start(kind);
        Session victim = store.create(Map.of("role", JSON.readTree("\"admin\"")));
        Session mine = store.create(Map.of("role", JSON.readTree("\"user\"")));
        String[] injected = {
            "X-Session-Data: {\"role\":\"admin\"}",
            "x_session_id: " + victim.id(),
            "X-SESSION-ID: " + victim.id(),
            "X-NEW-SESSION-DATA: {\"role\":\"admin\"}",
            "x_new_session_data: {\"role\":\"root\"}",
            "X-Session-Data-Truncated: true",
        };
        // with a session: the backend sees only the proxy's headers, for the client's own session
        Echo saw = new Echo(raw("/app", mine.id(), injected));
        assertEquals(List.of(mine.id()), saw.all("x-session-id"), saw.text);
        assertEquals(List.of("{\"role\":\"user\"}"), saw.all("x-session-data"), saw.text);
        assertEquals(2, saw.sessionHeaderCount(), saw.text);

        // without a session: nothing at all, and no session is created
        String noSession = raw("/app", null, injected);
        Echo saw2 = new Echo(noSession);
        assertEquals(0, saw2.sessionHeaderCount(), saw2.text);
        assertFalse(RawHttp.head(noSession).toLowerCase(Locale.ROOT).contains("set-cookie"), noSession);

        assertEquals(victim.attributes(), store.load(victim.id()).orElseThrow().attributes());
        assertEquals(victim.version(), store.load(victim.id()).orElseThrow().version());
        assertEquals(mine.attributes(), store.load(mine.id()).orElseThrow().attributes());
        assertEquals(mine.version(), store.load(mine.id()).orElseThrow().version());
        assertEquals(2, store.creates.get(), "no session created from client headers");
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void forgedOrUnknownCookieMeansNoSessionAndIsNeverAdopted(TestContainer.Kind kind) throws Exception {
        start(kind);
        String unknown = SessionIds.generate();
        for (String forged : new String[] {"not-an-id", unknown, "../../etc/passwd", unknown + "x"}) {
            Echo saw = new Echo(get("/app", forged).body());
            assertEquals(0, saw.sessionHeaderCount(), forged + ": " + saw.text);
        }
        HttpResponse<String> r = get("/app?set=" + enc("{\"k\":\"v\"}"), unknown);
        String id = cookieValue(sessionSetCookie(r));
        assertNotEquals(unknown, id, "a client-chosen id was adopted");
        assertTrue(store.load(unknown).isEmpty());
        assertEquals("v", store.load(id).orElseThrow().attribute("k").textValue());
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void invalidPatchFromTheBackendLeavesTheSessionAndPassesTheResponse(TestContainer.Kind kind) throws Exception {
        start(kind);
        Session s = store.create(Map.of("a", JSON.readTree("1")));
        for (String bad : new String[] {"{bad json", "[1,2]", "\"text\"", "42", "null", "{\"a\":1}{}",
                "{\"a\":1,\"a\":2}", BIG_PATCH, "{\"a\":\"\\ud800\"}", "{\"n\":1e999999999}",
                "{\"o\":{\"p\":[-1e-999]}}"}) { // the last three would not read back unchanged
            HttpResponse<String> r = get("/app?status=201&set=" + enc(bad), s.id());
            assertEquals(201, r.statusCode(), bad);
            assertTrue(r.body().contains("backend body"), r.body());
            assertTrue(r.headers().allValues("X-New-Session-Data").isEmpty(), bad);
            assertNull(sessionSetCookie(r), bad);
            Session now = store.load(s.id()).orElseThrow();
            assertEquals(s.attributes(), now.attributes(), bad);
            assertEquals(s.version(), now.version(), bad);

            HttpResponse<String> fresh = get("/app?set=" + enc(bad), null);
            assertEquals(200, fresh.statusCode(), bad);
            assertNull(sessionSetCookie(fresh), "an invalid patch created a session: " + bad);
        }
        assertEquals(1, store.creates.get());
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void concurrentRequestsOfOneSessionSettingDifferentAttributesAllPersist(TestContainer.Kind kind) throws Exception {
        start(kind);
        Session s = store.create(Map.of("base", JSON.readTree("0")));
        int n = 24;
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            HttpRequest r = proxy.request("/app?set=" + enc("{\"k" + i + "\":" + i + ",\"counter\":{\"c" + i + "\":true}}"))
                    .header("Cookie", COOKIE + "=" + s.id()).GET().build();
            all.add(proxy.http.sendAsync(r, HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            assertEquals(200, f.get().statusCode());
        }
        Session after = store.load(s.id()).orElseThrow();
        assertEquals(0, after.attribute("base").intValue());
        for (int i = 0; i < n; i++) {
            assertNotNull(after.attribute("k" + i), "k" + i + " lost: " + after.attributes().keySet());
            assertEquals(i, after.attribute("k" + i).intValue());
            assertTrue(after.attribute("counter").get("c" + i).booleanValue(), "nested c" + i + " lost");
        }
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void storeDownWhileLoadingAnswers503WithoutContactingTheBackend(TestContainer.Kind kind) throws Exception {
        start(kind);
        Session s = store.create(Map.of("a", JSON.readTree("1")));
        int before = backend.hits.get();
        store.down.set(true);
        HttpResponse<String> r = get("/app?set=" + enc("{\"a\":2}"), s.id());
        assertEquals(503, r.statusCode(), r.body());
        assertEquals(before, backend.hits.get(), "the backend was contacted");

        // no cookie → no store call → proxied as usual even while the store is down
        HttpResponse<String> anonymous = get("/app", null);
        assertEquals(200, anonymous.statusCode());
        assertEquals(before + 1, backend.hits.get());
        store.down.set(false);
        assertEquals(1, store.load(s.id()).orElseThrow().attribute("a").intValue());
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void storeDownWhileSavingKeepsTheBackendResponse(TestContainer.Kind kind) throws Exception {
        start(kind);
        Session s = store.create(Map.of("a", JSON.readTree("1")));
        store.writesDown.set(true);
        HttpResponse<String> r = get("/app?status=202&set=" + enc("{\"a\":2}"), s.id());
        assertEquals(202, r.statusCode(), r.body());
        assertTrue(r.body().contains("backend body"), r.body());
        assertEquals(s.id(), new Echo(r.body()).one("x-session-id"));
        assertTrue(r.headers().allValues("X-New-Session-Data").isEmpty());

        HttpResponse<String> fresh = get("/app?set=" + enc("{\"a\":2}"), null);
        assertEquals(200, fresh.statusCode());
        assertNull(sessionSetCookie(fresh), "no cookie for a session that could not be created");
        store.writesDown.set(false);
        assertEquals(1, store.load(s.id()).orElseThrow().attribute("a").intValue());
    }

    // =====================================================================================
    // helpers
    // =====================================================================================

    HttpResponse<String> get(String pathAndQuery, String sessionId) throws IOException, InterruptedException {
        HttpRequest.Builder b = proxy.request(pathAndQuery).GET();
        if (sessionId != null) {
            b.header("Cookie", COOKIE + "=" + sessionId);
        }
        return proxy.send(b.build());
    }

    /** A raw exchange (the JDK client normalizes some header names): returns the whole response. */
    String raw(String pathAndQuery, String sessionId, String... extraHeaders) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("GET " + pathAndQuery + " HTTP/1.1");
        lines.add("Host: front.example");
        lines.add("Connection: close");
        if (sessionId != null) {
            lines.add("Cookie: " + COOKIE + "=" + sessionId);
        }
        Collections.addAll(lines, extraHeaders);
        String raw = RawHttp.exchange(proxy.port(), lines.toArray(String[]::new));
        assertEquals(200, RawHttp.status(raw), raw);
        return raw;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String sessionSetCookie(HttpResponse<?> r) {
        return setCookie(r, COOKIE);
    }

    static String setCookie(HttpResponse<?> r, String name) {
        for (String v : r.headers().allValues("set-cookie")) {
            if (v.startsWith(name + "=")) {
                return v;
            }
        }
        return null;
    }

    static String cookieValue(String setCookie) {
        assertNotNull(setCookie, "no Set-Cookie");
        int eq = setCookie.indexOf('=');
        int semi = setCookie.indexOf(';');
        return setCookie.substring(eq + 1, semi < 0 ? setCookie.length() : semi);
    }

    /** The attributes after the name=value pair, lower case, trimmed. */
    static List<String> cookieAttributes(String setCookie) {
        List<String> out = new ArrayList<>();
        String[] parts = setCookie.split(";");
        for (int i = 1; i < parts.length; i++) {
            out.add(parts[i].trim().toLowerCase(Locale.ROOT));
        }
        return out;
    }

    /** What the backend saw: its body lists the request headers as {@code name: value} lines. */
    static final class Echo {
        final String text;

        Echo(String body) {
            this.text = body;
        }

        List<String> all(String lowerName) {
            List<String> out = new ArrayList<>();
            for (String line : text.split("\n")) {
                int c = line.indexOf(": ");
                if (c > 0 && line.substring(0, c).equals(lowerName)) {
                    out.add(line.substring(c + 2));
                }
            }
            return out;
        }

        String one(String lowerName) {
            List<String> all = all(lowerName);
            assertTrue(all.size() <= 1, lowerName + " more than once: " + text);
            return all.isEmpty() ? null : all.get(0);
        }

        /** Lines whose name is in the X-Session-* / X-New-Session-* family, any case, _ or -. */
        int sessionHeaderCount() {
            int n = 0;
            for (String line : text.split("\n")) {
                int c = line.indexOf(": ");
                if (c > 0) {
                    String name = line.substring(0, c).replace('_', '-');
                    if (name.startsWith("x-session") || name.startsWith("x-new-session")) {
                        n++;
                    }
                }
            }
            return n;
        }
    }

    /**
     * A real Jetty backend: echoes the request headers (lower-case names, one {@code name: value}
     * line each, then {@code backend body}), answers {@code status} (default 200) and sets the
     * header {@code hdr} (default X-New-Session-Data) to the {@code set} query parameter.
     */
    static final class SessionBackend implements AutoCloseable {
        final AtomicInteger hits = new AtomicInteger();
        private final Server server;
        private final ServerConnector connector;

        SessionBackend() throws Exception {
            server = new Server();
            HttpConfiguration http = new HttpConfiguration();
            http.setRequestHeaderSize(64 * 1024);
            http.setResponseHeaderSize(64 * 1024);
            connector = new ServerConnector(server, new HttpConnectionFactory(http));
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            server.addConnector(connector);
            ServletContextHandler ctx = new ServletContextHandler("/");
            ctx.addServlet(new ServletHolder(new HttpServlet() {
                private static final long serialVersionUID = 1L;

                @Override
                protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                    hits.incrementAndGet();
                    StringBuilder sb = new StringBuilder();
                    for (String n : Collections.list(req.getHeaderNames())) {
                        for (String v : Collections.list(req.getHeaders(n))) {
                            sb.append(n.toLowerCase(Locale.ROOT)).append(": ").append(v).append('\n');
                        }
                    }
                    sb.append("backend body\n");
                    String status = req.getParameter("status");
                    resp.setStatus(status == null ? 200 : Integer.parseInt(status));
                    String set = req.getParameter("set");
                    if (BIG_PATCH.equals(set)) {
                        set = "{\"x\":\"" + "y".repeat(9000) + "\"}";
                    }
                    if (set != null) {
                        String hdr = req.getParameter("hdr");
                        resp.setHeader(hdr == null ? "X-New-Session-Data" : hdr, set);
                    }
                    byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
                    resp.setContentType("text/plain;charset=utf-8");
                    resp.setContentLength(b.length);
                    resp.getOutputStream().write(b);
                }
            }), "/*");
            server.setHandler(ctx);
            server.start();
        }

        int port() {
            return connector.getLocalPort();
        }

        @Override
        public void close() {
            try {
                server.stop();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A real in-memory store with switches that make calls fail as if its server were down. */
    static final class FaultyStore implements SessionStore {
        private final SessionStore delegate;
        /** Every call fails. */
        final AtomicBoolean down = new AtomicBoolean();
        /** Only create and save fail. */
        final AtomicBoolean writesDown = new AtomicBoolean();
        final AtomicInteger creates = new AtomicInteger();

        FaultyStore(SessionStore delegate) {
            this.delegate = delegate;
        }

        private void check(boolean write) {
            if (down.get() || (write && writesDown.get())) {
                throw new SessionStoreException("store is down (test fault)");
            }
        }

        @Override
        public Session create(Map<String, JsonNode> attributes) {
            check(true);
            creates.incrementAndGet();
            return delegate.create(attributes);
        }

        @Override
        public Optional<Session> load(String id) {
            check(false);
            return delegate.load(id);
        }

        @Override
        public Optional<Session> save(String id, SessionChanges changes) {
            check(true);
            return delegate.save(id, changes);
        }

        @Override
        public boolean delete(String id) {
            check(true);
            return delegate.delete(id);
        }

        @Override
        public Optional<Session> changeId(String id) {
            check(true);
            return delegate.changeId(id);
        }

        @Override
        public Registration addListener(SessionListener listener) {
            return delegate.addListener(listener);
        }

        @Override
        public SessionSettings settings() {
            return delegate.settings();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
