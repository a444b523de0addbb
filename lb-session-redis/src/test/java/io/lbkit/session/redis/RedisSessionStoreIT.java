package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionEvent;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionJson;
import io.lbkit.session.SessionLimitException;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import io.lbkit.session.VersionConflictException;
import io.lbkit.testing.RedisServers;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every store operation against a real redis-server. One class (about 700 lines) so that all of
 * them share one server started once; the async methods ({@link RedisSessionStoreAsyncIT}),
 * failures ({@link RedisFailureIT}) and topologies ({@link RedisSentinelIT}, {@link RedisClusterIT})
 * have their own.
 */
class RedisSessionStoreIT {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static RedisServers.Server redis;
    private final List<RedisSessionStore> stores = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisServers.standalone();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void closeStores() {
        stores.forEach(RedisSessionStore::close);
    }

    private RedisSessionStore store(boolean nearCache) {
        return store(nearCache, SessionSettings.defaults());
    }

    private RedisSessionStore store(boolean nearCache, SessionSettings settings) {
        RedisSessionStore s = RedisSessionStore.builder().uri(redis.url()).settings(settings)
                .nearCache(nearCache).build();
        stores.add(s);
        return s;
    }

    private long pttl(RedisSessionStore store, String id) {
        return Long.parseLong(redis.cli("PTTL", store.keyOf(id)));
    }

    @Test
    void createLoadSaveDeleteRoundTrip() {
        RedisSessionStore store = store(false);
        Session s = store.create(Map.of("user", F.textNode("ann"), "n", F.numberNode(1)));
        assertTrue(SessionIds.isWellFormed(s.id()));
        assertEquals(1, s.version());
        assertEquals(Duration.ofHours(24), s.maxInactiveInterval());
        long ttl = pttl(store, s.id());
        assertTrue(ttl > 0 && ttl <= Duration.ofHours(24).toMillis(), "PTTL after create: " + ttl);

        Session loaded = store.load(s.id()).orElseThrow();
        assertEquals(s.attributes(), loaded.attributes());
        assertEquals(s.creationTime(), loaded.creationTime());
        assertTrue(pttl(store, s.id()) > 0);

        Session saved = store.save(s.id(), SessionChanges.builder()
                .set("cart", F.arrayNode().add(1).add(2)).remove("n").build()).orElseThrow();
        assertEquals(2, saved.version());
        assertEquals(Map.of("user", F.textNode("ann"), "cart", F.arrayNode().add(1).add(2)), saved.attributes());
        assertTrue(pttl(store, s.id()) > 0);

        Session slid = store.save(s.id(), SessionChanges.none()).orElseThrow();
        assertEquals(2, slid.version(), "a save without attribute changes keeps the version");

        Session shorter = store.save(s.id(), SessionChanges.builder()
                .maxInactiveInterval(Duration.ofMinutes(5)).build()).orElseThrow();
        assertEquals(Duration.ofMinutes(5), shorter.maxInactiveInterval());
        long t = pttl(store, s.id());
        assertTrue(t > 0 && t <= Duration.ofMinutes(5).toMillis(), "PTTL follows maxInactiveInterval: " + t);

        assertTrue(store.delete(s.id()));
        assertFalse(store.delete(s.id()));
        assertEquals(Optional.empty(), store.load(s.id()));
        assertEquals("0", redis.cli("EXISTS", store.keyOf(s.id())));
    }

    @Test
    void bigNumbersAndNestedJsonStayExact() {
        RedisSessionStore store = store(false);
        BigInteger big = new BigInteger("123456789012345678901234567890");
        ObjectNode o = F.objectNode();
        o.put("big", big);
        o.put("dec", new java.math.BigDecimal("0.1000000000000000055511151231257827"));
        o.putObject("nested").put("s", "ü\"\\\n");
        Session s = store.create(Map.of("o", o));
        JsonNode back = store.load(s.id()).orElseThrow().attribute("o");
        assertEquals(big, back.get("big").bigIntegerValue());
        assertEquals("0.1000000000000000055511151231257827", back.get("dec").decimalValue().toPlainString());
        assertEquals("ü\"\\\n", back.get("nested").get("s").asText());

        // merge keeps them exact too (no cjson)
        ObjectNode patch = F.objectNode();
        patch.put("more", new BigInteger("98765432109876543210987654321"));
        Session merged = store.save(s.id(), SessionChanges.builder().merge("o", patch).build()).orElseThrow();
        assertEquals(big, merged.attribute("o").get("big").bigIntegerValue());
        assertEquals(new BigInteger("98765432109876543210987654321"),
                merged.attribute("o").get("more").bigIntegerValue());
    }

