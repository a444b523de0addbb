package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lbkit.session.Session;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionStoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisTimeoutException;

/**
 * How a store's commands fail: the mapping of RedisCalls, fed with the stages a command gives
 * (no server: what is tested is what happens to a failure once Redisson reports it).
 */
class RedisCallsTest {

    private final NearCache nearCache = new NearCache(10, Duration.ofMinutes(1), System::nanoTime);
    private final RedisCalls calls = new RedisCalls(nearCache);
    private final String id = SessionIds.generate();

    private void cacheOne() {
        nearCache.setCoherent(true);
        Instant t = Instant.parse("2026-03-01T10:00:00Z");
        nearCache.put(id, new Session(id, Map.of(), t, t, Duration.ofMinutes(30), 1), nearCache.stamp(id),
                Long.MAX_VALUE);
        assertNotNull(nearCache.get(id));
    }

    private static Throwable failureOf(CompletableFuture<?> stage) {
        return assertThrows(ExecutionException.class, stage::get).getCause();
    }

    @Test
    void aFailureDeliveredLaterNamesTheOperationAndTheTypeOnlyAndClearsTheNearCache() {
        cacheOne();
        CompletableFuture<String> reply = new CompletableFuture<>();
        CompletableFuture<String> stage = calls.call("load", () -> reply);
        reply.completeExceptionally(new RedisTimeoutException("Command execution timeout for HGETALL lbkit:{" + id + "}"));
        Throwable failure = failureOf(stage);
        assertEquals("Redis load failed (RedisTimeoutException)",
                assertInstanceOf(SessionStoreException.class, failure).getMessage());
        assertNull(nearCache.get(id), "Redis trouble may mean missed invalidations");
    }

    @Test
    void aFailureThrownAtOnceOrWrappedIsMappedTheSameWay() {
        cacheOne();
        CompletableFuture<String> thrown = calls.call("save", () -> {
            throw new RedisConnectionException("Unable to connect to 127.0.0.1:6379");
        });
        assertEquals("Redis save failed (RedisConnectionException)", failureOf(thrown).getMessage());
        assertNull(nearCache.get(id));
        CompletableFuture<String> wrapped = calls.call("delete", () -> CompletableFuture.failedFuture(
                new CompletionException(new RedisConnectionException("refused"))));
        assertEquals("Redis delete failed (RedisConnectionException)", failureOf(wrapped).getMessage());
    }

    @Test
    void theStoresOwnExceptionPassesThroughAndKeepsTheNearCache() {
        cacheOne();
        SessionStoreException own = new SessionStoreException("unexpected reply from the save script");
        assertSame(own, failureOf(calls.call("save", () -> CompletableFuture.failedFuture(own))));
        assertNotNull(nearCache.get(id));
        assertEquals("v", calls.call("load", () -> CompletableFuture.completedFuture("v")).join());
    }
}
