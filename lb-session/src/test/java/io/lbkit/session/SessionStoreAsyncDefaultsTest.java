package io.lbkit.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The default async methods of {@link SessionStore}: same results as the blocking ones, failures in the stage. */
class SessionStoreAsyncDefaultsTest {

    @Test
    void asyncDefaultsDeliverTheBlockingResults() throws Exception {
        try (InMemorySessionStore store = InMemorySessionStore.builder().build()) {
            Session created = store.createAsync(Map.of("a", IntNode.valueOf(1))).toCompletableFuture().get();
            assertEquals(IntNode.valueOf(1), created.attribute("a"));

            Optional<Session> loaded = store.loadAsync(created.id()).toCompletableFuture().get();
            assertEquals(created.attributes(), loaded.orElseThrow().attributes());

            Optional<Session> saved = store.saveAsync(created.id(),
                    SessionChanges.builder().set("b", IntNode.valueOf(2)).remove("a").build()).toCompletableFuture().get();
            assertEquals(Map.of("b", IntNode.valueOf(2)), saved.orElseThrow().attributes());
            assertEquals(Map.of("b", IntNode.valueOf(2)), store.load(created.id()).orElseThrow().attributes());

            java.util.OptionalLong v = store.updateAsync(created.id(),
                    SessionChanges.builder().set("c", IntNode.valueOf(3)).build()).toCompletableFuture().get();
            assertEquals(java.util.OptionalLong.of(3), v);
            assertEquals(java.util.OptionalLong.of(3), store.update(created.id(), SessionChanges.none()));
            assertEquals(Map.of("b", IntNode.valueOf(2), "c", IntNode.valueOf(3)),
                    store.load(created.id()).orElseThrow().attributes());
            assertTrue(store.update(SessionIds.generate(), SessionChanges.none()).isEmpty());

            assertTrue(store.loadAsync("not-an-id").toCompletableFuture().get().isEmpty());
            assertTrue(store.saveAsync(SessionIds.generate(), SessionChanges.none()).toCompletableFuture().get().isEmpty());

            assertTrue(store.deleteAsync(created.id()).toCompletableFuture().get());
            assertTrue(store.load(created.id()).isEmpty());
            assertEquals(false, store.deleteAsync(created.id()).toCompletableFuture().get());
        }
    }

    @Test
    void failuresArriveThroughTheStageNotAsThrows() {
        SessionStoreException down = new SessionStoreException("down (test)");
        SessionStore store = new DownStore(down);
        CompletableFuture<?>[] stages = {
            store.createAsync(Map.of()).toCompletableFuture(),
            store.loadAsync(SessionIds.generate()).toCompletableFuture(),
            store.saveAsync(SessionIds.generate(), SessionChanges.none()).toCompletableFuture(),
            store.updateAsync(SessionIds.generate(), SessionChanges.none()).toCompletableFuture(),
            store.deleteAsync(SessionIds.generate()).toCompletableFuture(),
        };
        for (CompletableFuture<?> f : stages) {
            assertTrue(f.isCompletedExceptionally());
            ExecutionException e = assertThrows(ExecutionException.class, f::get);
            assertInstanceOf(SessionStoreException.class, e.getCause());
            assertSame(down, e.getCause());
        }
    }

    /** The default updateAsync goes through saveAsync: a store whose saveAsync is asynchronous stays so. */
    @Test
    void updateAsyncFollowsAnAsynchronousSaveAsync() throws Exception {
        try (InMemorySessionStore mem = InMemorySessionStore.builder().build()) {
            CompletableFuture<Optional<Session>> pending = new CompletableFuture<>();
            SessionStore async = new SessionStore() {
                @Override public Session create(Map<String, JsonNode> a) { return mem.create(a); }
                @Override public Optional<Session> load(String id) { return mem.load(id); }
                @Override public Optional<Session> save(String id, SessionChanges c) {
                    throw new AssertionError("the blocking save must not be called");
                }
                @Override public java.util.concurrent.CompletionStage<Optional<Session>> saveAsync(String id, SessionChanges c) {
                    return pending;
                }
                @Override public boolean delete(String id) { return mem.delete(id); }
                @Override public Optional<Session> changeId(String id) { return mem.changeId(id); }
                @Override public Registration addListener(SessionListener l) { return mem.addListener(l); }
                @Override public SessionSettings settings() { return mem.settings(); }
                @Override public void close() { }
            };
            Session s = mem.create(Map.of());
            CompletableFuture<java.util.OptionalLong> v = async.updateAsync(s.id(),
                    SessionChanges.builder().set("a", IntNode.valueOf(1)).build()).toCompletableFuture();
            assertTrue(!v.isDone(), "not completed before the store's own stage");
            pending.complete(mem.save(s.id(), SessionChanges.builder().set("a", IntNode.valueOf(1)).build()));
            assertEquals(java.util.OptionalLong.of(2), v.get());
        }
    }

    /** A store whose server is down: every call throws. */
    private record DownStore(SessionStoreException failure) implements SessionStore {
        @Override
        public Session create(Map<String, JsonNode> attributes) {
            throw failure;
        }

        @Override
        public Optional<Session> load(String id) {
            throw failure;
        }

        @Override
        public Optional<Session> save(String id, SessionChanges changes) {
            throw failure;
        }

        @Override
        public boolean delete(String id) {
            throw failure;
        }

        @Override
        public Optional<Session> changeId(String id) {
            throw failure;
        }

        @Override
        public Registration addListener(SessionListener listener) {
            return () -> { };
        }

        @Override
        public SessionSettings settings() {
            return SessionSettings.defaults();
        }

        @Override
        public void close() {
        }
    }
}
