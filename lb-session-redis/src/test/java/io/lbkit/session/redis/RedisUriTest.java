package io.lbkit.session.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Splitting a standalone server's URI into Redisson's parts. */
class RedisUriTest {

    @Test
    void uriParts() {
        RedisUri p = RedisUri.parse("redis://127.0.0.1:6380/2");
        assertEquals("redis://127.0.0.1:6380", p.address());
        assertEquals(2, p.database());
        assertNull(p.password());
        RedisUri q = RedisUri.parse("rediss://:p%40ss@cache.example:6390");
        assertEquals("rediss://cache.example:6390", q.address());
        assertEquals("p@ss", q.password());
        assertNull(q.user());
        assertFalse(q.toString().contains("p@ss"), "toString hides the password");
        RedisUri r = RedisUri.parse("redis://app:secret@h");
        assertEquals("app", r.user());
        assertEquals("secret", r.password());
        assertEquals("redis://h:6379", r.address());
        assertEquals(0, r.database());
    }

    @Test
    void ipv6HostsAreBracketedAndBadPartsNamed() {
        assertEquals("redis://[::1]:6379", RedisUri.parse("redis://[::1]").address());
        assertEquals("uri database must be >= 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> RedisUri.parse("redis://h:1/-1")).getMessage());
        assertEquals("uri must name a host: redis://host:port",
                assertThrows(IllegalArgumentException.class, () -> RedisUri.parse("redis:///0")).getMessage());
    }
}