    @Test
    void mergePatchFollowsRfc7386() {
        RedisSessionStore store = store(true);
        ObjectNode prefs = F.objectNode();
        prefs.put("theme", "dark");
        prefs.put("lang", "en");
        Session s = store.create(Map.of("prefs", prefs));
        JsonNode patch = readJson("{\"prefs\":{\"lang\":null,\"size\":3},\"x\":5,\"gone\":null}");
        Session after = store.save(s.id(), SessionChanges.fromMergePatch(patch)).orElseThrow();
        assertEquals(readJson("{\"theme\":\"dark\",\"size\":3}"), after.attribute("prefs"));
        assertEquals(F.numberNode(5), after.attribute("x"));
        // merge into a missing attribute starts from {}
        Session m = store.save(s.id(), SessionChanges.builder()
                .merge("fresh", (ObjectNode) readJson("{\"a\":{\"b\":1,\"c\":null}}")).build()).orElseThrow();
        assertEquals(readJson("{\"a\":{\"b\":1}}"), m.attribute("fresh"));
        // without a near cache (probe round trip) gives the same result
        RedisSessionStore plain = store(false);
        Session p = plain.save(s.id(), SessionChanges.builder()
                .merge("fresh", (ObjectNode) readJson("{\"a\":{\"d\":2}}")).build()).orElseThrow();
        assertEquals(readJson("{\"a\":{\"b\":1,\"d\":2}}"), p.attribute("fresh"));
    }

    private long hgetallCalls() {
        for (String line : redis.cli("INFO", "commandstats").split("\n")) {
            if (line.startsWith("cmdstat_hgetall:")) {
                return Long.parseLong(line.substring(line.indexOf("calls=") + 6, line.indexOf(',')));
            }
        }
        return 0;
    }

    /** update: save's semantics, answering the version without reading the session back. */
    @Test
    void updateAppliesAChangeAndAnswersTheVersionWithoutReadingTheSessionBack() {
        RedisSessionStore store = store(false, SessionSettings.builder().maxAttributes(3).build());
        Session s = store.create(Map.of("a", F.numberNode(1), "b", readJson("{\"x\":1,\"y\":2}")));
        long before = hgetallCalls();
        OptionalLong v = store.update(s.id(), SessionChanges.builder().set("a", F.numberNode(5))
                .merge("b", (com.fasterxml.jackson.databind.node.ObjectNode) readJson("{\"y\":null,\"z\":3}")).build());
        assertEquals(OptionalLong.of(2), v);
        assertEquals(before, hgetallCalls(), "the save script did not read the hash back");
        assertEquals(OptionalLong.of(2), store.update(s.id(), SessionChanges.none()), "no attribute change keeps the version");
        Session loaded = store.load(s.id()).orElseThrow();
        assertEquals(Map.of("a", F.numberNode(5), "b", readJson("{\"x\":1,\"z\":3}")), loaded.attributes());
        assertEquals(2, loaded.version());
        assertEquals(loaded.attributes(), s.withChanges(SessionChanges.builder().set("a", F.numberNode(5))
                .merge("b", (com.fasterxml.jackson.databind.node.ObjectNode) readJson("{\"y\":null,\"z\":3}")).build(), 2)
                .attributes(), "withChanges applies the same change locally");
        assertThrows(VersionConflictException.class, () -> store.update(s.id(),
                SessionChanges.builder().set("a", F.numberNode(6)).expectedVersion(1).build()));
        assertThrows(SessionLimitException.class, () -> store.update(s.id(),
                SessionChanges.builder().set("c", F.numberNode(1)).set("d", F.numberNode(1)).build()));
        assertEquals(2, store.load(s.id()).orElseThrow().version(), "refused updates wrote nothing");
        store.update(s.id(), SessionChanges.builder().maxInactiveInterval(Duration.ofMinutes(5)).build());
        long t = pttl(store, s.id());
        assertTrue(t > 0 && t <= Duration.ofMinutes(5).toMillis(), "PTTL follows maxInactiveInterval: " + t);
        assertTrue(store.delete(s.id()));
        assertEquals(OptionalLong.empty(), store.update(s.id(), SessionChanges.builder().set("a", F.numberNode(7)).build()));
        assertEquals("0", redis.cli("EXISTS", store.keyOf(s.id())), "a late update does not resurrect the session");
        assertEquals(OptionalLong.empty(), store.update("not-an-id", SessionChanges.none()));
    }

