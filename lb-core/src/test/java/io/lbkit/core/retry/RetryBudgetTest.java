package io.lbkit.core.retry;

import static io.lbkit.core.Outcome.CONNECT_FAILURE;
import static io.lbkit.core.Outcome.RESPONSE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.retry.RetryPolicy.Attempts;
import io.lbkit.core.retry.RetryPolicy.Decision;
import io.lbkit.core.retry.RetryPolicy.GiveUpReason;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Envoy's retry budget: max(floor(percent × active), min) concurrent retries. */
class RetryBudgetTest {

    private static RetryBudget withRequests(RetryBudget b, int n) {
        for (int i = 0; i < n; i++) {
            b.requestStarted();
        }
        return b;
    }

    private static int acquireAll(RetryBudget b) {
        int n = 0;
        while (b.tryAcquireRetry()) {
            n++;
        }
        return n;
    }

    @Test
    void envoyDefaults() {
        RetryBudget b = RetryBudget.envoyDefault();
        assertEquals(20.0, b.budgetPercent());
        assertEquals(3, b.minRetryConcurrency());
    }

    @Test
    void minimumConcurrencyAppliesWithFewRequests() {
        RetryBudget b = RetryBudget.envoyDefault();
        assertEquals(3, b.maxRetries(), "no requests: still 3");
        assertEquals(3, acquireAll(withRequests(b, 10)), "20% of 10 = 2 < 3");
        assertEquals(3, b.activeRetries());
        assertEquals(1, b.overflowCount());
    }

    @Test
    void twentyPercentOfActiveRequests() {
        RetryBudget b = withRequests(RetryBudget.envoyDefault(), 100);
        assertEquals(20, b.maxRetries());
        assertEquals(20, acquireAll(b));
        b.retryFinished();
        assertTrue(b.tryAcquireRetry(), "a finished retry frees its slot");
        assertFalse(b.tryAcquireRetry());
    }

    @Test
    void fractionIsFloored() {
        RetryBudget b = withRequests(RetryBudget.builder().budgetPercent(25).minRetryConcurrency(0).build(), 11);
        assertEquals(2, b.maxRetries(), "25% of 11 = 2.75 -> 2 (Envoy converts to an integer)");
        RetryBudget zero = RetryBudget.builder().budgetPercent(0).minRetryConcurrency(0).build();
        assertFalse(withRequests(zero, 1000).tryAcquireRetry(), "0% and min 0: never retry");
    }

    @Test
    void limitFollowsActiveRequests() {
        RetryBudget b = withRequests(RetryBudget.builder().budgetPercent(50).minRetryConcurrency(1).build(), 10);
        assertEquals(5, acquireAll(b));
        for (int i = 0; i < 6; i++) {
            b.requestFinished();
        }
        assertEquals(4, b.activeRequests());
        assertEquals(2, b.maxRetries());
        assertFalse(b.tryAcquireRetry(), "5 retries running, limit now 2");
        for (int i = 0; i < 4; i++) {
            b.retryFinished();
        }
        assertEquals(1, b.activeRetries());
        assertTrue(b.tryAcquireRetry());
        assertFalse(b.tryAcquireRetry());
    }

    @Test
    void unbalancedReleaseIsAnError() {
        RetryBudget b = RetryBudget.envoyDefault();
        assertThrows(IllegalStateException.class, b::retryFinished);
        assertEquals(0, b.activeRetries());
    }

    @Test
    void validationAtBuild() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryBudget.builder().budgetPercent(100.5).build());
        assertTrue(e.getMessage().contains("budgetPercent") && e.getMessage().contains("100.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RetryBudget.builder().budgetPercent(-1).build());
        assertThrows(IllegalArgumentException.class, () -> RetryBudget.builder().budgetPercent(Double.NaN).build());
        e = assertThrows(IllegalArgumentException.class, () -> RetryBudget.builder().minRetryConcurrency(-2).build());
        assertTrue(e.getMessage().contains("minRetryConcurrency") && e.getMessage().contains("-2"), e.getMessage());
    }

    @Test
    void neverExceedsTheLimitUnderContention() throws Exception {
        RetryBudget b = withRequests(RetryBudget.builder().budgetPercent(10).minRetryConcurrency(0).build(), 50);
        int limit = 5;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        int threads = 8;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 20_000; i++) {
                    if (b.tryAcquireRetry()) {
                        int now = inside.incrementAndGet();
                        maxSeen.accumulateAndGet(now, Math::max);
                        inside.decrementAndGet();
                        b.retryFinished();
                    }
                }
            });
            th.start();
            ts.add(th);
        }
        go.countDown();
        for (Thread th : ts) {
            th.join();
        }
        assertTrue(maxSeen.get() <= limit, "at most " + limit + " concurrent, saw " + maxSeen.get());
        assertEquals(0, b.activeRetries());
    }

    // ---- with RetryPolicy.Attempts ----

    @Test
    void attemptsCountTheRequestAndHoldOneRetrySlot() {
        RetryBudget b = RetryBudget.builder().minRetryConcurrency(1).build();
        RetryPolicy p = RetryPolicy.defaults();
        Attempts a = p.start("GET", 0, 3, b);
        assertEquals(1, b.activeRequests());
        assertEquals(Decision.RETRY, a.next(CONNECT_FAILURE, 0, false, false, 0));
        assertEquals(1, b.activeRetries());
        assertEquals(Decision.RETRY, a.next(CONNECT_FAILURE, 0, false, false, 0));
        assertEquals(1, b.activeRetries(), "the previous retry's slot is released at the next decision");
        assertEquals(Decision.DONE, a.next(RESPONSE, 200, true, false, 0));
        assertEquals(0, b.activeRetries());
        assertEquals(0, b.activeRequests());
    }

    @Test
    void exhaustedBudgetGivesUp() {
        RetryBudget b = RetryBudget.builder().budgetPercent(0).minRetryConcurrency(1).build();
        RetryPolicy p = RetryPolicy.defaults();
        Attempts first = p.start("GET", 0, 3, b);
        Attempts second = p.start("GET", 0, 3, b);
        assertEquals(Decision.RETRY, first.next(CONNECT_FAILURE, 0, false, false, 0));
        assertEquals(Decision.GIVE_UP, second.next(CONNECT_FAILURE, 0, false, false, 0));
        assertEquals(GiveUpReason.RETRY_BUDGET, second.giveUpReason());
        assertEquals(502, second.statusOnGiveUp());
        assertEquals(1, b.overflowCount());
        assertEquals(1, b.activeRequests(), "the second request finished");
        first.finish();
        first.finish(); // idempotent
        assertEquals(0, b.activeRetries());
        assertEquals(0, b.activeRequests());
    }

    @Test
    void resetAndNoEndpointReleaseTheBudget() {
        RetryBudget b = RetryBudget.envoyDefault();
        Attempts a = RetryPolicy.defaults().start("GET", 0, 3, b);
        assertEquals(Decision.RETRY, a.next(CONNECT_FAILURE, 0, false, false, 0));
        a.reset("GET", 0, 3, b); // abandons the previous request
        assertEquals(0, b.activeRetries());
        assertEquals(1, b.activeRequests());
        assertEquals(Decision.RETRY, a.next(CONNECT_FAILURE, 0, false, false, 0));
        assertEquals(502, a.noEndpoint());
        assertEquals(0, b.activeRetries());
        assertEquals(0, b.activeRequests());
        a.reset("GET", 0, 3); // no budget this time
        assertEquals(0, b.activeRequests());
    }
}
