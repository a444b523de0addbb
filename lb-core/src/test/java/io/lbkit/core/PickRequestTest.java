package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PickRequestTest {

    private static byte[] key(PickRequest r) {
        return Arrays.copyOf(r.keyBytes(), r.keyLength());
    }

    @Test
    void numericKeysAreAlsoTheirDecimalText() {
        PickRequest r = PickRequest.create();
        for (long v : new long[] {0, 7, -7, 1234567890123L, Long.MAX_VALUE, Long.MIN_VALUE}) {
            r.reset().hashKey(v);
            assertArrayEquals(Long.toString(v).getBytes(StandardCharsets.US_ASCII), key(r), "key " + v);
            assertTrue(r.keyIsLong());
            assertEquals(v, r.longKey());
        }
    }

    @Test
    void textKeysAreUtf8LikeTheJdk() {
        PickRequest r = PickRequest.create();
        for (String s : new String[] {"", "abc", "héllo", "日本語", "emoji \uD83D\uDE00", "lone \uD800 x",
                "x".repeat(500)}) {
            r.reset().hashKey(s);
            assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), key(r), s);
        }
    }

    @Test
    void addressMustBe4Or16Bytes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PickRequest.create().clientAddress(new byte[5]));
        assertTrue(e.getMessage().contains("5"), e.getMessage());
    }

    @Test
    void resetForgetsEverything() {
        Upstream u = Upstream.builder("u").endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).build();
        PickRequest r = PickRequest.create().hashKey("k").clientAddress(new byte[4]).preferred("a:1");
        Selection s = u.pick(r);
        r.markTried(s);
        r.reset();
        assertEquals(0, r.triedCount());
        assertEquals(0, r.keyLength());
        assertEquals(0, r.addressLength());
        assertEquals(null, r.preferredId());
        s.complete(200, 0);
    }

    /** jump, maglev and rendezvous use a numeric key as a number: no decimal text is written. */
    @Test
    void numericKeyStaysANumberForJumpMaglevAndRendezvous() {
        for (String policy : new String[] {"jump", "maglev", "rendezvous"}) {
            Upstream u = Upstream.builder("u").policy(BalancingPolicy.builder(policy).build())
                    .endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).build();
            PickRequest r = PickRequest.create().hashKey(123456789L);
            u.pick(r).complete(200, 0);
            assertTrue(r.keyTextPending(), policy);
        }
        Upstream h = Upstream.builder("h").policy(BalancingPolicy.hash())
                .endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).build();
        PickRequest r = PickRequest.create().hashKey(123456789L);
        h.pick(r).complete(200, 0);
        assertEquals(false, r.keyTextPending(), "hash reads the text");
    }
}
