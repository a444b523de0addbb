package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStoreException;
import io.lbkit.testing.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * The asynchronous methods on a real redis-server: they return while Redis answers nothing, and
 * they give what the blocking methods give, failures included.
 */
class RedisSessionStoreAsyncIT {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static RedisServers.Server redis;
    private static RedissonClient client;
    private final List<RedisSessionStore> stores = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisServers.standalone();
        client = patientClient(redis.url());
    }

    /**
     * A client that waits 30 s for a reply and never pings: a ping unanswered while the server is
     * stopped would make Redisson reconnect.
     */
    private static RedissonClient patientClient(String url) {
        Config config = new Config();
        config.useSingleServer().setAddress(url).setTimeout(30_000).setPingConnectionInterval(0);
        return Redisson.create(config);
    }

    @AfterAll
    static void stopRedis() {
        if (client != null) {
            client.shutdown();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void closeStores() {
        stores.forEach(RedisSessionStore::close);
    }

    private RedisSessionStore store(boolean nearCache) {
        RedisSessionStore s = RedisSessionStore.builder().client(client).nearCache(nearCache)
                .keyPrefix("async-it:").settings(SessionSettings.builder().maxAttributes(3).build()).build();
        stores.add(s);
        return s;
    }

    /** Runs {@code call} on another thread and waits (bounded) for it to return its stage. */
    private static <T> CompletableFuture<T> callFromAnotherThread(ExecutorService caller,
                                                                   java.util.concurrent.Callable<CompletionStage<T>> call)
            throws Exception {
        return caller.submit(call).get(10, TimeUnit.SECONDS).toCompletableFuture();
    }

    /**
     * While the server is stopped (SIGSTOP: connections stay open, nothing is answered), each
     * async method returns to its caller with a stage that is not done; the stages complete with
     * the right values once the server runs again. A method that waited for Redis would not
     * return within the bounded wait, or would return a done stage.
     */
    @ParameterizedTest(name = "near cache {0}")
    @ValueSource(booleans = {false, true})
    void asyncMethodsReturnWhileRedisIsPausedAndCompleteAfter(boolean nearCache) throws Exception {
        RedisServers.requireBinary();
        try (RedisServers.ProcessServer paused = RedisServers.process()) {
            RedissonClient own = patientClient(paused.url());
            ExecutorService caller = Executors.newSingleThreadExecutor();
            try {
                RedisSessionStore writer = RedisSessionStore.builder().client(own).build();
                RedisSessionStore store = RedisSessionStore.builder().client(own).nearCache(nearCache).build();
                stores.add(writer);
                stores.add(store);
                // three sessions, so that the order in which Redis runs the calls does not matter
                Session loaded = writer.create(Map.of("a", F.numberNode(1))); // not in store's near cache
                Session updated = writer.create(Map.of("b", F.numberNode(2)));
                Session saved = writer.create(Map.of("c", F.numberNode(3)));
                CompletableFuture<Optional<Session>> load;
                CompletableFuture<OptionalLong> update;
                CompletableFuture<Optional<Session>> save;
                CompletableFuture<Session> create;
                AtomicReference<Throwable> blockingOnIoThread = new AtomicReference<>();
                CompletableFuture<?> probe;
                paused.pause();
                try {
                    load = callFromAnotherThread(caller, () -> store.loadAsync(loaded.id()));
                    update = callFromAnotherThread(caller, () -> store.updateAsync(updated.id(),
                            SessionChanges.builder().set("d", F.numberNode(4)).build()));
                    save = callFromAnotherThread(caller, () -> store.saveAsync(saved.id(),
                            SessionChanges.builder().remove("c").build()));
                    create = callFromAnotherThread(caller, () -> store.createAsync(Map.of("e", F.numberNode(5))));
                    assertFalse(load.isDone(), "loadAsync returned before Redis answered");
                    assertFalse(update.isDone(), "updateAsync returned before Redis answered");
                    assertFalse(save.isDone(), "saveAsync returned before Redis answered");
                    assertFalse(create.isDone(), "createAsync returned before Redis answered");
                    // a blocking call in a callback that runs on Redisson's I/O thread fails fast
                    probe = load.whenComplete((v, e) -> {
                        try {
                            store.load(SessionIds.generate());
                        } catch (RuntimeException failure) {
                            blockingOnIoThread.set(failure);
                        }
                    });
                } finally {
                    paused.resume();
                }
                assertEquals(Map.of("a", F.numberNode(1)), load.get(10, TimeUnit.SECONDS).orElseThrow().attributes());
                assertEquals(OptionalLong.of(2), update.get(10, TimeUnit.SECONDS));
                assertEquals(Map.of(), save.get(10, TimeUnit.SECONDS).orElseThrow().attributes());
                Session created = create.get(10, TimeUnit.SECONDS);
                assertEquals(Map.of("e", F.numberNode(5)), created.attributes());
                assertEquals(Map.of("b", F.numberNode(2), "d", F.numberNode(4)),
                        writer.load(updated.id()).orElseThrow().attributes(), "the update reached Redis");
                assertEquals(created.attributes(), writer.load(created.id()).orElseThrow().attributes());
                // the callback runs on the I/O thread after load completes: wait for it, bounded
                probe.handle((v, e) -> null).get(10, TimeUnit.SECONDS);
                Throwable failure = blockingOnIoThread.get();
                assertInstanceOf(SessionStoreException.class, failure);
                assertTrue(failure.getMessage().contains("Redisson I/O thread"), failure.getMessage());
            } finally {
                caller.shutdownNow();
                stores.forEach(RedisSessionStore::close);
                stores.clear();
                own.shutdown();
            }
        }
    }

    /** The operations a scenario runs, blocking or asynchronous; failures are thrown either way. */
    private interface Ops {
        Session create(Map<String, JsonNode> attributes);

        Optional<Session> load(String id);

        Optional<Session> save(String id, SessionChanges changes);

        OptionalLong update(String id, SessionChanges changes);
    }

    private static Ops blocking(RedisSessionStore store) {
        return new Ops() {
            @Override public Session create(Map<String, JsonNode> a) { return store.create(a); }
            @Override public Optional<Session> load(String id) { return store.load(id); }
            @Override public Optional<Session> save(String id, SessionChanges c) { return store.save(id, c); }
            @Override public OptionalLong update(String id, SessionChanges c) { return store.update(id, c); }
        };
    }

    private static Ops async(RedisSessionStore store) {
        return new Ops() {
            @Override public Session create(Map<String, JsonNode> a) { return join(store.createAsync(a)); }
            @Override public Optional<Session> load(String id) { return join(store.loadAsync(id)); }
            @Override public Optional<Session> save(String id, SessionChanges c) { return join(store.saveAsync(id, c)); }
            @Override public OptionalLong update(String id, SessionChanges c) { return join(store.updateAsync(id, c)); }
        };
    }

    /** The stage's value, or the exception that failed it (which the stage, not the call, must carry). */
    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new AssertionError(e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String outcome(Runnable step) {
        try {
            step.run();
            return "ok";
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static String describe(Optional<Session> s) {
        return s.map(x -> "v" + x.version() + " " + new java.util.TreeMap<>(x.attributes()) + " idle "
                + x.maxInactiveInterval()).orElse("none");
    }

    /** One scenario: load, update with deltas and merges, conflicts, limits, TTL, gone sessions. */
    private List<String> scenario(Ops ops, RedisSessionStore store) {
        List<String> log = new ArrayList<>();
        Session s = ops.create(Map.of("a", F.numberNode(1), "m", readJson("{\"x\":1}")));
        log.add("created v" + s.version() + " " + new java.util.TreeMap<>(s.attributes()));
        log.add("load " + describe(ops.load(s.id())));
        log.add("update " + ops.update(s.id(), SessionChanges.builder().set("b", F.textNode("two"))
                .merge("m", (ObjectNode) readJson("{\"x\":null,\"y\":2}")).build()));
        log.add("load " + describe(ops.load(s.id())));
        log.add("save " + describe(ops.save(s.id(), SessionChanges.builder().remove("a")
                .maxInactiveInterval(Duration.ofMinutes(5)).build())));
        long ttl = Long.parseLong(redis.cli("PTTL", store.keyOf(s.id())));
        log.add("ttl within 5 min: " + (ttl > 0 && ttl <= Duration.ofMinutes(5).toMillis()));
        log.add("conflict " + outcome(() -> ops.save(s.id(), SessionChanges.builder().set("a", F.numberNode(9))
                .expectedVersion(1).build())));
        log.add("conflicting update " + outcome(() -> ops.update(s.id(), SessionChanges.builder()
                .set("a", F.numberNode(9)).expectedVersion(2).build())));
        log.add("limit " + outcome(() -> ops.update(s.id(), SessionChanges.builder().set("c", F.numberNode(1))
                .set("d", F.numberNode(1)).build())));
        log.add("create over the limit " + outcome(() -> ops.create(Map.of("p", F.numberNode(1),
                "q", F.numberNode(1), "r", F.numberNode(1), "s", F.numberNode(1)))));
        log.add("load " + describe(ops.load(s.id())));
        store.delete(s.id());
        log.add("load deleted " + describe(ops.load(s.id())));
        log.add("update deleted " + ops.update(s.id(), SessionChanges.builder().set("z", F.numberNode(1)).build()));
        log.add("save deleted " + describe(ops.save(s.id(), SessionChanges.none())));
        log.add("load malformed " + describe(ops.load("not-an-id")));
        log.add("update malformed " + ops.update("not-an-id", SessionChanges.none()));
        return log;
    }

    private static final List<String> EXPECTED = List.of(
            "created v1 {a=1, m={\"x\":1}}",
            "load v1 {a=1, m={\"x\":1}} idle PT24H",
            "update OptionalLong[2]",
            "load v2 {a=1, b=\"two\", m={\"y\":2}} idle PT24H",
            "save v3 {b=\"two\", m={\"y\":2}} idle PT5M",
            "ttl within 5 min: true",
            "conflict VersionConflictException: session version is 3, expected 1",
            "conflicting update VersionConflictException: session version is 3, expected 2",
            "limit SessionLimitException: session would have 4 attributes, more than maxAttributes=3",
            "create over the limit SessionLimitException: session has 4 attributes, more than maxAttributes=3",
            "load v3 {b=\"two\", m={\"y\":2}} idle PT5M",
            "load deleted none",
            "update deleted OptionalLong.empty",
            "save deleted none",
            "load malformed none",
            "update malformed OptionalLong.empty");

    @ParameterizedTest(name = "near cache {0}")
    @ValueSource(booleans = {false, true})
    void asyncAndBlockingGiveTheSameResults(boolean nearCache) {
        RedisSessionStore store = store(nearCache);
        assertEquals(EXPECTED, scenario(blocking(store), store), "blocking");
        assertEquals(EXPECTED, scenario(async(store), store), "async");
    }

    @Test
    void failuresOfArgumentsAndOfAClosedStoreArriveThroughTheStage() {
        RedisSessionStore store = store(true);
        CompletableFuture<Session> overLimit = store.createAsync(Map.of("p", F.numberNode(1), "q", F.numberNode(1),
                "r", F.numberNode(1), "s", F.numberNode(1))).toCompletableFuture();
        assertInstanceOf(io.lbkit.session.SessionLimitException.class,
                assertThrows(ExecutionException.class, overLimit::get).getCause());
        assertInstanceOf(NullPointerException.class, assertThrows(ExecutionException.class,
                () -> store.saveAsync(SessionIds.generate(), null).toCompletableFuture().get()).getCause());
        Session s = store.create(Map.of());
        CompletableFuture<Optional<Session>> hit = store.loadAsync(s.id()).toCompletableFuture();
        assertTrue(hit.isDone(), "a near-cache hit completes at once");
        assertEquals(s, hit.join().orElseThrow());
        store.close();
        for (CompletionStage<?> stage : List.of(store.loadAsync(s.id()), store.createAsync(Map.of()),
                store.saveAsync(s.id(), SessionChanges.none()), store.updateAsync(s.id(), SessionChanges.none()))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get());
            assertEquals("session store is closed", assertInstanceOf(IllegalStateException.class, e.getCause())
                    .getMessage());
        }
    }

    static JsonNode readJson(String text) {
        return io.lbkit.session.SessionJson.read(text);
    }
}