    /** A retried save script (same token) with read-back off answers the version once applied. */
    @Test
    void aRetriedUpdateScriptIsIdempotent() {
        RedisSessionStore store = store(false);
        Session s = store.create(Map.of());
        String key = store.keyOf(s.id());
        SaveArgs args = new SaveArgs("tok-retry", OptionalLong.empty(), null, 100, 100_000, "ch", "", false,
                List.of(SaveArgs.FieldWrite.set(SessionHash.attributeField("x"), "1", SessionJson.nameSize("x"))));
        List<String> run = new ArrayList<>(List.of("EVAL", RedisScripts.SAVE, "1", key));
        for (Object a : args.argv()) {
            run.add((String) a);
        }
        String first = redis.cli(run.toArray(String[]::new)).trim();
        String again = redis.cli(run.toArray(String[]::new)).trim();
        assertEquals(first, again, "the retry answers the same version");
        assertTrue(first.endsWith("2"), first);
        assertEquals(2, store.load(s.id()).orElseThrow().version());
        assertEquals(Map.of("x", F.numberNode(1)), store.load(s.id()).orElseThrow().attributes());
    }

    /** Through a near cache, update reads back so the cached copy holds the server's state. */
    @Test
    void updateThroughANearCacheRefreshesTheCachedCopy() {
        RedisSessionStore near = store(true);
        RedisSessionStore other = store(false);
        Session s = near.create(Map.of("a", F.numberNode(1)));
        near.load(s.id());
        other.save(s.id(), SessionChanges.builder().set("b", F.numberNode(2)).build());
        assertTrue(RedisServers.await(10_000, () -> near.load(s.id()).orElseThrow().attribute("b") != null));
        assertEquals(OptionalLong.of(3), near.update(s.id(), SessionChanges.builder().set("a", F.numberNode(9)).build()));
        Session cached = near.load(s.id()).orElseThrow();
        assertEquals(Map.of("a", F.numberNode(9), "b", F.numberNode(2)), cached.attributes());
        assertEquals(3, cached.version());
    }

    /** What one of the threads of {@link #startTogether} does. */
    @FunctionalInterface
    private interface OnThread {
        void run(int thread) throws Exception;
    }

