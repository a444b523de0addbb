package io.lbkit.servlet.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.proxy.contract.FaultySessionStore;
import io.lbkit.proxy.contract.Http;
import io.lbkit.proxy.contract.SessionStores;
import io.lbkit.servlet.testing.TestContainer;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.redis.RedisSessionStore;
import io.lbkit.testing.RedisServers;
import jakarta.servlet.DispatcherType;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The session filter in real Jetty 12 and Tomcat 11, each case against the in-memory store and
 * against {@link io.lbkit.session.redis.RedisSessionStore} on a real redis-server. {@code /u/*}: a filter
 * that trusts no proxy; {@code /t/*}: a filter that trusts 127.0.0.1 (the test client's address)
 * for X-Session-ID and X-Forwarded-Proto.
 */
class SessionFilterIT {

    private static final String CASES = "io.lbkit.servlet.backend.SessionFilterIT#cases";
    private static final Duration IDLE = Duration.ofMinutes(30);
    private static final SessionStores STORES = new SessionStores();

    private final SessionStores.ManualTicker ticker = new SessionStores.ManualTicker();
    private SessionStore real;
    private FaultySessionStore store;
    private TestContainer container;

    /** Every container × every store: the arguments of the parameterized tests. */
    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (TestContainer.Kind kind : TestContainer.Kind.values()) {
            for (SessionStores.Backing backing : SessionStores.Backing.values()) {
                all.add(Arguments.of(kind, backing));
            }
        }
        return all.stream();
    }

    @AfterAll
    static void stopRedis() {
        STORES.close();
    }

    private static SessionSettings settings() {
        return SessionSettings.builder().idleTimeout(IDLE).maxSessionBytes(4096).build();
    }

    private TestContainer start(TestContainer.Kind kind, SessionStores.Backing backing) {
        return start(kind, STORES.create(backing, settings(), ticker, null));
    }

    private TestContainer start(TestContainer.Kind kind, SessionStore backing) {
        real = backing;
        store = new FaultySessionStore(real);
        container = TestContainer.start(kind, ctx -> {
            var u = ctx.addFilter("untrusted", SessionFilter.builder(store).build());
            u.setAsyncSupported(true);
            u.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/u/*");
            var t = ctx.addFilter("trusted", SessionFilter.builder(store).trustedProxies("127.0.0.1", "::1").build());
            t.setAsyncSupported(true);
            t.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/t/*");
            var g = ctx.addFilter("on-get", SessionFilter.builder(store)
                    .saveMode(SessionFilter.SaveMode.ON_GET_ATTRIBUTE).build());
            g.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/g/*");
            var app = ctx.addServlet("app", new AppServlet());
            app.setAsyncSupported(true);
            app.addMapping("/u/app", "/t/app", "/g/app");
        });
        return container;
    }

    @AfterEach
    void stop() {
        try {
            if (container != null) {
                container.close();
            }
        } finally {
            STORES.closeStores();
        }
    }

    private URI u(String q) {
        return container.uri("/u/app?" + q);
    }

    private static String idOf(HttpResponse<String> r) {
        String body = r.body();
        assertTrue(body.startsWith("id="), body);
        int sp = body.indexOf(' ');
        return body.substring(3, sp < 0 ? body.length() : sp);
    }

    private static String cookie(String id) {
        return "LBSESSION=" + id;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void newSessionGetsAServerIdAndAStrictCookie(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        HttpResponse<String> r = Http.get(u("op=set&k=a&v=1"));
        assertEquals(200, r.statusCode());
        String id = idOf(r);
        assertTrue(SessionIds.isWellFormed(id), id);
        assertTrue(r.body().contains("new=true"), r.body());
        assertEquals(List.of("LBSESSION=" + id + "; Path=/; HttpOnly; SameSite=Lax"), Http.setCookies(r));
        HttpResponse<String> none = Http.get(u("op=none"));
        assertEquals("id=none", none.body());
        assertEquals(List.of(), Http.setCookies(none), "no session, no cookie");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void secureOnlyWhenHttpsIsForwardedByATrustedProxy(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        HttpResponse<String> untrusted = Http.get(u("op=set&k=a&v=1"), "X-Forwarded-Proto", "https");
        assertEquals(List.of("LBSESSION=" + idOf(untrusted) + "; Path=/; HttpOnly; SameSite=Lax"),
                Http.setCookies(untrusted));
        HttpResponse<String> trusted = Http.get(container.uri("/t/app?op=set&k=a&v=1"), "X-Forwarded-Proto", "https");
        assertEquals(List.of("LBSESSION=" + idOf(trusted) + "; Path=/; Secure; HttpOnly; SameSite=Lax"),
                Http.setCookies(trusted));
        HttpResponse<String> plain = Http.get(container.uri("/t/app?op=set&k=a&v=1"), "X-Forwarded-Proto", "http");
        assertFalse(Http.setCookies(plain).get(0).contains("Secure"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void attributesPersistAcrossRequests(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String id = idOf(Http.get(u("op=set&k=a&v=1")));
        HttpResponse<String> second = Http.get(u("op=set&k=b&v=2"), "Cookie", cookie(id));
        assertEquals("id=" + id + " new=false attrs={a=1, b=2}", second.body());
        assertEquals(List.of(), Http.setCookies(second), "an existing session sends no cookie again");
        HttpResponse<String> removed = Http.get(u("op=remove&k=a"), "Cookie", cookie(id));
        assertEquals("id=" + id + " new=false attrs={b=2}", removed.body());
        assertEquals("id=" + id + " new=false attrs={b=2}", Http.get(u("op=get"), "Cookie", cookie(id)).body());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void invalidateDeletesTheSessionAndTheCookie(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String id = idOf(Http.get(u("op=set&k=a&v=1")));
        HttpResponse<String> inv = Http.get(u("op=invalidate"), "Cookie", cookie(id));
        assertEquals("id=none", inv.body());
        assertEquals(List.of("LBSESSION=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"),
                Http.setCookies(inv));
        assertEquals("id=none", Http.get(u("op=get"), "Cookie", cookie(id)).body());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void changeSessionIdRotatesAndTheOldIdStopsWorking(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String id = idOf(Http.get(u("op=set&k=a&v=1")));
        HttpResponse<String> rot = Http.get(u("op=rotate&k=login"), "Cookie", cookie(id));
        String newId = idOf(rot);
        assertNotEquals(id, newId);
        assertTrue(SessionIds.isWellFormed(newId));
        assertEquals(List.of("LBSESSION=" + newId + "; Path=/; HttpOnly; SameSite=Lax"), Http.setCookies(rot));
        assertEquals("id=none", Http.get(u("op=get"), "Cookie", cookie(id)).body());
        assertEquals("id=" + newId + " new=false attrs={a=1, login=yes}",
                Http.get(u("op=get"), "Cookie", cookie(newId)).body());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void forgedUnknownMalformedOrOversizedIdsNeverBecomeTheSessionId(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String unknown = SessionIds.generate();
        List<String> forged = List.of(unknown, "attacker-chosen", "x".repeat(4000), "../../etc/passwd",
                unknown.substring(0, 31) + "!", "");
        int loadsBefore = store.loads.get();
        for (String f : forged) {
            HttpResponse<String> r = Http.get(u("op=set&k=a&v=1"), "Cookie", "LBSESSION=" + f);
            assertEquals(200, r.statusCode(), f);
            String id = idOf(r);
            assertNotEquals(f, id);
            assertTrue(SessionIds.isWellFormed(id));
            assertEquals(id, Http.cookieValue(r, "LBSESSION"));
            assertTrue(r.body().contains("new=true"));
        }
        assertEquals(loadsBefore + 1, store.loads.get(), "only the well-formed unknown id reached the store");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void sessionIdHeaderOnlyFromATrustedPeer(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String id = idOf(Http.get(u("op=set&k=a&v=1")));
        assertEquals("id=none", Http.get(u("op=get"), "X-Session-ID", id).body(), "untrusted peer: header ignored");
        assertEquals("id=" + id + " new=false attrs={a=1}",
                Http.get(container.uri("/t/app?op=get"), "X-Session-ID", id).body(), "trusted peer: header honoured");
        HttpResponse<String> forged = Http.get(container.uri("/t/app?op=set&k=b&v=2"), "X-Session-ID", SessionIds.generate());
        assertTrue(forged.body().contains("new=true"), "unknown id from a trusted proxy is still not adopted");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void concurrentRequestsSettingDifferentAttributesAllPersist(TestContainer.Kind kind, SessionStores.Backing backing) throws Exception {
        start(kind, backing);
        String id = idOf(Http.get(u("op=set&k=start&v=0")));
        int threads = 4;
        int perThread = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tt = t;
                fs.add(pool.submit(() -> {
                    go.await();
                    int ok = 0;
                    for (int i = 0; i < perThread; i++) {
                        if (Http.get(u("op=set&k=t" + tt + "_" + i + "&v=" + i), "Cookie", cookie(id)).statusCode() == 200) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            go.countDown();
            for (Future<Integer> f : fs) {
                assertEquals(perThread, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        String body = Http.get(u("op=get"), "Cookie", cookie(id)).body();
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                assertTrue(body.contains("t" + t + "_" + i + "=" + i), "missing t" + t + "_" + i + " in " + body);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void asyncRequestChangesAreSavedWhenTheAsyncContextCompletes(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String id = idOf(Http.get(u("op=set&k=a&v=1")));
        HttpResponse<String> r = Http.get(u("op=async&k=b&v=2"), "Cookie", cookie(id));
        assertEquals(200, r.statusCode());
        assertEquals("id=" + id + " new=false attrs={a=1, b=2}", r.body());
        assertEquals("id=" + id + " new=false attrs={a=1, b=2}", Http.get(u("op=get"), "Cookie", cookie(id)).body());
        // a new session created in an async request
        HttpResponse<String> fresh = Http.get(u("op=async&k=c&v=3"));
        String freshId = Http.cookieValue(fresh, "LBSESSION");
        assertNotNull(freshId);
        assertEquals("id=" + freshId + " new=false attrs={c=3}", Http.get(u("op=get"), "Cookie", cookie(freshId)).body());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void changesAreSavedBeforeAStreamedResponseCommits(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        HttpResponse<String> r = Http.get(u("op=big&k=a&v=1"));
        assertEquals(200, r.statusCode());
        assertEquals(256 * 1024, r.body().length());
        String id = Http.cookieValue(r, "LBSESSION");
        assertNotNull(id, "cookie set before the body was flushed");
        assertEquals("id=" + id + " new=false attrs={a=1}", Http.get(u("op=get"), "Cookie", cookie(id)).body());
    }

    /**
     * setMaxInactiveInterval(0) means the store's default (docs/backend.md): after an early save
     * (flush) getMaxInactiveInterval says the default (not 0), and the session lives on (a zero
     * interval sent to Redis would end it).
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void zeroIntervalMeansTheDefaultAlsoAfterAnEarlySave(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        HttpResponse<String> r = Http.get(u("op=interval0&k=a&v=1"));
        String id = Http.cookieValue(r, "LBSESSION");
        assertNotNull(id);
        String next = Http.get(u("op=get"), "Cookie", cookie(id)).body();
        assertEquals("interval=" + IDLE.getSeconds() + " | id=" + id + " new=false attrs={a=1}", r.body() + " | " + next);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void expiredSessionMidFlowStartsANewOne(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String id = idOf(Http.get(u("op=set&k=a&v=1")));
        if (backing == SessionStores.Backing.MEMORY) {
            ticker.advance(Duration.ofMinutes(29));
        }
        assertEquals("id=" + id + " new=false attrs={a=1}", Http.get(u("op=get"), "Cookie", cookie(id)).body());
        STORES.expire(real, ticker, IDLE, id);
        assertEquals("id=none", Http.get(u("op=get"), "Cookie", cookie(id)).body());
        HttpResponse<String> again = Http.get(u("op=set&k=b&v=2"), "Cookie", cookie(id));
        String newId = idOf(again);
        assertNotEquals(id, newId);
        assertEquals("id=" + newId + " new=true attrs={b=2}", again.body());
        assertEquals(newId, Http.cookieValue(again, "LBSESSION"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void storeDownAnswers503AndOversizedSession413(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String id = idOf(Http.get(u("op=set&k=a&v=1")));
        store.down.set(true);
        HttpResponse<String> down = Http.get(u("op=get"), "Cookie", cookie(id));
        assertEquals(503, down.statusCode());
        assertEquals("1", down.headers().firstValue("Retry-After").orElse(null));
        assertEquals("session store unavailable\n", down.body());
        assertEquals("id=none", Http.get(u("op=none")).body(), "requests without a session still work");
        store.down.set(false);
        HttpResponse<String> big = Http.get(u("op=set&k=big&v=" + "x".repeat(5000)), "Cookie", cookie(id));
        assertEquals(413, big.statusCode());
        assertEquals("session too large\n", big.body());
        assertEquals("id=" + id + " new=false attrs={a=1}", Http.get(u("op=get"), "Cookie", cookie(id)).body(),
                "nothing written");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void inPlaceMutationIsSavedOnlyInOnGetAttributeMode(TestContainer.Kind kind, SessionStores.Backing backing) {
        start(kind, backing);
        String id = idOf(Http.get(u("op=append&k=list&v=a")));
        Http.get(u("op=append&k=list&v=b"), "Cookie", cookie(id));
        assertEquals("id=" + id + " new=false attrs={list=[a]}", Http.get(u("op=get"), "Cookie", cookie(id)).body(),
                "ON_SET_ATTRIBUTE: mutation without setAttribute is not saved");
        URI g = container.uri("/g/app?op=append&k=list&v=c");
        Http.get(g, "Cookie", cookie(id));
        Http.get(g, "Cookie", cookie(id));
        assertEquals("id=" + id + " new=false attrs={list=[a, c, c]}", Http.get(u("op=get"), "Cookie", cookie(id)).body());
        long version = store.load(id).orElseThrow().version();
        Http.get(container.uri("/g/app?op=get"), "Cookie", cookie(id));
        assertEquals(version, store.load(id).orElseThrow().version(), "an unchanged read value is not written back");
    }

    /**
     * A value stored before the codec refused such values (here an unpaired surrogate, written by
     * an older version) still reads, and a request that reads it in ON_GET_ATTRIBUTE mode does not
     * fail when its end compares the value: it is left as stored.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource(CASES)
    void aStoredValueTheCodecNowRefusesIsLeftAsStored(TestContainer.Kind kind, SessionStores.Backing backing)
            throws Exception {
        start(kind, backing);
        String id = real.create(Map.of("list", new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("[\"x\\ud800\"]"), "n", com.fasterxml.jackson.databind.node.IntNode.valueOf(1))).id();
        long version = store.load(id).orElseThrow().version();
        for (String op : new String[] {"op=get", "op=append&k=list&v=c"}) {
            HttpResponse<String> r = Http.get(container.uri("/g/app?" + op), "Cookie", cookie(id));
            assertEquals(200, r.statusCode(), op + ": " + r.body());
            assertTrue(r.body().startsWith("id=" + id), r.body());
        }
        assertEquals(version, store.load(id).orElseThrow().version(), "left as stored");
        assertEquals("x\uD800", store.load(id).orElseThrow().attribute("list").get(0).textValue());
    }

    /** Not a test fault: the redis-server process is killed, then started again on its data. */
    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void redisKilledAnswers503ThenTheSessionIsBackAfterRestart(TestContainer.Kind kind) {
        try (RedisServers.ProcessServer redis = RedisServers.process();
             RedisSessionStore rs = RedisSessionStore.builder().uri(redis.url()).settings(settings())
                     .commandTimeout(Duration.ofMillis(500)).connectTimeout(Duration.ofMillis(500))
                     .retryAttempts(1).retryDelay(Duration.ofMillis(100)).build()) {
            start(kind, rs);
            String id = idOf(Http.get(u("op=set&k=a&v=1")));
            redis.kill();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> down = Http.get(u("op=set&k=b&v=" + i), "Cookie", cookie(id));
                assertEquals(503, down.statusCode(), down.body());
                assertEquals("1", down.headers().firstValue("Retry-After").orElse(null));
                assertEquals("session store unavailable\n", down.body());
            }
            assertEquals("id=none", Http.get(u("op=none")).body(), "requests without a session still work");
            redis.start();
            String expected = "id=" + id + " new=false attrs={a=1}";
            assertTrue(RedisServers.await(30_000, () -> expected.equals(Http.get(u("op=get"), "Cookie", cookie(id)).body())),
                    "the session is served again after Redis restarts");
            long ttl = Long.parseLong(redis.cli("PTTL", rs.keyOf(id)));
            assertTrue(ttl > 0 && ttl <= IDLE.toMillis(), "the session still has its idle TTL: " + ttl);
            HttpResponse<String> after = Http.get(u("op=set&k=c&v=3"), "Cookie", cookie(id));
            assertEquals("id=" + id + " new=false attrs={a=1, c=3}", after.body());
        }
    }
}
