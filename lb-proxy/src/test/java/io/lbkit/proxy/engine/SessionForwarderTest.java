package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionCookies;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The session forwarding rule on the rules' own views, over a real in-memory store. */
class SessionForwarderTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ClientOrigin PLAIN = new ClientOrigin(null, "192.0.2.1", false, "http", false, "h", 80);
    private static final ClientOrigin HTTPS = new ClientOrigin(null, "192.0.2.1", false, "https", true, "h", 443);

    private final FaultyStore store = new FaultyStore(InMemorySessionStore.builder()
            .settings(SessionSettings.builder().maxSessionBytes(16 * 1024).build()).build());
    private ExecutorService executor;

    @AfterEach
    void close() {
        store.close();
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private SessionForwarder rule() {
        return new SessionForwarder(SessionForwarding.builder(store).build());
    }

    private static TestRequest withCookie(String cookieHeader) {
        TestRequest r = new TestRequest("GET", "/app");
        if (cookieHeader != null) {
            r.header("Cookie", cookieHeader);
        }
        return r;
    }

    /** load() to its end, then the request fields the backend would get. */
    private static Fields loadedFields(ForwardedSession s) {
        CompletionStage<Void> st = s.load();
        if (st != null) {
            st.toCompletableFuture().join();
        }
        Fields f = new Fields();
        s.addRequestFields(f);
        return f;
    }

    @Test
    void noCookieMeansNoStoreCallAndNoFields() {
        store.down.set(true); // any store call would fail
        ForwardedSession s = rule().start(withCookie("other=1"), PLAIN);
        assertNull(s.load());
        Fields f = new Fields();
        s.addRequestFields(f);
        assertTrue(f.all.isEmpty());
        assertFalse(s.hasSession());
    }

    @Test
    void theSessionGoesToTheBackendAsHeaderSafeJsonSortedByName() throws Exception {
        Session saved = store.create(Map.of("z", JSON.readTree("1"), "a", JSON.readTree("\"h\u00e9\\n\u007f\"")));
        Fields f = loadedFields(rule().start(withCookie("x=1; LBSESSION=" + saved.id()), PLAIN));
        assertEquals(List.of(saved.id()), f.values("X-Session-ID"));
        String data = f.values("X-Session-Data").get(0);
        assertEquals("{\"a\":\"h\\u00E9\\n\\u007F\",\"z\":1}", data); // CR/LF, DEL and non-ASCII escaped
        assertEquals(JSON.valueToTree(saved.attributes()), JSON.readTree(data), "decodes back");
    }

    @Test
    void theFirstWellFormedCookieOfThatNameCountsAndUnknownIdsAreNoSession() throws Exception {
        Session saved = store.create(Map.of("k", JSON.readTree("2")));
        Fields f = loadedFields(rule().start(withCookie("LBSESSION=forged; LBSESSION=; LBSESSION=" + saved.id()), PLAIN));
        assertEquals(List.of(saved.id()), f.values("X-Session-ID"));
        Fields second = loadedFields(rule().start(new TestRequest("GET", "/").header("Cookie", "LBSESSION=bad")
                .header("Cookie", "a=b; LBSESSION=" + saved.id()), PLAIN));
        assertEquals(List.of(saved.id()), second.values("X-Session-ID"));
        Fields unknown = loadedFields(rule().start(withCookie("LBSESSION=" + SessionIds.generate()), PLAIN));
        assertTrue(unknown.all.isEmpty(), unknown.all.toString());
    }

    @Test
    void dataOverTheLimitIsReplacedByTheTruncatedFlag() throws Exception {
        Session big = store.create(Map.of("blob", JSON.readTree("\"" + "x".repeat(100) + "\"")));
        SessionForwarder rule = new SessionForwarder(SessionForwarding.builder(store).maxDataBytes(64).build());
        Fields f = loadedFields(rule.start(withCookie("LBSESSION=" + big.id()), PLAIN));
        assertEquals(List.of(big.id()), f.values("X-Session-ID"));
        assertTrue(f.values("X-Session-Data").isEmpty());
        assertEquals(List.of("true"), f.values("X-Session-Data-Truncated"));
    }

    @Test
    void aStoreFailureWhileLoadingFailsTheStageAsTheStoresSoTheAnswerIs503() throws Exception {
        Session s = store.create(Map.of("a", JSON.readTree("1")));
        store.down.set(true);
        ForwardedSession fs = rule().start(withCookie("LBSESSION=" + s.id()), PLAIN);
        CompletionStage<Void> st = fs.load();
        assertNotNull(st);
        CompletionException e = assertThrows(CompletionException.class, () -> st.toCompletableFuture().join());
        assertTrue(SessionForwarder.isStoreFailure(e), e.toString());
        assertFalse(SessionForwarder.isStoreFailure(new IllegalStateException("a bug")));
        assertEquals("1", SessionForwarder.RETRY_AFTER);
        Fields f = new Fields();
        fs.addRequestFields(f);
        assertTrue(f.all.isEmpty());
    }

    @Test
    void aPatchOfALoadedSessionIsSavedAtAttributeLevelAndSetsNoCookie() throws Exception {
        Session s = store.create(Map.of("a", JSON.readTree("1"), "prefs", JSON.readTree("{\"x\":1,\"y\":2}")));
        ForwardedSession fs = rule().start(withCookie("LBSESSION=" + s.id()), PLAIN);
        loadedFields(fs);
        CompletionStage<Void> saved = fs.save(fields("Content-Type", "text/plain",
                "x_new_session_data", "{\"a\":null,\"prefs\":{\"y\":null,\"z\":3},\"b\":[1,null]}"));
        assertNotNull(saved);
        saved.toCompletableFuture().join();
        assertEquals(Map.of("prefs", JSON.readTree("{\"x\":1,\"z\":3}"), "b", JSON.readTree("[1,null]")),
                store.load(s.id()).orElseThrow().attributes());
        Fields out = new Fields();
        fs.addResponseFields(out);
        assertTrue(out.all.isEmpty());
    }

    @Test
    void aPatchWithoutASessionCreatesOneAndItsCookieReplacesTheBackendsOfThatName() throws Exception {
        ForwardedSession fs = rule().start(withCookie(null), HTTPS);
        assertNull(fs.load());
        CompletionStage<Void> st = fs.save(fields("X-New-Session-Data", "{\"user\":\"bob\",\"gone\":null}"));
        assertNotNull(st);
        st.toCompletableFuture().join();
        Fields out = new Fields();
        out.add("Set-Cookie", "LBSESSION=theirs; Path=/");
        out.add("Set-Cookie", "other=1");
        out.add("X-Kept", "yes");
        fs.addResponseFields(out);
        List<String> cookies = out.values("Set-Cookie");
        assertEquals(2, cookies.size(), cookies.toString());
        assertEquals("other=1", cookies.get(0));
        String mine = cookies.get(1);
        assertTrue(mine.matches("LBSESSION=[A-Za-z0-9_-]{32}; Path=/; Secure; HttpOnly; SameSite=Lax"), mine);
        assertEquals(List.of("yes"), out.values("X-Kept"));
        String id = mine.substring("LBSESSION=".length(), mine.indexOf(';'));
        assertEquals(Map.of("user", JSON.readTree("\"bob\"")), store.load(id).orElseThrow().attributes());
    }

    @Test
    void theCookieIsSecureOnlyOnHttpsUnlessConfigured() throws Exception {
        assertFalse(createdCookie(rule(), PLAIN).contains("Secure"));
        assertTrue(createdCookie(new SessionForwarder(SessionForwarding.builder(store)
                .secure(SessionCookies.SecureCookie.ALWAYS).build()), PLAIN).contains("; Secure"));
        assertFalse(createdCookie(new SessionForwarder(SessionForwarding.builder(store)
                .secure(SessionCookies.SecureCookie.NEVER).build()), HTTPS).contains("Secure"));
        String none = createdCookie(new SessionForwarder(SessionForwarding.builder(store)
                .sameSite(SessionCookies.SameSite.NONE).cookiePath("/app").build()), PLAIN);
        assertTrue(none.endsWith("; Path=/app; Secure; HttpOnly; SameSite=None"), none);
    }

    private String createdCookie(SessionForwarder rule, ClientOrigin origin) {
        ForwardedSession fs = rule.start(withCookie(null), origin);
        fs.save(fields("X-New-Session-Data", "{\"a\":1}")).toCompletableFuture().join();
        Fields out = new Fields();
        fs.addResponseFields(out);
        return out.values("Set-Cookie").get(0);
    }

    @Test
    void badPatchesAreIgnoredAndChangeNothing() throws Exception {
        Session s = store.create(Map.of("a", JSON.readTree("1")));
        for (String bad : new String[] {"{bad json", "[1,2]", "\"text\"", "42", "null", "{\"a\":1}{}", "{\"a\":1,\"a\":2}",
                "{\"x\":\"" + "y".repeat(9000) + "\"}", "{\"a\":\"\\ud800\"}", "{\"n\":1e999999999}", ""}) {
            ForwardedSession withSession = rule().start(withCookie("LBSESSION=" + s.id()), PLAIN);
            loadedFields(withSession);
            assertNull(withSession.save(fields("X-New-Session-Data", bad)), bad);
            ForwardedSession fresh = rule().start(withCookie(null), PLAIN);
            assertNull(fresh.save(fields("X-New-Session-Data", bad)), bad);
            Fields out = new Fields();
            fresh.addResponseFields(out);
            assertTrue(out.all.isEmpty(), bad);
        }
        ForwardedSession twice = rule().start(withCookie(null), PLAIN);
        assertNull(twice.save(fields("X-New-Session-Data", "{\"a\":1}", "x-new-session-data", "{\"a\":1}")));
        ForwardedSession empty = rule().start(withCookie(null), PLAIN);
        assertNull(empty.save(fields("X-New-Session-Data", "{\"gone\":null}")), "a patch that leaves nothing creates nothing");
        assertNull(empty.save(fields("X-Other", "1")), "no patch: nothing to wait for");
        assertEquals(1, store.creates);
        Session now = store.load(s.id()).orElseThrow();
        assertEquals(s.version(), now.version());
        assertEquals(s.attributes(), now.attributes());
    }

    @Test
    void storeFailuresWhileSavingOrCreatingLetTheResponseGoOn() throws Exception {
        Session s = store.create(Map.of("a", JSON.readTree("1")));
        ForwardedSession fs = rule().start(withCookie("LBSESSION=" + s.id()), PLAIN);
        loadedFields(fs);
        store.down.set(true);
        fs.save(fields("X-New-Session-Data", "{\"a\":2}")).toCompletableFuture().join(); // completes normally
        ForwardedSession fresh = rule().start(withCookie(null), PLAIN);
        fresh.save(fields("X-New-Session-Data", "{\"a\":2}")).toCompletableFuture().join();
        Fields out = new Fields();
        fresh.addResponseFields(out);
        assertTrue(out.all.isEmpty(), "no cookie for a session that was not created");
        store.down.set(false);
        assertEquals(1, store.load(s.id()).orElseThrow().attribute("a").intValue());
    }

    @Test
    void storeCallsRunOnTheConfiguredExecutor() throws Exception {
        executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "store-io"));
        List<String> threads = new ArrayList<>();
        store.onCall = call -> {
            synchronized (threads) {
                threads.add(call + "@" + Thread.currentThread().getName());
            }
        };
        SessionForwarder rule = new SessionForwarder(SessionForwarding.builder(store).executor(executor).build());
        ForwardedSession fresh = rule.start(withCookie(null), PLAIN);
        fresh.save(fields("X-New-Session-Data", "{\"a\":1}")).toCompletableFuture().get(30, TimeUnit.SECONDS);
        Fields out = new Fields();
        fresh.addResponseFields(out);
        String c = out.values("Set-Cookie").get(0);
        String id = c.substring("LBSESSION=".length(), c.indexOf(';'));
        ForwardedSession again = rule.start(withCookie("LBSESSION=" + id), PLAIN);
        again.load().toCompletableFuture().get(30, TimeUnit.SECONDS);
        again.save(fields("X-New-Session-Data", "{\"b\":2}")).toCompletableFuture().get(30, TimeUnit.SECONDS);
        synchronized (threads) {
            assertEquals(List.of("create@store-io", "load@store-io", "save@store-io"), threads);
        }
    }

    @Test
    void configuredNamesOutsideTheFamilyAreDroppedBothWays() {
        SessionForwarding f = SessionForwarding.builder(store).idHeader("X-User-Sid").dataHeader("X-User-Data")
                .newDataHeader("X-User-Update").build();
        SessionForwarder rule = new SessionForwarder(f);
        for (String n : new String[] {"X-User-Sid", "x_user_data", "X-USER-DATA-TRUNCATED", "x-user-update"}) {
            assertTrue(rule.hidesResponseField(n), n);
        }
        assertFalse(rule.hidesResponseField("X-User"));
        assertFalse(rule().hidesResponseField("X-Session-ID"), "the family is ResponseHeaderRules.copied's");

        ProxyConfig config = ProxyConfig.builder()
                .route(Route.builder("r", Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build()).build())
                .sessionForwarding(f).build();
        TestRequest req = new TestRequest("GET", "/").header("Host", "h").header("X-User-Data", "{}")
                .header("x_user_sid", "forged").header("X-User-Data-Truncated", "true").header("X-User", "kept");
        Fields out = new Fields();
        new RequestHeaderRules(config).apply(req, ClientOrigin.of(config, req, "192.0.2.1", "http", "h", 80), false, out);
        for (String n : out.all.keySet()) {
            assertFalse(n.toLowerCase(Locale.ROOT).replace('_', '-').startsWith("x-user-"), n + " reached the backend");
        }
        assertEquals(List.of("kept"), out.values("X-User"));
    }

    // =====================================================================================

    private static ResponseFields fields(String... nameValue) {
        return action -> {
            for (int i = 0; i < nameValue.length; i += 2) {
                action.accept(nameValue[i], nameValue[i + 1]);
            }
        };
    }

    /** Header fields in a list, names compared ignoring case: both sinks. */
    static final class Fields implements ResponseHeaderSink {
        final Map<String, List<String>> all = new java.util.LinkedHashMap<>();

        @Override
        public void add(String name, String value) {
            all.computeIfAbsent(key(name), k -> new ArrayList<>()).add(value);
        }

        @Override
        public void set(String name, String value) {
            List<String> l = new ArrayList<>();
            l.add(value);
            all.put(key(name), l);
        }

        @Override
        public List<String> values(String name) {
            return List.copyOf(all.getOrDefault(key(name), List.of()));
        }

        @Override
        public void remove(String name) {
            all.remove(key(name));
        }

        private String key(String name) {
            for (String k : all.keySet()) {
                if (k.equalsIgnoreCase(name)) {
                    return k;
                }
            }
            return name;
        }
    }

    /** A real in-memory store whose calls can be made to fail as if its server were down. */
    static final class FaultyStore implements SessionStore {
        private final SessionStore d;
        final AtomicBoolean down = new AtomicBoolean();
        volatile java.util.function.Consumer<String> onCall = c -> { };
        int creates;

        FaultyStore(SessionStore d) {
            this.d = d;
        }

        private void check(String call) {
            onCall.accept(call);
            if (down.get()) {
                throw new SessionStoreException("store is down (test fault)");
            }
        }

        @Override
        public Session create(Map<String, JsonNode> attributes) {
            check("create");
            creates++;
            return d.create(attributes);
        }

        @Override
        public Optional<Session> load(String id) {
            check("load");
            return d.load(id);
        }

        @Override
        public Optional<Session> save(String id, SessionChanges changes) {
            check("save");
            return d.save(id, changes);
        }

        @Override
        public boolean delete(String id) {
            return d.delete(id);
        }

        @Override
        public Optional<Session> changeId(String id) {
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
            d.close();
        }
    }
}
