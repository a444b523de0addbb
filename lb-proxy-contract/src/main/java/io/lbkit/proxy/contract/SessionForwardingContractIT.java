package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.core.Upstream;
import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.proxy.contract.SessionBackend.Echo;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Session forwarding ({@link SessionForwarding}) on every engine, in front of a real Jetty
 * backend that echoes the headers it received and answers {@code X-New-Session-Data} from its
 * {@code set} query parameter ({@link SessionBackend}); the store is the in-memory one, made to
 * fail on demand. The Redis outage under load is {@link SessionStoreOutageIT}.
 */
class SessionForwardingContractIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String COOKIE = "LBSESSION";

    static SessionBackend backend;

    private final FaultySessionStore store = new FaultySessionStore(InMemorySessionStore.builder()
            .settings(SessionSettings.builder().maxSessionBytes(16 * 1024).build()).build());
    private ProxyFixture proxy;
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
        if (executor != null) {
            executor.shutdownNow();
        }
        store.close();
    }

    private ProxyFixture start(ProxyEngine kind) {
        return start(kind, b -> { }, c -> { });
    }

    private ProxyFixture start(ProxyEngine kind, Consumer<SessionForwarding.Builder> forwarding,
                               Consumer<ProxyConfig.Builder> config) {
        return start(kind, store, forwarding, config);
    }

    private ProxyFixture start(ProxyEngine kind, SessionStore s, Consumer<SessionForwarding.Builder> forwarding,
                               Consumer<ProxyConfig.Builder> config) {
        SessionForwarding.Builder f = SessionForwarding.builder(s);
        forwarding.accept(f);
        ProxyConfig.Builder b = ProxyConfig.builder().route(Route.builder("all", upstream()).build())
                .sessionForwarding(f.build());
        config.accept(b);
        proxy = new ProxyFixture(kind, b.build());
        return proxy;
    }

    static Upstream upstream() {
        return Upstream.builder("session-backends").endpoint(ProxyFixture.endpoint("s1", backend.port())).build();
    }

    // =====================================================================================
    // the session's way: cookie -> store -> headers -> patch -> store -> cookie
    // =====================================================================================

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void backendCreatesSessionClientGetsCookieAndNextRequestCarriesTheSession(ProxyEngine kind) throws Exception {
        start(kind);
        HttpResponse<String> first = get("/app?set=" + enc("{\"user\":\"alice\",\"n\":1}"), null);
        assertEquals(200, first.statusCode(), first.body());
        Echo saw = new Echo(first.body());
        assertNull(saw.one("x-session-id"), "no session yet: " + first.body());
        assertNull(saw.one("x-session-data"), first.body());
        assertTrue(first.headers().allValues("X-New-Session-Data").isEmpty(), "patch header reached the client");
        assertTrue(first.body().endsWith("backend body\n"), "the body follows the held head: " + first.body());
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
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void theNewSessionsCookieReplacesTheBackendsOfTheSameNameAndKeepsOthers(ProxyEngine kind) throws Exception {
        start(kind);
        HttpResponse<String> r = get("/app?set=" + enc("{\"a\":1}") + "&cookie=" + enc(COOKIE + "=theirs; Path=/")
                + "&cookie=" + enc("other=1; Path=/"), null);
        assertEquals(200, r.statusCode(), r.body());
        List<String> cookies = r.headers().allValues("set-cookie");
        assertEquals(1, cookies.stream().filter(c -> c.startsWith(COOKIE + "=")).count(), cookies.toString());
        assertTrue(cookies.contains("other=1; Path=/"), cookies.toString());
        String id = cookieValue(sessionSetCookie(r));
        assertNotEquals("theirs", id);
        assertEquals(1, store.load(id).orElseThrow().attribute("a").intValue());
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void mergePatchRemovesWithNullAndMergesNestedObjects(ProxyEngine kind) throws Exception {
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
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void nonAsciiAndControlCharactersArriveEscapedAndDecodeBack(ProxyEngine kind) throws Exception {
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

    // =====================================================================================
    // spoofing
    // =====================================================================================

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void clientInjectedSessionHeadersNeverReachTheBackendNorChangeTheStore(ProxyEngine kind) throws Exception {
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
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void forgedOrUnknownCookieMeansNoSessionAndIsNeverAdopted(ProxyEngine kind) throws Exception {
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
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void customHeaderNamesAreUsedAndStrippedBothWays(ProxyEngine kind) throws Exception {
        start(kind, f -> f.cookieName("SID").idHeader("X-User-Sid").dataHeader("X-User-Data").newDataHeader("X-User-Update"),
                c -> { });
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
        String id = cookieValue(setCookie(r, "SID"));
        assertEquals(3, store.load(id).orElseThrow().attribute("step").intValue());
    }

    // =====================================================================================
    // what the backend sends back
    // =====================================================================================

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void invalidPatchFromTheBackendLeavesTheSessionAndPassesTheResponse(ProxyEngine kind) throws Exception {
        start(kind);
        Session s = store.create(Map.of("a", JSON.readTree("1")));
        for (String bad : new String[] {"{bad json", "[1,2]", "\"text\"", "42", "null", "{\"a\":1}{}",
                "{\"a\":1,\"a\":2}", SessionBackend.BIG_PATCH, "{\"a\":\"\\ud800\"}", "{\"n\":1e999999999}",
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
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void concurrentRequestsOfOneSessionSettingDifferentAttributesAllPersist(ProxyEngine kind) throws Exception {
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
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void dataOverTheLimitIsNotSentAndTheBackendIsToldSo(ProxyEngine kind) throws Exception {
        start(kind, f -> f.maxDataBytes(64), c -> { });
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

    // =====================================================================================
    // the cookie's Secure attribute
    // =====================================================================================

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void cookieIsSecureWhenATrustedProxySaysHttps(ProxyEngine kind) throws Exception {
        start(kind, f -> { }, c -> c.trustedProxies(CidrRules.parse("allow 127.0.0.0/8; deny all;")));
        String secure = sessionSetCookie(get("/app?set=" + enc("{\"a\":1}"), null, "X-Forwarded-Proto", "https"));
        assertTrue(cookieAttributes(secure).contains("secure"), secure);
        String plain = sessionSetCookie(get("/app?set=" + enc("{\"a\":1}"), null, "X-Forwarded-Proto", "http"));
        assertFalse(cookieAttributes(plain).contains("secure"), plain);
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void forwardedProtoFromAnUntrustedPeerIsIgnored(ProxyEngine kind) throws Exception {
        start(kind, f -> f.sameSite(SessionCookies.SameSite.STRICT), c -> { });
        String c = sessionSetCookie(get("/app?set=" + enc("{\"a\":1}"), null, "X-Forwarded-Proto", "https"));
        List<String> attrs = cookieAttributes(c);
        assertFalse(attrs.contains("secure"), c);
        assertTrue(attrs.contains("samesite=strict"), c);
    }

    // =====================================================================================
    // the store: slow, on an executor, down
    // =====================================================================================

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void storeCallsRunOnTheConfiguredExecutor(ProxyEngine kind) throws Exception {
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "session-store-io");
            t.setDaemon(true);
            return t;
        });
        List<String> threads = Collections.synchronizedList(new ArrayList<>());
        SessionStore recording = new ThreadRecordingStore(store, threads);
        start(kind, recording, f -> f.executor(executor), c -> { });
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
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aSlowStoreHoldsTheHeadUntilTheSessionIsSavedAndTheBodyFollowsWhole(ProxyEngine kind) throws Exception {
        // store calls finish later, on another thread (a networked store): the head waits for the
        // create, so the cookie is part of the answer, and the body after it arrives whole
        start(kind, f -> f.executor(CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS)), c -> { });
        HttpResponse<String> first = get("/app?set=" + enc("{\"user\":\"bob\"}"), null);
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(first.body().endsWith("backend body\n"), first.body());
        String id = cookieValue(sessionSetCookie(first));
        HttpResponse<String> second = get("/app?set=" + enc("{\"n\":2}"), id);
        assertEquals(id, new Echo(second.body()).one("x-session-id"), second.body());
        assertEquals(Map.of("user", JSON.readTree("\"bob\""), "n", JSON.readTree("2")),
                store.load(id).orElseThrow().attributes());
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void storeDownWhileLoadingAnswers503WithRetryAfterWithoutContactingTheBackend(ProxyEngine kind) throws Exception {
        start(kind);
        Session s = store.create(Map.of("a", JSON.readTree("1")));
        int before = backend.hits.get();
        store.down.set(true);
        HttpResponse<String> r = get("/app?set=" + enc("{\"a\":2}"), s.id());
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("1", r.headers().firstValue("Retry-After").orElse(null), r.headers().map().toString());
        assertEquals("503 Service Unavailable\n", r.body());
        assertEquals(before, backend.hits.get(), "the backend was contacted");

        // no cookie → no store call → proxied as usual even while the store is down
        HttpResponse<String> anonymous = get("/app", null);
        assertEquals(200, anonymous.statusCode());
        assertTrue(anonymous.headers().firstValue("Retry-After").isEmpty());
        assertEquals(before + 1, backend.hits.get());
        store.down.set(false);
        assertEquals(1, store.load(s.id()).orElseThrow().attribute("a").intValue());
        assertEquals(s.id(), new Echo(get("/app", s.id()).body()).one("x-session-id"), "works again once the store does");
    }

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void storeDownWhileSavingKeepsTheBackendResponse(ProxyEngine kind) throws Exception {
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
    // fan-out
    // =====================================================================================

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aFanOutAnswerCreatesTheSessionAndTheClientGetsItsCookie(ProxyEngine kind) throws Exception {
        // the store's create runs asynchronously: the fan-out response waits for it, as a single
        // exchange does, so the session's Set-Cookie is part of the answer
        proxy = new ProxyFixture(kind, ProxyConfig.builder()
                .route(Route.builder("fan", upstream()).broadcast(FanOut.builder().build()).build())
                .sessionForwarding(SessionForwarding.builder(store)
                        .executor(CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS)).build()).build());
        HttpResponse<String> first = get("/app?set=" + enc("{\"user\":\"bob\"}"), null);
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(first.headers().allValues("X-New-Session-Data").isEmpty(), "patch header reached the client");
        String setCookie = sessionSetCookie(first);
        assertNotNull(setCookie, "no session cookie: " + first.headers().map());
        assertEquals(JSON.readTree("\"bob\""), store.load(cookieValue(setCookie)).orElseThrow().attribute("user"));
    }

    // =====================================================================================
    // helpers
    // =====================================================================================

    HttpResponse<String> get(String pathAndQuery, String sessionId, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = proxy.request(pathAndQuery).GET();
        if (sessionId != null) {
            b.header("Cookie", COOKIE + "=" + sessionId);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
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

    /** Delegates to a real store, recording which call ran on which thread. */
    private static final class ThreadRecordingStore implements SessionStore {
        private final SessionStore d;
        private final List<String> calls;

        ThreadRecordingStore(SessionStore d, List<String> calls) {
            this.d = d;
            this.calls = calls;
        }

        private void record(String call) {
            calls.add(call + "@" + Thread.currentThread().getName());
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
        public java.util.Optional<Session> save(String id, SessionChanges changes) {
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
        public Registration addListener(SessionListener listener) {
            return d.addListener(listener);
        }

        @Override
        public SessionSettings settings() {
            return d.settings();
        }

        @Override
        public void close() {
        }
    }
}