    /**
     * Runs {@code body} on {@code threads} threads released at once, and waits (at most 60 s
     * each) for all of them; the first failure fails the test.
     */
    private static void startTogether(int threads, OnThread body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    start.await();
                    body.run(thread);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentSavesOfDifferentAttributesAllPersist() throws Exception {
        RedisSessionStore a = store(false);
        RedisSessionStore b = store(true);
        Session s = a.create(Map.of());
        int threads = 4;
        int perThread = 25;
        startTogether(threads, thread -> {
            RedisSessionStore store = thread % 2 == 0 ? a : b;
            for (int i = 0; i < perThread; i++) {
                store.save(s.id(), SessionChanges.builder()
                        .set("t" + thread + "-" + i, F.numberNode(i)).build()).orElseThrow();
            }
        });
        Session after = a.load(s.id()).orElseThrow();
        assertEquals(threads * perThread, after.attributes().size());
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                assertEquals(F.numberNode(i), after.attribute("t" + t + "-" + i));
            }
        }
        assertEquals(1 + threads * perThread, after.version());
        assertTrue(pttl(a, s.id()) > 0);
    }

    @Test
    void concurrentSavesThroughOneNearCachedStoreLeaveItsCacheAtTheLatestVersion() throws Exception {
        // its own writes invalidate nothing in its cache: replies arriving out of order must not
        // leave an older copy cached (found by lb-servlet's SessionFilterIT on Redis + near cache)
        RedisSessionStore store = store(true);
        int threads = 4;
        int perThread = 3;
        for (int round = 0; round < 40; round++) {
            Session s = store.create(Map.of());
            startTogether(threads, thread -> {
                for (int i = 0; i < perThread; i++) {
                    store.save(s.id(), SessionChanges.builder()
                            .set("t" + thread + "-" + i, F.numberNode(i)).build()).orElseThrow();
                }
            });
            assertTrue(store.isNearCached(s.id()));
            Session cached = store.load(s.id()).orElseThrow();
            assertEquals(1 + threads * perThread, cached.version(), "round " + round);
            assertEquals(threads * perThread, cached.attributes().size(), "round " + round);
        }
    }

    @Test
    void concurrentMergesOfOneAttributeAllPersist() throws Exception {
        RedisSessionStore a = store(false);
        RedisSessionStore b = store(true);
        Session s = a.create(Map.of("m", F.objectNode()));
        int threads = 4;
        int perThread = 15;
        startTogether(threads, thread -> {
            RedisSessionStore store = thread % 2 == 0 ? a : b;
            for (int i = 0; i < perThread; i++) {
                ObjectNode patch = F.objectNode();
                patch.put("k" + thread + "-" + i, i);
                store.save(s.id(), SessionChanges.builder().merge("m", patch).build()).orElseThrow();
            }
        });
        JsonNode m = a.load(s.id()).orElseThrow().attribute("m");
        assertEquals(threads * perThread, m.size());
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                assertEquals(i, m.get("k" + t + "-" + i).asInt());
            }
        }
    }

    @Test
    void compareAndSetConflictWritesNothing() {
        RedisSessionStore store = store(false);
        Session s = store.create(Map.of("a", F.numberNode(1)));
        Session v2 = store.save(s.id(), SessionChanges.builder().set("a", F.numberNode(2))
                .expectedVersion(1).build()).orElseThrow();
        assertEquals(2, v2.version());
        VersionConflictException e = assertThrows(VersionConflictException.class, () -> store.save(s.id(),
                SessionChanges.builder().set("a", F.numberNode(3)).expectedVersion(1).build()));
        assertEquals(1, e.expected());
        assertEquals(2, e.actual());
        assertEquals(F.numberNode(2), store.load(s.id()).orElseThrow().attribute("a"));
    }

    @Test
    void deletedSessionIsNotResurrectedByALateSave() {
        RedisSessionStore store = store(true);
        Session s = store.create(Map.of("a", F.numberNode(1)));
        assertTrue(store.delete(s.id()));
        assertEquals(Optional.empty(), store.save(s.id(), SessionChanges.builder().set("b", F.numberNode(2)).build()));
        assertEquals("0", redis.cli("EXISTS", store.keyOf(s.id())));
        // a key holding only attribute fields (half-written by someone else) is not "a session" either
        redis.cli("HSET", store.keyOf(s.id()), "a:x", "1");
        assertEquals(Optional.empty(), store.save(s.id(), SessionChanges.builder().set("b", F.numberNode(2)).build()));
        assertEquals("0", redis.cli("HEXISTS", store.keyOf(s.id()), "a:b"));
        redis.cli("DEL", store.keyOf(s.id()));
    }

    /** The event channel costs every save a delivery per subscriber: only stores that use it subscribe. */
    @Test
    void onlyAStoreWithANearCacheOrAListenerSubscribesToTheChannel() {
        String prefix = "subs-test:";
        RedisSessionStore plain = RedisSessionStore.builder().uri(redis.url()).keyPrefix(prefix).build();
        stores.add(plain);
        String channel = plain.channel();
        plain.create(Map.of("a", F.numberNode(1)));
        assertEquals(List.of(channel, "0"), List.of(redis.cli("PUBSUB", "NUMSUB", channel).split("\\s+")));
        List<SessionEvent> seen = new CopyOnWriteArrayList<>();
        plain.addListener(seen::add);
        assertEquals(List.of(channel, "1"), List.of(redis.cli("PUBSUB", "NUMSUB", channel).split("\\s+")));
        plain.addListener(e -> { });
        assertEquals(List.of(channel, "1"), List.of(redis.cli("PUBSUB", "NUMSUB", channel).split("\\s+")),
                "one subscription per store");
        RedisSessionStore near = RedisSessionStore.builder().uri(redis.url()).keyPrefix(prefix).nearCache(true).build();
        stores.add(near);
        assertEquals(List.of(channel, "2"), List.of(redis.cli("PUBSUB", "NUMSUB", channel).split("\\s+")));
        // the listener of the plain store hears the other instance
        Session s = near.create(Map.of("b", F.numberNode(2)));
        assertTrue(RedisServers.await(10_000, () -> seen.contains(new SessionEvent(SessionEvent.Type.CREATED, s.id(), null))));
    }

    @Test
    void changeIdMovesTheSessionAndTheOldIdIsGoneEverywhere() {
        RedisSessionStore a = store(true);
        RedisSessionStore b = store(true);
        Session s = a.create(Map.of("user", F.textNode("ann")));
        // both instances have it near-cached
        assertTrue(RedisServers.await(10_000, () -> b.load(s.id()).isPresent() && b.isNearCached(s.id())));
        List<SessionEvent> seenByB = new CopyOnWriteArrayList<>();
        b.addListener(seenByB::add);

        Session moved = a.changeId(s.id()).orElseThrow();
        assertNotEquals(s.id(), moved.id());
        assertEquals(s.attributes(), moved.attributes());
        assertEquals(s.creationTime(), moved.creationTime());
        assertEquals(Optional.empty(), a.load(s.id()));
        assertEquals("0", redis.cli("EXISTS", a.keyOf(s.id())));
        assertTrue(pttl(a, moved.id()) > 0);
        assertTrue(RedisServers.await(10_000, () -> !b.isNearCached(s.id())), "b's near cache dropped the old id");
        assertEquals(Optional.empty(), b.load(s.id()));
        assertEquals(s.attributes(), b.load(moved.id()).orElseThrow().attributes());
        assertTrue(RedisServers.await(10_000, () -> seenByB.contains(
                new SessionEvent(SessionEvent.Type.ROTATED, moved.id(), s.id()))));
        assertEquals(Optional.empty(), a.changeId(s.id()));
    }

    @Test
    void nearCacheStaysCoherentAcrossInstances() {
        RedisSessionStore a = store(true);
        RedisSessionStore b = store(true);
        Session s = a.create(Map.of("n", F.numberNode(0)));
        for (int i = 1; i <= 20; i++) {
            int expect = i - 1;
            assertTrue(RedisServers.await(10_000, () ->
                    b.load(s.id()).orElseThrow().attribute("n").asInt() == expect));
            RedisSessionStore writer = i % 2 == 0 ? a : b;
            writer.save(s.id(), SessionChanges.builder().set("n", F.numberNode(i)).build()).orElseThrow();
            int now = i;
            assertTrue(RedisServers.await(10_000, () -> a.load(s.id()).orElseThrow().attribute("n").asInt() == now
                    && b.load(s.id()).orElseThrow().attribute("n").asInt() == now), "both see " + now);
        }
        assertTrue(a.isNearCached(s.id()) || b.isNearCached(s.id()));
        b.delete(s.id());
        assertTrue(RedisServers.await(10_000, () -> a.load(s.id()).isEmpty()));
    }

    @Test
    void eventsReachListenersOfThisAndOtherInstances() {
        RedisSessionStore a = store(false);
        RedisSessionStore b = store(true);
        List<SessionEvent> seenA = new CopyOnWriteArrayList<>();
        List<SessionEvent> seenB = new CopyOnWriteArrayList<>();
        a.addListener(seenA::add);
        SessionStore.Registration rb = b.addListener(seenB::add);
        Session s = a.create(Map.of());
        a.save(s.id(), SessionChanges.builder().set("x", F.numberNode(1)).build());
        a.delete(s.id());
        List<SessionEvent> expected = List.of(new SessionEvent(SessionEvent.Type.CREATED, s.id(), null),
                new SessionEvent(SessionEvent.Type.UPDATED, s.id(), null),
                new SessionEvent(SessionEvent.Type.DELETED, s.id(), null));
        assertEquals(expected, seenA);
        assertTrue(RedisServers.await(10_000, () -> seenB.size() == 3));
        assertEquals(expected, seenB);
        rb.remove();
        a.create(Map.of());
        assertTrue(RedisServers.await(10_000, () -> seenA.size() == 4));
        assertEquals(3, seenB.size());
    }

    @Test
    void undecodableDataIsNoSession() {
        RedisSessionStore store = store(false);
        Session s = store.create(Map.of("a", F.numberNode(1)));
        redis.cli("HSET", store.keyOf(s.id()), "a:bad", "{not json");
        assertEquals(Optional.empty(), store.load(s.id()));
        // missing metadata
        Session t = store.create(Map.of());
        redis.cli("HDEL", store.keyOf(t.id()), "#c");
        assertEquals(Optional.empty(), store.load(t.id()));
        // a non-number in metadata
        Session u = store.create(Map.of());
        redis.cli("HSET", store.keyOf(u.id()), "#v", "x");
        assertEquals(Optional.empty(), store.load(u.id()));
        // wrong type under the key
        String forged = SessionIds.generate();
        redis.cli("SET", store.keyOf(forged), "junk");
        assertThrows(SessionStoreException.class, () -> store.load(forged),
                "a foreign value of another type under our key is a server-side error, not a session");
        redis.cli("DEL", store.keyOf(forged));
    }

    @Test
    void malformedIdsAreEmptyWithoutARoundTrip() {
        RedisServers.requireBinary();
        RedisServers.ProcessServer own = RedisServers.process();
        RedisSessionStore store = RedisSessionStore.builder().uri(own.url()).build();
        try {
            own.kill(); // nothing answers: any round trip would fail
            List<String> bad = new ArrayList<>(List.of("", "short", "x".repeat(5000),
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA{}", "../../../../etc/passwd/AAAAAAAAAA", "ÄAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
            bad.add(null);
            for (String id : bad) {
                assertEquals(Optional.empty(), store.load(id), String.valueOf(id));
                assertEquals(Optional.empty(), store.save(id, SessionChanges.none()));
                assertEquals(Optional.empty(), store.changeId(id));
                assertFalse(store.delete(id));
            }
            // a well-formed id does need Redis, and says so
            assertThrows(SessionStoreException.class, () -> store.load(SessionIds.generate()));
        } finally {
            store.close();
            own.close();
        }
    }

    @Test
    void unknownWellFormedIdIsEmptyAndNeverCreated() {
        RedisSessionStore store = store(true);
        String id = SessionIds.generate();
        assertEquals(Optional.empty(), store.load(id));
        assertEquals(Optional.empty(), store.save(id, SessionChanges.builder().set("a", F.numberNode(1)).build()));
        assertEquals("0", redis.cli("EXISTS", store.keyOf(id)));
    }

    @Test
    void limitsRefuseAndWriteNothing() {
        RedisSessionStore store = store(true, SessionSettings.builder().maxAttributes(3).maxSessionBytes(100).build());
        assertThrows(SessionLimitException.class, () -> store.create(Map.of("a", F.numberNode(1),
                "b", F.numberNode(1), "c", F.numberNode(1), "d", F.numberNode(1))));
        Session s = store.create(Map.of("a", F.numberNode(1)));
        SessionLimitException count = assertThrows(SessionLimitException.class, () -> store.save(s.id(),
                SessionChanges.builder().set("b", F.numberNode(1)).set("c", F.numberNode(1))
                        .set("d", F.numberNode(1)).build()));
        assertTrue(count.getMessage().contains("maxAttributes=3"), count.getMessage());
        SessionLimitException bytes = assertThrows(SessionLimitException.class, () -> store.save(s.id(),
                SessionChanges.builder().set("b", F.textNode("x".repeat(100))).build()));
        assertTrue(bytes.getMessage().contains("maxSessionBytes=100"), bytes.getMessage());
        SessionLimitException merge = assertThrows(SessionLimitException.class, () -> store.save(s.id(),
                SessionChanges.builder().merge("m", (ObjectNode) readJson("{\"k\":\"" + "y".repeat(100) + "\"}")).build()));
        assertTrue(merge.getMessage().contains("maxSessionBytes"), merge.getMessage());
        Session after = store.load(s.id()).orElseThrow();
        assertEquals(Map.of("a", F.numberNode(1)), after.attributes());
        assertEquals(1, after.version());

        // exactly at the limit is fine, and the script's size agrees with SessionJson.size
        Map<String, JsonNode> attrs = new HashMap<>(after.attributes());
        String name = "q\"\\\u0001é😀";
        int room = 100 - SessionJson.size(Map.of("a", F.numberNode(1), name, F.textNode("")));
        attrs.put(name, F.textNode("z".repeat(room)));
        assertEquals(100, SessionJson.size(attrs));
        Session full = store.save(s.id(), SessionChanges.builder().set(name, F.textNode("z".repeat(room))).build())
                .orElseThrow();
        assertEquals(attrs, full.attributes());
        assertThrows(SessionLimitException.class, () -> store.save(s.id(),
                SessionChanges.builder().set(name, F.textNode("z".repeat(room + 1))).build()));
        // removing frees room
        store.save(s.id(), SessionChanges.builder().remove(name).build()).orElseThrow();
        store.save(s.id(), SessionChanges.builder().set("b", F.textNode("x".repeat(60))).build()).orElseThrow();
    }

    @Test
    void idleExpiryRemovesTheSessionAndFiresExpired() {
        RedisServers.requireBinary();
        try (RedisServers.ProcessServer own = RedisServers.process("--notify-keyspace-events", "Ex", "--hz", "50")) {
            RedisSessionStore store = RedisSessionStore.builder().uri(own.url()).nearCache(true)
                    .expiredEvents(true).settings(SessionSettings.builder().idleTimeout(Duration.ofSeconds(1)).build())
                    .build();
            stores.add(store);
            List<SessionEvent> events = new CopyOnWriteArrayList<>();
            store.addListener(events::add);
            Session s = store.create(Map.of("a", F.numberNode(1)));
            long ttl = Long.parseLong(own.cli("PTTL", store.keyOf(s.id())));
            assertTrue(ttl > 0 && ttl <= 1000, "PTTL " + ttl);
            assertTrue(RedisServers.await(15_000, () -> events.contains(
                    new SessionEvent(SessionEvent.Type.EXPIRED, s.id(), null))), "EXPIRED event");
            assertEquals(Optional.empty(), store.load(s.id()));
        }
    }

    @Test
    void configureKeyspaceNotificationsIsAnExplicitOptIn() {
        RedisServers.requireBinary();
        try (RedisServers.ProcessServer own = RedisServers.process()) {
            RedisSessionStore plain = RedisSessionStore.builder().uri(own.url()).expiredEvents(true).build();
            stores.add(plain);
            assertEquals("", configValue(own, "notify-keyspace-events"));
            RedisSessionStore opted = RedisSessionStore.builder().uri(own.url()).expiredEvents(true)
                    .configureKeyspaceNotifications(true)
                    .settings(SessionSettings.builder().idleTimeout(Duration.ofSeconds(1)).build()).build();
            stores.add(opted);
            String flags = configValue(own, "notify-keyspace-events");
            assertTrue(flags.contains("E") && flags.contains("x"), flags);
            List<SessionEvent> events = new CopyOnWriteArrayList<>();
            plain.addListener(events::add);
            Session s = opted.create(Map.of());
            assertTrue(RedisServers.await(15_000, () -> events.contains(
                    new SessionEvent(SessionEvent.Type.EXPIRED, s.id(), null))));
        }
    }

    /**
     * A load is a plain HGETALL; it slides the session (access time and TTL, by the touch script)
     * once the last access is a tenth of the idle timeout old.
     */
    @Test
    void loadSlidesTheSessionOnceItsLastAccessIsATenthOfTheIdleTimeoutOld() {
        RedisSessionStore store = store(false);
        Session s = store.create(Map.of("a", F.numberNode(1)));
        String key = store.keyOf(s.id());
        long old = System.currentTimeMillis() - Duration.ofHours(3).toMillis(); // idle 24 h: due after 2.4 h
        redis.cli("HSET", key, "#a", Long.toString(old));
        redis.cli("PEXPIRE", key, Long.toString(Duration.ofHours(21).toMillis()));
        Session loaded = store.load(s.id()).orElseThrow();
        assertEquals(old, loaded.lastAccessedTime().toEpochMilli(), "the load answers what it read");
        assertTrue(RedisServers.await(10_000, () -> Long.parseLong(redis.cli("HGET", key, "#a")) > old),
                "the touch moved the access time");
        assertTrue(pttl(store, s.id()) > Duration.ofHours(23).toMillis(), "the touch slid the TTL back to 24 h");
    }

    @Test
    void absoluteLifetimeCapsTheTtl() {
        RedisSessionStore store = store(true, SessionSettings.builder().absoluteTimeout(Duration.ofSeconds(1)).build());
        Session s = store.create(Map.of());
        long ttl = pttl(store, s.id());
        assertTrue(ttl > 0 && ttl <= 1000, "TTL = min(idle, absolute remaining): " + ttl);
        store.save(s.id(), SessionChanges.builder().set("a", F.numberNode(1)).build());
        long after = pttl(store, s.id());
        assertTrue(after <= 1000, "a save does not extend past the absolute expiry: " + after);
        assertTrue(RedisServers.await(15_000, () -> store.load(s.id()).isEmpty()));
        assertEquals(Optional.empty(), store.save(s.id(), SessionChanges.builder().set("b", F.numberNode(1)).build()));
        assertEquals("0", redis.cli("EXISTS", store.keyOf(s.id())));
    }

    @Test
    void zeroMaxInactiveIntervalEndsTheSession() {
        RedisSessionStore store = store(false);
        Session s = store.create(Map.of());
        assertEquals(Optional.empty(), store.save(s.id(), SessionChanges.builder()
                .maxInactiveInterval(Duration.ZERO).build()));
        assertEquals("0", redis.cli("EXISTS", store.keyOf(s.id())));
    }

    @Test
    void keyPrefixNamespacesKeysAndEvents() {
        RedisSessionStore x = RedisSessionStore.builder().uri(redis.url()).keyPrefix("app1:sess:").build();
        RedisSessionStore y = RedisSessionStore.builder().uri(redis.url()).keyPrefix("app2:sess:").build();
        stores.add(x);
        stores.add(y);
        Session s = x.create(Map.of());
        assertEquals("app1:sess:{" + s.id() + "}", x.keyOf(s.id()));
        assertEquals("1", redis.cli("EXISTS", "app1:sess:{" + s.id() + "}"));
        assertEquals(Optional.empty(), y.load(s.id()));
        assertNotNull(x.load(s.id()).orElse(null));
        assertNull(y.changeId(s.id()).orElse(null));
    }

    @Test
    void clientPassedInIsNotClosedByTheStore() {
        org.redisson.api.RedissonClient client = ownClient();
        try {
            RedisSessionStore store = RedisSessionStore.builder().client(client).nearCache(true).build();
            Session s = store.create(Map.of("a", F.numberNode(1)));
            assertEquals(s.attributes(), store.load(s.id()).orElseThrow().attributes());
            store.close();
            assertFalse(client.isShutdown());
            assertThrows(IllegalStateException.class, () -> store.load(s.id()));
        } finally {
            client.shutdown();
        }
    }

    @Test
    void aListenerAddedWhileClosingLeavesNoSubscriptionOnASharedClient() {
        org.redisson.api.RedissonClient client = ownClient();
        try {
            RedisSessionStore store = RedisSessionStore.builder().client(client).keyPrefix("closing:").build();
            store.close();
            // where addListener stands when close() runs between its open check and its
            // subscription: the subscription must not happen on a client the store does not own
            assertThrows(IllegalStateException.class, () -> store.events().subscribe());
            assertEquals(List.of(store.channel(), "0"),
                    List.of(redis.cli("PUBSUB", "NUMSUB", store.channel()).split("\\s+")));
            assertThrows(IllegalStateException.class, () -> store.addListener(e -> { }));
            assertEquals(List.of(store.channel(), "0"),
                    List.of(redis.cli("PUBSUB", "NUMSUB", store.channel()).split("\\s+")));
        } finally {
            client.shutdown();
        }
    }

    /** A Redisson client of the test's own, to pass to a store (which must not shut it down). */
    private static org.redisson.api.RedissonClient ownClient() {
        org.redisson.config.Config config = new org.redisson.config.Config();
        config.useSingleServer().setAddress(redis.url());
        return org.redisson.Redisson.create(config);
    }

    private static String configValue(RedisServers.Server server, String name) {
        String[] lines = server.cli("CONFIG", "GET", name).split("\n");
        return lines.length > 1 ? lines[1].trim() : "";
    }

    static JsonNode readJson(String text) {
        return SessionJson.read(text);
    }
}
