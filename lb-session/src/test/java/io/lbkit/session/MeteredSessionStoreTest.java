package io.lbkit.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every call to the wrapped in-memory store counted once, under its operation and outcome. */
class MeteredSessionStoreTest {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private long count(String operation, String outcome) {
        Timer t = registry.find(MeteredSessionStore.CALLS).tags("store", "memory", "operation", operation,
                "outcome", outcome).timer();
        return t == null ? -1 : t.count();
    }

    @Test
    void countsEachCallByOperationAndOutcome() throws Exception {
        SessionStore store = MeteredSessionStore.of(InMemorySessionStore.builder()
                .settings(SessionSettings.builder().maxAttributes(2).build()).build(), registry);
        Session s = store.create(Map.of("a", F.numberNode(1)));
        assertTrue(store.load(s.id()).isPresent());
        assertTrue(store.load("no-such-session").isEmpty());
        store.save(s.id(), SessionChanges.builder().set("b", F.numberNode(2)).build());
        assertThrows(VersionConflictException.class,
                () -> store.save(s.id(), SessionChanges.builder().set("b", F.numberNode(3)).expectedVersion(99).build()));
        assertThrows(SessionLimitException.class, () -> store.save(s.id(),
                SessionChanges.builder().set("c", F.numberNode(3)).build()));
        assertTrue(store.update(s.id(), SessionChanges.builder().set("a", F.numberNode(5)).build()).isPresent());
        String moved = store.changeId(s.id()).orElseThrow().id();
        assertTrue(store.loadAsync(moved).toCompletableFuture().get(5, TimeUnit.SECONDS).isPresent());
        assertTrue(store.deleteAsync(moved).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertTrue(!store.delete(moved));

        assertEquals(1, count("create", "ok"));
        assertEquals(2, count("load", "ok"), "one synchronous, one asynchronous");
        assertEquals(1, count("load", "missing"));
        assertEquals(1, count("save", "ok"));
        assertEquals(1, count("save", "conflict"));
        assertEquals(1, count("save", "too_large"));
        assertEquals(1, count("update", "ok"));
        assertEquals(1, count("change_id", "ok"));
        assertEquals(1, count("delete", "ok"));
        assertEquals(1, count("delete", "missing"));
        assertEquals(0, count("load", "error"), "every timer exists from the start, at zero");
        long total = registry.find(MeteredSessionStore.CALLS).timers().stream().mapToLong(Timer::count).sum();
        assertEquals(11, total, "each of the 11 calls counted once");
    }

    @Test
    void wrappingTwiceCountsOnceAndTheNameIsChecked() {
        InMemorySessionStore memory = InMemorySessionStore.builder().build();
        MeteredSessionStore once = MeteredSessionStore.of(memory, registry);
        MeteredSessionStore twice = MeteredSessionStore.of(once, registry);
        assertSame(memory, twice.delegate());
        twice.create(Map.of());
        assertEquals(1, count("create", "ok"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MeteredSessionStore.of(memory, registry, " "));
        assertEquals("name must not be blank, got ' '", e.getMessage());
    }
}
