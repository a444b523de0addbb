package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionEvent;
import io.lbkit.testing.RedisServers;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** A 3-master Redis Cluster: sessions spread over slots and nodes, every operation works. */
class RedisClusterIT {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    @Test
    void everyOperationWorksInCluster() {
        try (RedisServers.Cluster cluster = RedisServers.cluster();
             RedisSessionStore a = RedisSessionStore.builder().cluster(cluster.addresses()).nearCache(true).build();
             RedisSessionStore b = RedisSessionStore.builder().cluster(cluster.addresses()).nearCache(true).build()) {
            List<SessionEvent> seenByB = new CopyOnWriteArrayList<>();
            b.addListener(seenByB::add);
            List<Session> sessions = new ArrayList<>();
            Set<Integer> ports = new HashSet<>();
            for (int i = 0; i < 30; i++) {
                Session s = a.create(Map.of("i", F.numberNode(i)));
                sessions.add(s);
                RedisServers.ProcessServer node = cluster.nodeOf(a.keyOf(s.id()));
                ports.add(node.port());
                assertTrue(Long.parseLong(node.cli("PTTL", a.keyOf(s.id()))) > 0);
            }
            assertTrue(ports.size() >= 2, "sessions spread over nodes: " + ports);
            for (Session s : sessions) {
                assertEquals(s.attributes(), b.load(s.id()).orElseThrow().attributes());
                ObjectNode patch = F.objectNode();
                patch.put("k", 1);
                Session saved = a.save(s.id(), SessionChanges.builder().set("x", F.textNode("y"))
                        .merge("m", patch).build()).orElseThrow();
                assertEquals(2, saved.version());
            }
            // cross-instance coherence through the (cluster-wide) channel
            Session first = sessions.get(0);
            assertTrue(RedisServers.await(10_000, () -> "y".equals(b.load(first.id()).orElseThrow().attribute("x").asText())));
            // rotation across slots: old id gone everywhere
            Session moved = a.changeId(first.id()).orElseThrow();
            assertNotEquals(first.id(), moved.id());
            assertEquals(Optional.empty(), a.load(first.id()));
            assertTrue(RedisServers.await(10_000, () -> b.load(first.id()).isEmpty()));
            assertEquals("y", b.load(moved.id()).orElseThrow().attribute("x").asText());
            assertTrue(Long.parseLong(cluster.nodeOf(a.keyOf(moved.id())).cli("PTTL", a.keyOf(moved.id()))) > 0);
            // delete
            assertTrue(a.delete(moved.id()));
            assertTrue(RedisServers.await(10_000, () -> b.load(moved.id()).isEmpty()));
            assertTrue(RedisServers.await(10_000, () -> seenByB.contains(
                    new SessionEvent(SessionEvent.Type.DELETED, moved.id(), null))));
        }
    }
}
