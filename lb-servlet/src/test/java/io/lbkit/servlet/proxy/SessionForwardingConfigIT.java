package io.lbkit.servlet.proxy;

import static io.lbkit.servlet.proxy.SessionForwardingIT.COOKIE;
import static io.lbkit.servlet.proxy.SessionForwardingIT.JSON;
import static io.lbkit.servlet.proxy.SessionForwardingIT.cookieAttributes;
import static io.lbkit.servlet.proxy.SessionForwardingIT.cookieValue;
import static io.lbkit.servlet.proxy.SessionForwardingIT.enc;
import static io.lbkit.servlet.proxy.SessionForwardingIT.sessionSetCookie;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.proxy.contract.RawHttp;
import io.lbkit.proxy.contract.ProxyFixture;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.servlet.backend.SessionApiServlet;
import io.lbkit.servlet.proxy.SessionForwardingIT.Echo;
import io.lbkit.servlet.proxy.SessionForwardingIT.SessionBackend;
import io.lbkit.servlet.testing.TestContainer;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionStore;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Session forwarding settings in real Jetty 12 and Tomcat 11: the data size limit, custom header
 * names, the Secure cookie behind a trusted TLS terminator, a store executor, the session API
 * next to the proxy in one context, and build-time validation.
 */
class SessionForwardingConfigIT {

    static SessionBackend backend;

    private final SessionStore store = InMemorySessionStore.builder().build();
    private ProxyFixture proxy;
    private TestContainer container;
    private ExecutorService executor;

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
        if (container != null) {
            container.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
        store.close();
    }

    private ProxyFixture start(TestContainer.Kind kind, SessionForwarding forwarding, ProxyConfig.Builder b) {
        proxy = new ProxyFixture(ServletEngine.of(kind), b.route(Route.builder("all", SessionForwardingIT.upstream(backend)).build())
                .sessionForwarding(forwarding).build());
        return proxy;
    }

