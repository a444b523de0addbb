package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.testing.RedisServers;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link RedisSessionStore#ping}: true while a real Redis answers, false (no exception) when it is down or the store closed. */
class RedisPingIT {

    private static final Duration TIMEOUT = Duration.ofMillis(500);

    @Test
    void pingFollowsTheServer() {
        try (RedisServers.ProcessServer redis = RedisServers.process();
             RedisSessionStore store = RedisSessionStore.builder().uri(redis.url())
                     .commandTimeout(TIMEOUT).connectTimeout(TIMEOUT).build()) {
            assertTrue(store.ping(TIMEOUT));
            redis.kill();
            assertFalse(store.ping(TIMEOUT));
            redis.start();
            // the client reconnects in the background
            assertTrue(RedisServers.await(15_000, () -> store.ping(TIMEOUT)), "no PONG after Redis came back");
            store.close();
            assertFalse(store.ping(TIMEOUT), "a closed store is not available");
            assertThrows(NullPointerException.class, () -> store.ping(null));
        }
    }

    @Test
    void pingAnswersOnACluster() {
        try (RedisServers.Cluster cluster = RedisServers.cluster();
             RedisSessionStore store = RedisSessionStore.builder().cluster(cluster.addresses())
                     .commandTimeout(TIMEOUT).connectTimeout(TIMEOUT).build()) {
            assertTrue(store.ping(TIMEOUT));
        }
    }
}
