package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionStoreException;
import io.lbkit.testing.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/** Redis restarted, paused, or its pub/sub connection lost: the store fails fast and recovers. */
class RedisFailureIT {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private static RedisSessionStore store(RedisServers.Server redis, boolean nearCache) {
        return RedisSessionStore.builder().uri(redis.url()).nearCache(nearCache)
                .nearCacheTtl(Duration.ofMinutes(10))
                .commandTimeout(Duration.ofMillis(500)).connectTimeout(Duration.ofMillis(500))
                .retryAttempts(1).retryDelay(Duration.ofMillis(100)).build();
    }

    @Test
    void redisRestartedMidTrafficGivesClearErrorsThenWorksAndNoSessionLacksATtl() {
        try (RedisServers.ProcessServer redis = RedisServers.process();
             RedisSessionStore store = store(redis, true)) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Session s = store.create(Map.of("i", F.numberNode(i)));
                store.save(s.id(), SessionChanges.builder().set("j", F.numberNode(i)).build()).orElseThrow();
                ids.add(s.id());
            }
            redis.kill();
            int failures = 0;
            for (int i = 0; i < 5; i++) {
                String id = ids.get(i);
                SessionStoreException e = assertThrows(SessionStoreException.class, () -> store.save(id,
                        SessionChanges.builder().set("k", F.numberNode(1)).build()));
                assertFalse(e.getMessage().contains(id), "no id in the message: " + e.getMessage());
                assertTrue(e.getMessage().startsWith("Redis save failed"), e.getMessage());
                failures++;
            }
            assertThrows(SessionStoreException.class, () -> store.create(Map.of()));
            assertEquals(5, failures);
            redis.start();
            assertTrue(RedisServers.await(30_000, () -> store.load(ids.get(0)).isPresent()), "works after restart");
            for (int i = 0; i < ids.size(); i++) {
                Session s = store.load(ids.get(i)).orElseThrow();
                assertEquals(i, s.attribute("j").asInt());
                store.save(s.id(), SessionChanges.builder().set("after", F.booleanNode(true)).build()).orElseThrow();
            }
            // every key of ours has a TTL (AOF replay keeps PEXPIREAT)
            String keys = redis.cli("--scan", "--pattern", "lbkit:session:*");
            int checked = 0;
            for (String key : keys.split("\n")) {
                if (key.isBlank()) {
                    continue;
                }
                long ttl = Long.parseLong(redis.cli("PTTL", key.trim()));
                assertTrue(ttl > 0, "PTTL of a session key after the restart: " + ttl);
                checked++;
            }
            assertEquals(ids.size(), checked);
        }
    }

    @Test
    void redisPausedPastTheTimeoutFailsFastThenRecovers() {
        try (RedisServers.ProcessServer redis = RedisServers.process();
             RedisSessionStore store = store(redis, false)) {
            Session s = store.create(Map.of("a", F.numberNode(1)));
            redis.pause();
            try {
                SessionStoreException e = assertThrows(SessionStoreException.class, () -> store.load(s.id()));
                assertFalse(e.getMessage().contains(s.id()));
                assertThrows(SessionStoreException.class, () -> store.save(s.id(), SessionChanges.none()));
                // the async methods fail as the blocking ones do, through the stage (which of
                // Redisson's timeouts it is depends on the connection's state, not on the method)
                String timedOut = "Redis %s failed \\(Redis\\w*TimeoutException\\)";
                assertTrue(e.getMessage().matches(timedOut.formatted("load")), e.getMessage());
                CompletableFuture<?> load = store.loadAsync(s.id()).toCompletableFuture();
                CompletableFuture<?> update = store.updateAsync(s.id(), SessionChanges.none()).toCompletableFuture();
                String loadFailure = failureOf(load).getMessage();
                assertTrue(loadFailure.matches(timedOut.formatted("load")), loadFailure);
                String updateFailure = failureOf(update).getMessage();
                assertTrue(updateFailure.matches(timedOut.formatted("save")), updateFailure);
            } finally {
                redis.resume();
            }
            assertTrue(RedisServers.await(30_000, () -> store.load(s.id()).isPresent()));
            assertEquals(1, store.load(s.id()).orElseThrow().attribute("a").asInt());
        }
    }

    /** The {@link SessionStoreException} that failed {@code stage} (waiting at most 30 s). */
    private static SessionStoreException failureOf(CompletableFuture<?> stage) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> stage.get(30, TimeUnit.SECONDS));
        return assertInstanceOf(SessionStoreException.class, e.getCause());
    }

    /**
     * A write whose invalidation can never arrive (a raw HSET while the store reconnects) must
     * not be hidden by the near cache: it is cleared on reconnect/resubscribe. With an owned
     * client (connection listener + resubscribe) and with a client passed in (resubscribe only).
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void nearCacheIsClearedOnReconnect(boolean ownedClient) {
        try (RedisServers.ProcessServer redis = RedisServers.process()) {
            RedissonClient client = null;
            RedisSessionStore store;
            if (ownedClient) {
                store = store(redis, true);
            } else {
                Config config = new Config();
                config.useSingleServer().setAddress(redis.url()).setTimeout(500).setRetryAttempts(1)
                        .setConnectTimeout(500);
                client = Redisson.create(config);
                store = RedisSessionStore.builder().client(client).nearCache(true)
                        .nearCacheTtl(Duration.ofMinutes(10)).build();
            }
            try {
                Session s = store.create(Map.of("v", F.numberNode(1)));
                assertEquals(1, store.load(s.id()).orElseThrow().attribute("v").asInt());
                assertTrue(store.isNearCached(s.id()));
                redis.restart();
                // a write that publishes nothing: only clearing on reconnect can reveal it
                redis.cli("HSET", store.keyOf(s.id()), "a:v", "2");
                assertTrue(RedisServers.await(30_000, () -> {
                    try {
                        return store.load(s.id()).orElseThrow().attribute("v").asInt() == 2;
                    } catch (SessionStoreException e) {
                        return false;
                    }
                }), "the near cache was cleared after the reconnect");
                // and it works as a cache again afterwards, coherent through pub/sub
                assertTrue(RedisServers.await(30_000, () -> {
                    store.load(s.id());
                    return store.isNearCached(s.id());
                }));
            } finally {
                store.close();
                if (client != null) {
                    client.shutdown();
                }
            }
        }
    }
}
