package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionStoreException;
import io.lbkit.testing.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Sentinel: master killed, replica promoted, the store continues on the new master. */
class RedisSentinelIT {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    @Test
    void storeContinuesAfterFailover() {
        try (RedisServers.Sentinel sentinel = RedisServers.sentinel();
             RedisSessionStore store = RedisSessionStore.builder()
                     .sentinel(RedisServers.Sentinel.MASTER, List.of(sentinel.sentinelAddress()))
                     .commandTimeout(Duration.ofMillis(1000)).retryAttempts(1).nearCache(true).build()) {
            Session before = store.create(Map.of("a", F.numberNode(1)));
            assertEquals(1, store.load(before.id()).orElseThrow().attribute("a").asInt());
            // make sure the replica has it, then lose the master
            sentinel.master().cli("WAIT", "1", "5000");
            int oldMaster = sentinel.master().port();
            sentinel.master().kill();
            assertTrue(RedisServers.await(30_000, () -> sentinel.currentMasterPort() == sentinel.replica().port()),
                    "sentinel promoted the replica");
            AtomicReference<Session> after = new AtomicReference<>();
            assertTrue(RedisServers.await(30_000, () -> {
                try {
                    after.set(store.create(Map.of("b", F.numberNode(2))));
                    return true;
                } catch (SessionStoreException e) {
                    return false;
                }
            }), "the store writes to the promoted master");
            Session s = after.get();
            assertEquals(2, store.load(s.id()).orElseThrow().attribute("b").asInt());
            assertTrue(Long.parseLong(sentinel.replica().cli("PTTL", store.keyOf(s.id()))) > 0,
                    "written on the new master (port " + sentinel.replica().port() + ", old " + oldMaster + ") with a TTL");
            Session saved = store.save(before.id(), SessionChanges.builder().set("c", F.numberNode(3)).build())
                    .orElseThrow();
            assertEquals(Map.of("a", F.numberNode(1), "c", F.numberNode(3)), saved.attributes());
        }
    }
}