    private HttpResponse<String> get(String pathAndQuery, String sessionId, String... headers) throws Exception {
        HttpRequest.Builder b = proxy.request(pathAndQuery).GET();
        if (sessionId != null) {
            b.header("Cookie", COOKIE + "=" + sessionId);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return proxy.send(b.build());
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void dataOverTheLimitIsNotSentAndTheBackendIsToldSo(TestContainer.Kind kind) throws Exception {
        start(kind, SessionForwarding.builder(store).maxDataBytes(64).build(), ProxyConfig.builder());
        Session small = store.create(Map.of("u", JSON.readTree("\"bob\"")));
        Session big = store.create(Map.of("blob", JSON.readTree("\"" + "x".repeat(100) + "\"")));

        Echo s = new Echo(get("/app", small.id()).body());
        assertEquals(small.id(), s.one("x-session-id"));
        assertEquals("{\"u\":\"bob\"}", s.one("x-session-data"));
        assertNull(s.one("x-session-data-truncated"));

        HttpResponse<String> r = get("/app?set=" + enc("{\"seen\":true}"), big.id());
        assertEquals(200, r.statusCode());
        Echo b = new Echo(r.body());
        assertEquals(big.id(), b.one("x-session-id"));
        assertNull(b.one("x-session-data"), b.text);
        assertEquals("true", b.one("x-session-data-truncated"));
        assertTrue(store.load(big.id()).orElseThrow().attribute("seen").booleanValue(),
                "a patch still applies to a session whose data did not fit");
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void customHeaderNamesAreUsedAndStrippedBothWays(TestContainer.Kind kind) throws Exception {
        SessionForwarding f = SessionForwarding.builder(store).cookieName("SID").idHeader("X-User-Sid")
                .dataHeader("X-User-Data").newDataHeader("X-User-Update").build();
        start(kind, f, ProxyConfig.builder());
        Session mine = store.create(Map.of("role", JSON.readTree("\"user\"")));
        String raw = RawHttp.exchange(proxy.port(), "GET /app?hdr=X-User-Update&set="
                        + enc("{\"step\":2}") + " HTTP/1.1", "Host: front.example", "Connection: close",
                "Cookie: SID=" + mine.id(), "X-User-Data: {\"role\":\"admin\"}", "x_user_sid: forged",
                "X-USER-UPDATE: {\"role\":\"admin\"}", "x_user_data_truncated: true");
        assertEquals(200, RawHttp.status(raw), raw);
        Echo saw = new Echo(RawHttp.body(raw));
        assertEquals(List.of(mine.id()), saw.all("x-user-sid"), saw.text);
        assertEquals(List.of("{\"role\":\"user\"}"), saw.all("x-user-data"), saw.text);
        for (String gone : new String[] {"x_user_sid", "x-user-update", "x_user_data_truncated", "x-user-data-truncated"}) {
            assertTrue(saw.all(gone).isEmpty(), gone + " reached the backend: " + saw.text);
        }
        assertFalse(RawHttp.head(raw).toLowerCase(Locale.ROOT).contains("x-user-update"), raw);
        Session after = store.load(mine.id()).orElseThrow();
        assertEquals(Map.of("role", JSON.readTree("\"user\""), "step", JSON.readTree("2")), after.attributes());

        // the backend may spell the response header with _ and any case: applied, never copied
        HttpResponse<String> r = get("/app?hdr=x_user_update&set=" + enc("{\"step\":3}"), null);
        assertTrue(r.headers().map().keySet().stream().noneMatch(h -> h.toLowerCase(Locale.ROOT).contains("user")),
                r.headers().map().toString());
        String id = cookieValue(SessionForwardingIT.setCookie(r, "SID"));
        assertEquals(3, store.load(id).orElseThrow().attribute("step").intValue());
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void cookieIsSecureWhenATrustedProxySaysHttps(TestContainer.Kind kind) throws Exception {
        start(kind, SessionForwarding.builder(store).build(),
                ProxyConfig.builder().trustedProxies(CidrRules.parse("allow 127.0.0.0/8; deny all;")));
        String secure = sessionSetCookie(get("/app?set=" + enc("{\"a\":1}"), null, "X-Forwarded-Proto", "https"));
        assertTrue(cookieAttributes(secure).contains("secure"), secure);
        String plain = sessionSetCookie(get("/app?set=" + enc("{\"a\":1}"), null, "X-Forwarded-Proto", "http"));
        assertFalse(cookieAttributes(plain).contains("secure"), plain);
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void forwardedProtoFromAnUntrustedPeerIsIgnored(TestContainer.Kind kind) throws Exception {
        start(kind, SessionForwarding.builder(store).sameSite(SessionCookies.SameSite.STRICT).build(),
                ProxyConfig.builder());
        String c = sessionSetCookie(get("/app?set=" + enc("{\"a\":1}"), null, "X-Forwarded-Proto", "https"));
        List<String> attrs = cookieAttributes(c);
        assertFalse(attrs.contains("secure"), c);
        assertTrue(attrs.contains("samesite=strict"), c);
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void storeCallsRunOnTheConfiguredExecutor(TestContainer.Kind kind) throws Exception {
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "session-store-io");
            t.setDaemon(true);
            return t;
        });
        List<String> threads = new ArrayList<>();
        SessionStore recording = new ThreadRecordingStore(store, threads);
        start(kind, SessionForwarding.builder(recording).executor(executor).build(), ProxyConfig.builder());
        String id = cookieValue(sessionSetCookie(get("/app?set=" + enc("{\"a\":1}"), null)));
        HttpResponse<String> r = get("/app?set=" + enc("{\"b\":2}"), id);
        assertEquals("{\"a\":1}", new Echo(r.body()).one("x-session-data"));
        assertEquals(Map.of("a", JSON.readTree("1"), "b", JSON.readTree("2")), store.load(id).orElseThrow().attributes());
        synchronized (threads) {
            assertEquals(List.of("create", "load", "save"), threads.stream().map(t -> t.split("@")[0]).toList());
            assertTrue(threads.stream().allMatch(t -> t.endsWith("@session-store-io")), threads.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void sessionApiAndProxyShareOneContextWhenTheFilterIsMappedToTheDefaultServlet(TestContainer.Kind kind)
            throws Exception {
        ProxyFilter filter = new ProxyFilter(ProxyConfig.builder()
                .route(Route.builder("all", SessionForwardingIT.upstream(backend)).build())
                .sessionForwarding(SessionForwarding.builder(store).build()).build());
        container = TestContainer.start(kind, ctx -> {
            ctx.addServlet("session-api", SessionApiServlet.builder(store).loopbackOnly().build()).addMapping("/session");
            FilterRegistration.Dynamic reg = ctx.addFilter("lbkit-proxy", filter);
            reg.setAsyncSupported(true);
            // not "/*": the filter runs only for requests the default ("/") servlet would serve,
            // so /session (an exact servlet mapping) is never proxied
            reg.addMappingForServletNames(EnumSet.of(DispatcherType.REQUEST), false, "lbkit-test-404");
        });
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        int hits = backend.hits.get();
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(container.uri("/session"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"bob\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        assertEquals(hits, backend.hits.get(), "/session was proxied");
        String id = JSON.readTree(created.body()).get("session_id").textValue();

        HttpResponse<String> proxied = http.send(HttpRequest.newBuilder(container.uri("/app?set=" + enc("{\"cart\":3}")))
                .timeout(Duration.ofSeconds(30)).header("Cookie", COOKIE + "=" + id).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, proxied.statusCode());
        assertEquals(hits + 1, backend.hits.get());
        assertEquals(JSON.readTree("{\"user\":\"bob\"}"), JSON.readTree(new Echo(proxied.body()).one("x-session-data")));

        HttpResponse<String> read = http.send(HttpRequest.newBuilder(container.uri("/session?session_id=" + id))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, read.statusCode(), read.body());
        JsonNode data = JSON.readTree(read.body()).get("data");
        assertEquals(JSON.readTree("{\"user\":\"bob\",\"cart\":3}"), data);
        assertEquals(hits + 1, backend.hits.get(), "/session was proxied");
    }

    @Test
    void buildRejectsBadSettingsNamingTheField() {
        assertMessage("cookieName must be a token, got 'a b'", () -> SessionForwarding.builder(store).cookieName("a b").build());
        assertMessage("cookiePath must start with /", () -> SessionForwarding.builder(store).cookiePath("x").build());
        assertMessage("idHeader must be a header name, got 'X:Y'", () -> SessionForwarding.builder(store).idHeader("X:Y").build());
        assertMessage("dataHeader must be a header name, got ''", () -> SessionForwarding.builder(store).dataHeader("").build());
        assertMessage("newDataHeader must be a header name, got 'null'",
                () -> SessionForwarding.builder(store).newDataHeader(null).build());
        assertMessage("idHeader and dataHeader must differ", () -> SessionForwarding.builder(store)
                .idHeader("X-A").dataHeader("x_a").build());
        assertMessage("maxDataBytes must be >= 64, got 10", () -> SessionForwarding.builder(store).maxDataBytes(10).build());
        assertMessage("maxPatchBytes must be >= 64, got 0", () -> SessionForwarding.builder(store).maxPatchBytes(0).build());
        assertThrows(NullPointerException.class, () -> SessionForwarding.builder(null));
        SessionForwarding d = SessionForwarding.builder(store).build();
        assertEquals("LBSESSION", d.cookieName());
        assertEquals("X-Session-ID", d.idHeader());
        assertEquals("X-Session-Data", d.dataHeader());
        assertEquals("X-Session-Data-Truncated", d.truncatedHeader());
        assertEquals("X-New-Session-Data", d.newDataHeader());
        assertEquals(8192, d.maxDataBytes());
        assertEquals(8192, d.maxPatchBytes());
        assertEquals(SessionCookies.SameSite.LAX, d.sameSite());
        assertEquals(SessionCookies.SecureCookie.AUTO, d.secure());
        assertEquals("/", d.cookiePath());
        assertNull(d.executor());
    }

    private static void assertMessage(String start, org.junit.jupiter.api.function.Executable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }

    /** Delegates to a real store, recording which call ran on which thread. */
    private static final class ThreadRecordingStore implements SessionStore {
        private final SessionStore d;
        private final List<String> calls;

        ThreadRecordingStore(SessionStore d, List<String> calls) {
            this.d = d;
            this.calls = calls;
        }

        private void record(String call) {
            synchronized (calls) {
                calls.add(call + "@" + Thread.currentThread().getName());
            }
        }

        @Override
        public Session create(Map<String, JsonNode> attributes) {
            record("create");
            return d.create(attributes);
        }

        @Override
        public java.util.Optional<Session> load(String id) {
            record("load");
            return d.load(id);
        }

        @Override
        public java.util.Optional<Session> save(String id, io.lbkit.session.SessionChanges changes) {
            record("save");
            return d.save(id, changes);
        }

        @Override
        public boolean delete(String id) {
            return d.delete(id);
        }

        @Override
        public java.util.Optional<Session> changeId(String id) {
            return d.changeId(id);
        }

        @Override
        public Registration addListener(io.lbkit.session.SessionListener listener) {
            return d.addListener(listener);
        }

        @Override
        public io.lbkit.session.SessionSettings settings() {
            return d.settings();
        }

        @Override
        public void close() {
        }
    }
}
