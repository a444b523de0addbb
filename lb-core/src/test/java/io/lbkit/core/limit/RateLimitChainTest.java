package io.lbkit.core.limit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class RateLimitChainTest {

    private final ManualTicker t = new ManualTicker(1_000_000_000_000L);

    @Test
    void theLongestDelayWinsAndEveryLimitCounts() {
        RateLimiter slow = RateLimiter.builder().rate("1r/s").burst(5).ticker(t).build();
        RateLimiter fast = RateLimiter.builder().rate("10r/s").burst(5).ticker(t).build();
        RateLimiter[] both = {fast, slow};
        String[] keys = {"k", "k"};
        assertEquals(0, RateLimitChain.acquire(both, keys).delayMillis());
        RateLimitChain.Outcome second = RateLimitChain.acquire(both, keys);
        assertEquals(1000, second.delayMillis(), "1r/s's delay, not 10r/s's 100 ms");
        assertEquals(1000, second.excess());
        assertArrayEquals(new long[] {1000, t.nanos() / 1_000_000}, fast.stateOf("k"));
        assertArrayEquals(new long[] {1000, t.nanos() / 1_000_000}, slow.stateOf("k"));
    }

    @Test
    void aRefusalByALaterLimitCountsNowhere() {
        RateLimiter first = RateLimiter.builder().rate("1r/s").burst(10).ticker(t).build();
        RateLimiter strict = RateLimiter.builder().rate("1r/s").ticker(t).build();
        RateLimiter[] chain = {first, strict};
        assertFalse(RateLimitChain.acquire(chain, new String[] {"a", "x"}).refused());
        long[] before = first.stateOf("a");
        RateLimitChain.Outcome o = RateLimitChain.acquire(chain, new String[] {"a", "x"});
        assertEquals(1, o.refusedBy());
        assertArrayEquals(before, first.stateOf("a"), "the first limit did not count the refused request");
        assertFalse(RateLimitChain.acquire(chain, new String[] {"a", ""}).refused(), "an empty key skips that limit");
    }

    @Test
    void aKeyNewToAnEarlierLimitStartsAtZeroThereAsAlone() {
        RateLimiter first = RateLimiter.builder().rate("1r/s").burst(1).ticker(t).build();
        RateLimiter second = RateLimiter.builder().rate("1r/s").burst(1).ticker(t).build();
        RateLimitChain.acquire(new RateLimiter[] {first, second}, new String[] {"n", "m"});
        assertEquals(0, first.stateOf("n")[0], "nginx: a node made by a lookup that did not account drains to 0");
        assertNull(first.stateOf("other"));
    }
}
