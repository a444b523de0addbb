package io.lbkit.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class InMemorySessionStoreTest {

    private final TestTicker ticker = new TestTicker();
    private final List<SessionEvent> events = Collections.synchronizedList(new ArrayList<>());

    private InMemorySessionStore store(SessionSettings settings) {
        return InMemorySessionStore.builder().settings(settings).ticker(ticker)
                .wallClockOrigin(Instant.parse("2026-01-01T00:00:00Z"))
                .listener(events::add).build();
    }

    private InMemorySessionStore store() {
        return store(SessionSettings.builder().idleTimeout(Duration.ofMinutes(30)).build());
    }

    private static JsonNode json(String s) {
        try {
            return Attributes.MAPPER.readTree(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void createAssignsServerIdVersionOneAndTimestampsFromTicker() {
        InMemorySessionStore s = store();
        Session a = s.create(Map.of("user", TextNode.valueOf("ann")));
        assertTrue(SessionIds.isWellFormed(a.id()));
        assertEquals(1, a.version());
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), a.creationTime());
        assertEquals(Duration.ofMinutes(30), a.maxInactiveInterval());
        assertEquals("ann", s.load(a.id()).orElseThrow().attribute("user").textValue());
        assertNotEquals(a.id(), s.create(Map.of()).id());
    }

    @Test
    void idleExpirySlidesOnLoadAndSave() {
        InMemorySessionStore s = store();
        String id = s.create(Map.of()).id();
        ticker.advance(Duration.ofMinutes(29));
        Session loaded = s.load(id).orElseThrow();
        assertEquals(Instant.parse("2026-01-01T00:29:00Z"), loaded.lastAccessedTime());
        ticker.advance(Duration.ofMinutes(29));
        assertTrue(s.save(id, SessionChanges.none()).isPresent());
        ticker.advance(Duration.ofMinutes(29));
        assertTrue(s.load(id).isPresent());
        ticker.advance(Duration.ofMinutes(30));
        assertTrue(s.load(id).isEmpty(), "expired exactly at the idle timeout");
        assertTrue(s.save(id, SessionChanges.builder().set("a", IntNode.valueOf(1)).build()).isEmpty(),
                "an expired session is never resurrected by a save");
        assertTrue(s.load(id).isEmpty());
    }

    @Test
    void absoluteLifetimeEndsAnActiveSession() {
        InMemorySessionStore s = store(SessionSettings.builder().idleTimeout(Duration.ofMinutes(30))
                .absoluteTimeout(Duration.ofHours(1)).build());
        String id = s.create(Map.of()).id();
        for (int i = 0; i < 5; i++) {
            ticker.advance(Duration.ofMinutes(11));
            assertTrue(s.load(id).isPresent(), "still alive at " + (i + 1) * 11 + " min");
        }
        ticker.advance(Duration.ofMinutes(5)); // 60 min after creation
        assertTrue(s.load(id).isEmpty());
    }

    @Test
    void perSessionMaxInactiveIntervalAndZeroMeansDefault() {
        InMemorySessionStore s = store();
        String id = s.create(Map.of()).id();
        Session after = s.save(id, SessionChanges.builder().maxInactiveInterval(Duration.ofMinutes(2)).build())
                .orElseThrow();
        assertEquals(Duration.ofMinutes(2), after.maxInactiveInterval());
        assertEquals(1, after.version(), "interval change keeps the version");
        ticker.advance(Duration.ofMinutes(2));
        assertTrue(s.load(id).isEmpty());

        String id2 = s.create(Map.of()).id();
        assertEquals(Duration.ofMinutes(30), s.save(id2,
                SessionChanges.builder().maxInactiveInterval(Duration.ZERO).build()).orElseThrow().maxInactiveInterval());
    }

    @Test
    void versionIncrementsPerChangeAndCasChecksIt() {
        InMemorySessionStore s = store();
        String id = s.create(Map.of()).id();
        assertEquals(1, s.save(id, SessionChanges.none()).orElseThrow().version());
        assertEquals(2, s.save(id, SessionChanges.builder().set("a", IntNode.valueOf(1)).build()).orElseThrow().version());
        VersionConflictException e = assertThrows(VersionConflictException.class, () -> s.save(id,
                SessionChanges.builder().set("a", IntNode.valueOf(2)).expectedVersion(1).build()));
        assertEquals(1, e.expected());
        assertEquals(2, e.actual());
        assertEquals(1, s.load(id).orElseThrow().attribute("a").intValue(), "nothing written on conflict");
        Session ok = s.save(id, SessionChanges.builder().set("a", IntNode.valueOf(3)).expectedVersion(2).build())
                .orElseThrow();
        assertEquals(3, ok.version());
        assertEquals(3, ok.attribute("a").intValue());
    }

    @Test
    void setRemoveAndMergeApplyAtomically() {
        InMemorySessionStore s = store();
        String id = s.create(Map.of("cart", json("{\"items\":{\"a\":1,\"b\":2},\"owner\":\"x\"}"),
                "gone", TextNode.valueOf("x"))).id();
        Session after = s.save(id, SessionChanges.fromMergePatch(
                json("{\"cart\":{\"items\":{\"a\":null,\"c\":3}},\"gone\":null,\"n\":7}"))).orElseThrow();
        assertEquals(json("{\"items\":{\"b\":2,\"c\":3},\"owner\":\"x\"}"), after.attribute("cart"));
        assertFalse(after.attributes().containsKey("gone"));
        assertEquals(7, after.attribute("n").intValue());
        assertEquals(after.attributes(), s.load(id).orElseThrow().attributes());
    }

    @Test
    void limitsRejectWithoutWriting() {
        InMemorySessionStore s = store(SessionSettings.builder().maxAttributes(2).maxSessionBytes(64).build());
        assertThrows(SessionLimitException.class, () -> s.create(Map.of("a", IntNode.valueOf(1),
                "b", IntNode.valueOf(2), "c", IntNode.valueOf(3))));
        String id = s.create(Map.of("a", IntNode.valueOf(1))).id();
        SessionLimitException tooMany = assertThrows(SessionLimitException.class, () -> s.save(id,
                SessionChanges.builder().set("b", IntNode.valueOf(2)).set("c", IntNode.valueOf(3)).build()));
        assertTrue(tooMany.getMessage().contains("maxAttributes=2"), tooMany.getMessage());
        SessionLimitException tooBig = assertThrows(SessionLimitException.class, () -> s.save(id,
                SessionChanges.builder().set("b", TextNode.valueOf("x".repeat(100))).build()));
        assertTrue(tooBig.getMessage().contains("maxSessionBytes=64"), tooBig.getMessage());
        Session now = s.load(id).orElseThrow();
        assertEquals(Map.of("a", IntNode.valueOf(1)), now.attributes());
        assertEquals(1, now.version());
    }

    @Test
    void changeIdMovesEverythingAndOldIdStopsResolving() {
        InMemorySessionStore s = store();
        Session a = s.create(Map.of("k", TextNode.valueOf("v")));
        s.save(a.id(), SessionChanges.builder().set("k2", TextNode.valueOf("v2")).build());
        events.clear();
        Session moved = s.changeId(a.id()).orElseThrow();
        assertNotEquals(a.id(), moved.id());
        assertTrue(SessionIds.isWellFormed(moved.id()));
        assertEquals(2, moved.version());
        assertEquals(a.creationTime(), moved.creationTime());
        assertEquals("v2", moved.attribute("k2").textValue());
        assertTrue(s.load(a.id()).isEmpty());
        assertTrue(s.save(a.id(), SessionChanges.builder().set("x", IntNode.valueOf(1)).build()).isEmpty());
        assertTrue(s.load(a.id()).isEmpty(), "a save to the old id does not recreate it");
        assertEquals(List.of(new SessionEvent(SessionEvent.Type.ROTATED, moved.id(), a.id())), events);
        assertTrue(s.changeId(a.id()).isEmpty());
    }

    @Test
    void eventsForEveryKindIncludingExpiry() {
        InMemorySessionStore s = store();
        String a = s.create(Map.of()).id();
        s.save(a, SessionChanges.builder().set("x", IntNode.valueOf(1)).build());
        s.save(a, SessionChanges.none()); // no event: nothing changed
        assertTrue(s.delete(a));
        assertFalse(s.delete(a));
        String b = s.create(Map.of()).id();
        ticker.advance(Duration.ofMinutes(31));
        s.cleanUp();
        assertEquals(List.of(
                new SessionEvent(SessionEvent.Type.CREATED, a, null),
                new SessionEvent(SessionEvent.Type.UPDATED, a, null),
                new SessionEvent(SessionEvent.Type.DELETED, a, null),
                new SessionEvent(SessionEvent.Type.CREATED, b, null),
                new SessionEvent(SessionEvent.Type.EXPIRED, b, null)), events);
        assertTrue(s.load(b).isEmpty());
        assertEquals(5, events.size(), "expiry reported once");
    }

    @Test
    void expiryNoticedOnAccessFiresExpiredOnce() {
        InMemorySessionStore s = store();
        String a = s.create(Map.of()).id();
        events.clear();
        ticker.advance(Duration.ofHours(1));
        assertTrue(s.load(a).isEmpty());
        assertTrue(s.load(a).isEmpty());
        s.cleanUp();
        assertEquals(List.of(new SessionEvent(SessionEvent.Type.EXPIRED, a, null)), events);
    }

    @Test
    void listenerRegistrationCanBeRemovedAndAThrowingListenerIsContained() {
        InMemorySessionStore s = store();
        List<SessionEvent> mine = new ArrayList<>();
        SessionStore.Registration r = s.addListener(mine::add);
        s.addListener(e -> {
            throw new IllegalStateException("boom");
        });
        String id = s.create(Map.of()).id();
        r.remove();
        r.remove();
        s.delete(id);
        assertEquals(List.of(new SessionEvent(SessionEvent.Type.CREATED, id, null)), mine);
    }

    @Test
    void malformedIdsAreNoSession() {
        InMemorySessionStore s = store();
        s.create(Map.of());
        for (String bad : new String[] {null, "", "short", "x".repeat(33), "a".repeat(31) + "!",
                "../../../../etc/passwd/aaaaaaaaaa", "a".repeat(4096)}) {
            assertTrue(s.load(bad).isEmpty());
            assertTrue(s.save(bad, SessionChanges.none()).isEmpty());
            assertFalse(s.delete(bad));
            assertTrue(s.changeId(bad).isEmpty());
        }
        assertTrue(s.load(SessionIds.generate()).isEmpty(), "well-formed but unknown");
    }

    @Test
    void maximumSessionsBoundsTheStore() {
        InMemorySessionStore s = InMemorySessionStore.builder().ticker(ticker).maximumSessions(10).build();
        for (int i = 0; i < 100; i++) {
            s.create(Map.of());
        }
        s.cleanUp();
        assertTrue(s.estimatedSize() <= 10, "size " + s.estimatedSize());
        assertThrows(IllegalArgumentException.class, () -> InMemorySessionStore.builder().maximumSessions(0));
    }

    @Test
    void concurrentSavesOfDifferentAttributesAllPersist() throws Exception {
        InMemorySessionStore s = store(SessionSettings.builder().maxAttributes(1000).maxSessionBytes(1 << 20).build());
        String id = s.create(Map.of()).id();
        int threads = 4;
        int perThread = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tt = t;
                fs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        s.save(id, SessionChanges.builder().set("t" + tt + "-" + i, IntNode.valueOf(i)).build());
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        Session end = s.load(id).orElseThrow();
        assertEquals(threads * perThread, end.attributes().size());
        assertEquals(1 + threads * perThread, end.version());
    }
}
