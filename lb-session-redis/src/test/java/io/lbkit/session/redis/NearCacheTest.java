package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.lbkit.session.Session;
import io.lbkit.session.SessionIds;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The near cache's ordering and coherence rules, without Redis. */
class NearCacheTest {

    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final NearCache cache = new NearCache(100, Duration.ofSeconds(30), nanos::get);
    private final String id = SessionIds.generate();

    private Session session(long version, Instant accessed, Duration idle, String... names) {
        Map<String, com.fasterxml.jackson.databind.JsonNode> attrs = new java.util.HashMap<>();
        for (String n : names) {
            attrs.put(n, JsonNodeFactory.instance.numberNode(version));
        }
        return new Session(id, attrs, T0, accessed, idle, version);
    }

    @Test
    void aReplyOfAnOlderVersionNeverReplacesANewerCachedCopy() {
        cache.setCoherent(true);
        Session v3 = session(3, T0.plusMillis(20), Duration.ofMinutes(30), "a", "b");
        Session v2 = session(2, T0.plusMillis(10), Duration.ofMinutes(30), "a");
        cache.put(id, v3, cache.stamp(id), Long.MAX_VALUE);
        cache.put(id, v2, cache.stamp(id), Long.MAX_VALUE); // a concurrent save's reply arriving late
        assertEquals(v3, cache.get(id).session);
        Session v4 = session(4, T0.plusMillis(30), Duration.ofMinutes(30), "a", "b", "c");
        cache.put(id, v4, cache.stamp(id), Long.MAX_VALUE);
        assertEquals(v4, cache.get(id).session);
    }

    @Test
    void onEqualVersionsTheLaterAccessWins() {
        cache.setCoherent(true);
        Session longer = session(5, T0.plusMillis(50), Duration.ofHours(2), "a");
        Session earlier = session(5, T0.plusMillis(40), Duration.ofMinutes(30), "a");
        cache.put(id, longer, cache.stamp(id), Long.MAX_VALUE);
        cache.put(id, earlier, cache.stamp(id), Long.MAX_VALUE);
        assertEquals(Duration.ofHours(2), cache.get(id).session.maxInactiveInterval());
        Session later = session(5, T0.plusMillis(60), Duration.ofMinutes(10), "a");
        cache.put(id, later, cache.stamp(id), Long.MAX_VALUE);
        assertEquals(later, cache.get(id).session);
    }

    @Test
    void anInvalidationDuringTheRoundTripDropsTheReplyAndNothingIsServedWhileIncoherent() {
        cache.setCoherent(true);
        long stamp = cache.stamp(id);
        cache.invalidate(id); // another instance wrote while our load was in flight
        cache.put(id, session(1, T0, Duration.ofMinutes(30), "a"), stamp, Long.MAX_VALUE);
        assertNull(cache.get(id));
        cache.put(id, session(2, T0, Duration.ofMinutes(30), "a"), cache.stamp(id), Long.MAX_VALUE);
        cache.setCoherent(false);
        assertNull(cache.get(id));
    }

    @Test
    void anEntryStopsServingAtItsIdleDeadline() {
        cache.setCoherent(true);
        cache.put(id, session(1, T0, Duration.ofSeconds(20), "a"), cache.stamp(id), Long.MAX_VALUE);
        nanos.addAndGet(Duration.ofSeconds(19).toNanos());
        assertEquals(1, cache.get(id).session.version());
        nanos.addAndGet(Duration.ofSeconds(1).toNanos());
        assertNull(cache.get(id));
    }

    @Test
    void aDisabledNearCacheNeverServesNorStores() {
        NearCache off = NearCache.disabled();
        off.setCoherent(true);
        off.put(id, session(1, T0, Duration.ofMinutes(30), "a"), off.stamp(id), Long.MAX_VALUE);
        assertNull(off.get(id));
        assertEquals(0, off.size());
        assertFalse(off.isEnabled());
    }

    @Test
    void aCopyPastItsAbsoluteExpiryIsNotStored() {
        cache.setCoherent(true);
        cache.put(id, session(1, T0, Duration.ofMinutes(30), "a"), cache.stamp(id), -1);
        assertNull(cache.get(id));
    }
}
