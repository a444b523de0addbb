package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.lbkit.session.MeteredSessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionStore;
import io.lbkit.testing.RedisServers;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The Redis store's calls, asynchronous ones included, and its errors while Redis is down, as meters. */
class MeteredRedisStoreIT {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    @Test
    void callsAndStoreErrorsAreCountedUnderTheRedisTag() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (RedisServers.ProcessServer redis = RedisServers.process();
             SessionStore store = MeteredSessionStore.of(RedisSessionStore.builder().uri(redis.url())
                     .commandTimeout(Duration.ofMillis(500)).connectTimeout(Duration.ofMillis(500))
                     .retryAttempts(0).build(), registry)) {
            Session s = store.createAsync(Map.of("a", F.numberNode(1))).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertTrue(store.loadAsync(s.id()).toCompletableFuture().get(10, TimeUnit.SECONDS).isPresent());
            assertTrue(store.updateAsync(s.id(), SessionChanges.builder().set("b", F.numberNode(2)).build())
                    .toCompletableFuture().get(10, TimeUnit.SECONDS).isPresent());
            redis.kill();
            assertThrows(ExecutionException.class,
                    () -> store.loadAsync(s.id()).toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertThrows(RuntimeException.class, () -> store.load(s.id()));

            assertEquals(1, count(registry, "create", "ok"));
            assertEquals(1, count(registry, "load", "ok"));
            assertEquals(1, count(registry, "update", "ok"));
            assertEquals(2, count(registry, "load", "error"), "the asynchronous and the synchronous failure");
            Timer loads = registry.find(MeteredSessionStore.CALLS).tags("operation", "load", "outcome", "ok").timer();
            assertTrue(loads.totalTime(TimeUnit.NANOSECONDS) > 0, "the round trip's time is recorded");
        }
    }

    private static long count(SimpleMeterRegistry registry, String operation, String outcome) {
        return registry.find(MeteredSessionStore.CALLS).tags("store", "redis", "operation", operation, "outcome", outcome)
                .timer().count();
    }
}
