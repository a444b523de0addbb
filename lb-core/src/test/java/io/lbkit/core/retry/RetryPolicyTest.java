package io.lbkit.core.retry;

import static io.lbkit.core.Outcome.CANCELLED;
import static io.lbkit.core.Outcome.CONNECT_FAILURE;
import static io.lbkit.core.Outcome.INVALID_RESPONSE;
import static io.lbkit.core.Outcome.RESET;
import static io.lbkit.core.Outcome.RESPONSE;
import static io.lbkit.core.Outcome.TIMEOUT;
import static io.lbkit.core.retry.RetryPolicy.Decision.DONE;
import static io.lbkit.core.retry.RetryPolicy.Decision.GIVE_UP;
import static io.lbkit.core.retry.RetryPolicy.Decision.RETRY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Outcome;
import io.lbkit.core.Ticker;
import io.lbkit.core.retry.RetryPolicy.Attempts;
import io.lbkit.core.retry.RetryPolicy.Decision;
import io.lbkit.core.retry.RetryPolicy.GiveUpReason;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The decision rules of nginx's proxy_next_upstream, one by one. */
class RetryPolicyTest {

    private static final long T0 = 5_000_000_000L;

    // ---- defaults ----

    @Test
    void defaultsAreErrorAndTimeoutWithUnlimitedTriesAndNoTimeLimit() {
        RetryPolicy p = RetryPolicy.defaults();
        assertEquals(Set.of(RetryCondition.ERROR, RetryCondition.TIMEOUT), p.conditions());
        assertEquals(0, p.tries());
        assertEquals(Duration.ZERO, p.timeout());
        assertEquals("error timeout", p.conditionsString());
        assertEquals(p, RetryPolicy.builder().build());
        assertFalse(p.isOff());
        assertTrue(RetryPolicy.off().isOff());
        assertTrue(RetryPolicy.off().conditions().isEmpty());
    }

    // ---- a kept-alive connection the endpoint had closed (nginx u->peer.cached) ----

    @Test
    void anExtraTryLetsAStaleConnectionFailureRetryWithoutUsingUpTheTries() {
        Attempts plain = RetryPolicy.defaults().start("GET", T0, 1);
        assertEquals(GIVE_UP, plain.next(RESET, 0, true, false, T0));
        assertEquals(GiveUpReason.TRIES_EXHAUSTED, plain.giveUpReason());

        Attempts stale = RetryPolicy.defaults().start("GET", T0, 1);
        stale.extraTry();
        assertEquals(RETRY, stale.next(RESET, 0, true, false, T0));
        assertEquals(2, stale.maxAttempts());
        assertEquals(GIVE_UP, stale.next(RESET, 0, true, false, T0), "one extra try, not more");

        // the method rules still hold: a POST that went out is not sent again
        Attempts post = RetryPolicy.defaults().start("POST", T0, 1);
        post.extraTry();
        assertEquals(GIVE_UP, post.next(RESET, 0, true, false, T0));
        assertEquals(GiveUpReason.NON_IDEMPOTENT, post.giveUpReason());
    }

    // ---- idempotency ----

    @Test
    void postSentWithErrorAndNoNonIdempotentGivesUpWith502() {
        Attempts a = RetryPolicy.defaults().start("POST", T0, 3);
        assertEquals(GIVE_UP, a.next(RESET, 0, true, false, T0));
        assertEquals(GiveUpReason.NON_IDEMPOTENT, a.giveUpReason());
        assertEquals(502, a.statusOnGiveUp());
        assertEquals(1, a.attempts());
        assertTrue(a.lastAttemptFailed(), "an error always counts for max_fails");
    }

    @Test
    void postNotSentConnectFailureIsRetried() {
        Attempts a = RetryPolicy.defaults().start("POST", T0, 3);
        assertEquals(RETRY, a.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(GiveUpReason.NONE, a.giveUpReason());
    }

    @Test
    void postSentIsRetriedWithNonIdempotent() {
        Attempts a = RetryPolicy.parse("error timeout non_idempotent").start("POST", T0, 3);
        assertEquals(RETRY, a.next(RESET, 0, true, false, T0));
        assertEquals(RETRY, a.next(TIMEOUT, 0, true, false, T0));
        assertEquals(GIVE_UP, a.next(TIMEOUT, 0, true, false, T0));
        assertEquals(GiveUpReason.TRIES_EXHAUSTED, a.giveUpReason());
    }

    @Test
    void patchAndLockAreNonIdempotentPutAndDeleteAreNot() {
        for (String m : new String[] {"POST", "PATCH", "LOCK", "post", "Patch"}) {
            assertTrue(RetryPolicy.isNonIdempotent(m), m);
            Attempts a = RetryPolicy.defaults().start(m, T0, 3);
            assertEquals(GIVE_UP, a.next(TIMEOUT, 0, true, false, T0), m);
            assertEquals(GiveUpReason.NON_IDEMPOTENT, a.giveUpReason(), m);
        }
        for (String m : new String[] {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "UNLOCK", "MKCOL", "PROPFIND", ""}) {
            assertFalse(RetryPolicy.isNonIdempotent(m), m);
        }
    }

    @Test
    void putSentWithErrorIsRetried() {
        Attempts a = RetryPolicy.defaults().start("PUT", T0, 3);
        assertEquals(RETRY, a.next(RESET, 0, true, false, T0));
        Attempts d = RetryPolicy.defaults().start("DELETE", T0, 3);
        assertEquals(RETRY, d.next(TIMEOUT, 0, true, false, T0));
    }

    @Test
    void postSentWith503IsRetriedOnlyWithNonIdempotent() {
        Attempts a = RetryPolicy.parse("error timeout http_503").start("POST", T0, 3);
        assertEquals(GIVE_UP, a.next(RESPONSE, 503, true, false, T0));
        assertEquals(GiveUpReason.NON_IDEMPOTENT, a.giveUpReason());
        assertEquals(503, a.statusOnGiveUp(), "the upstream's 503 passes through");
        assertFalse(a.lastAttemptFailed(), "nginx frees the passed-through peer as a success");

        Attempts b = RetryPolicy.parse("error timeout http_503 non_idempotent").start("POST", T0, 3);
        assertEquals(RETRY, b.next(RESPONSE, 503, true, false, T0));
    }

    // ---- timeouts and errors ----

    @Test
    void timeoutGives504AfterTriesAreExhausted() {
        Attempts a = RetryPolicy.defaults().start("GET", T0, 3);
        assertEquals(RETRY, a.next(TIMEOUT, 0, true, false, T0));
        assertEquals(RETRY, a.next(TIMEOUT, 0, true, false, T0));
        assertEquals(GIVE_UP, a.next(TIMEOUT, 0, true, false, T0));
        assertEquals(GiveUpReason.TRIES_EXHAUSTED, a.giveUpReason());
        assertEquals(3, a.attempts());
        assertEquals(504, a.statusOnGiveUp());
    }

    @Test
    void statusAfterGivingUpFollowsTheLastAttempt() {
        Attempts a = RetryPolicy.defaults().start("GET", T0, 2);
        assertEquals(RETRY, a.next(TIMEOUT, 0, true, false, T0));
        assertEquals(GIVE_UP, a.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(502, a.statusOnGiveUp(), "last was an error, not the earlier timeout");
    }

    @Test
    void timeoutNotInConditionsIsNotRetried() {
        Attempts a = RetryPolicy.parse("error").start("GET", T0, 3);
        assertEquals(GIVE_UP, a.next(TIMEOUT, 0, true, false, T0));
        assertEquals(GiveUpReason.NOT_A_CONDITION, a.giveUpReason());
        assertEquals(504, a.statusOnGiveUp());
        assertTrue(a.lastAttemptFailed(), "a timeout counts for max_fails even when not a condition");
    }

    @Test
    void invalidHeaderNeedsItsCondition() {
        Attempts a = RetryPolicy.defaults().start("GET", T0, 3);
        assertEquals(GIVE_UP, a.next(INVALID_RESPONSE, 0, true, false, T0));
        assertEquals(GiveUpReason.NOT_A_CONDITION, a.giveUpReason());
        assertEquals(502, a.statusOnGiveUp());

        Attempts b = RetryPolicy.parse("invalid_header").start("GET", T0, 3);
        assertEquals(RETRY, b.next(INVALID_RESPONSE, 0, true, false, T0));
    }

    @Test
    void connectFailureWithoutErrorConditionIsNotRetried() {
        Attempts a = RetryPolicy.parse("timeout").start("GET", T0, 3);
        assertEquals(GIVE_UP, a.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(GiveUpReason.NOT_A_CONDITION, a.giveUpReason());
        Attempts off = RetryPolicy.off().start("GET", T0, 3);
        assertEquals(GIVE_UP, off.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(502, off.statusOnGiveUp());
    }

    // ---- statuses ----

    @Test
    void http503InConditionsIsRetriedAndPassedThroughAfterTheLastTry() {
        Attempts a = RetryPolicy.parse("error timeout http_503").start("GET", T0, 3);
        assertEquals(RETRY, a.next(RESPONSE, 503, true, false, T0));
        assertTrue(a.lastAttemptFailed(), "a retried 503 counts for max_fails");
        assertEquals(RETRY, a.next(RESPONSE, 503, true, false, T0));
        assertEquals(GIVE_UP, a.next(RESPONSE, 503, true, false, T0));
        assertEquals(GiveUpReason.TRIES_EXHAUSTED, a.giveUpReason());
        assertEquals(503, a.statusOnGiveUp());
        assertEquals(503, a.lastStatus());
        assertFalse(a.lastAttemptFailed(), "nginx frees the peer whose response it passes on as a success");
    }

    @Test
    void http503WithoutTheConditionIsTheResponse() {
        Attempts a = RetryPolicy.defaults().start("GET", T0, 3);
        assertEquals(DONE, a.next(RESPONSE, 503, true, false, T0));
        assertEquals(GiveUpReason.NONE, a.giveUpReason());
        assertEquals(503, a.statusOnGiveUp());
    }

    @Test
    void notFoundWithoutHttp404IsTheResponseNotAnError() {
        Attempts a = RetryPolicy.parse("error timeout http_500").start("GET", T0, 3);
        assertEquals(DONE, a.next(RESPONSE, 404, true, false, T0));
        assertEquals(GiveUpReason.NONE, a.giveUpReason());
        assertEquals(404, a.statusOnGiveUp());
        assertFalse(a.lastAttemptFailed());
        assertEquals(1, a.attempts());
        assertTrue(a.isFinished());
    }

    @Test
    void http404And403AreRetriedWhenConfiguredButNeverFailures() {
        Attempts a = RetryPolicy.parse("http_404 http_403").start("GET", T0, 3);
        assertEquals(RETRY, a.next(RESPONSE, 404, true, false, T0));
        assertFalse(a.lastAttemptFailed(), "nginx frees a 404 peer with NGX_PEER_NEXT, not FAILED");
        assertEquals(RETRY, a.next(RESPONSE, 403, true, false, T0));
        assertFalse(a.lastAttemptFailed());
        assertEquals(GIVE_UP, a.next(RESPONSE, 404, true, false, T0));
        assertEquals(404, a.statusOnGiveUp());
    }

    @Test
    void everyHttpConditionMatchesOnlyItsStatus() {
        int[] statuses = {500, 502, 503, 504, 403, 404, 429};
        for (int s : statuses) {
            RetryPolicy p = RetryPolicy.parse("http_" + s);
            for (int other : new int[] {200, 301, 400, 401, 500, 501, 502, 503, 504, 403, 404, 408, 429, 599}) {
                Decision d = p.start("GET", T0, 3).next(RESPONSE, other, true, false, T0);
                assertEquals(other == s ? RETRY : DONE, d, "http_" + s + " vs " + other);
            }
        }
    }

    @Test
    void successIsDone() {
        Attempts a = RetryPolicy.defaults().start("GET", T0, 3);
        assertEquals(RETRY, a.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(DONE, a.next(RESPONSE, 200, true, false, T0));
        assertEquals(2, a.attempts());
        assertEquals(200, a.lastStatus());
        assertFalse(a.lastAttemptFailed());
    }

    @Test
    void staticStatusMappingIsNginxs() {
        assertEquals(504, RetryPolicy.statusOnGiveUp(TIMEOUT, 0));
        assertEquals(502, RetryPolicy.statusOnGiveUp(CONNECT_FAILURE, 0));
        assertEquals(502, RetryPolicy.statusOnGiveUp(RESET, 0));
        assertEquals(502, RetryPolicy.statusOnGiveUp(INVALID_RESPONSE, 0));
        assertEquals(499, RetryPolicy.statusOnGiveUp(CANCELLED, 0));
        for (int s : new int[] {500, 502, 503, 504, 403, 404, 429}) {
            assertEquals(s, RetryPolicy.statusOnGiveUp(RESPONSE, s));
        }
    }

    // ---- response started, cancelled, body ----

    @Test
    void nothingIsRetriedOnceTheResponseStarted() {
        RetryPolicy all = RetryPolicy.parse(
                "error timeout invalid_header http_500 http_502 http_503 http_504 http_403 http_404 http_429 non_idempotent");
        for (Outcome o : new Outcome[] {CONNECT_FAILURE, RESET, TIMEOUT, INVALID_RESPONSE}) {
            Attempts a = all.start("GET", T0, 5);
            assertEquals(GIVE_UP, a.next(o, 0, true, true, T0), o.name());
            assertEquals(GiveUpReason.RESPONSE_STARTED, a.giveUpReason());
            assertFalse(a.lastAttemptFailed(), "nginx finalizes without failing the peer after the header was sent");
        }
        Attempts r = all.start("GET", T0, 5);
        assertEquals(GIVE_UP, r.next(RESPONSE, 502, true, true, T0));
        assertEquals(GiveUpReason.RESPONSE_STARTED, r.giveUpReason());
    }

    @Test
    void cancelledIsNeverRetried() {
        Attempts a = RetryPolicy.parse("error timeout non_idempotent").start("GET", T0, 5);
        assertEquals(GIVE_UP, a.next(CANCELLED, 0, false, false, T0));
        assertEquals(GiveUpReason.CANCELLED, a.giveUpReason());
        assertEquals(499, a.statusOnGiveUp());
        assertFalse(a.lastAttemptFailed());
    }

    @Test
    void unbufferedBodyIsNotRetriedOnceSent() {
        Attempts a = RetryPolicy.defaults().start("PUT", T0, 3).bodyReplayable(false);
        assertEquals(RETRY, a.next(CONNECT_FAILURE, 0, false, false, T0), "nothing was sent yet");
        assertEquals(GIVE_UP, a.next(RESET, 0, true, false, T0));
        assertEquals(GiveUpReason.BODY_NOT_REPLAYABLE, a.giveUpReason());
        a.reset("PUT", T0, 3);
        assertEquals(RETRY, a.next(RESET, 0, true, false, T0), "reset makes the body replayable again");
    }

    // ---- tries ----

    @Test
    void triesTwoMakesExactlyTwoAttempts() {
        RetryPolicy p = RetryPolicy.builder().tries(2).build();
        Attempts a = p.start("GET", T0, 5);
        assertEquals(2, a.maxAttempts());
        assertEquals(RETRY, a.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(GIVE_UP, a.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(2, a.attempts());
        assertEquals(GiveUpReason.TRIES_EXHAUSTED, a.giveUpReason());
    }

    @Test
    void triesOneNeverRetries() {
        Attempts a = RetryPolicy.builder().tries(1).build().start("GET", T0, 5);
        assertEquals(GIVE_UP, a.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(GiveUpReason.TRIES_EXHAUSTED, a.giveUpReason());
    }

    @Test
    void unlimitedTriesAreTheUpstreamsDefaultTries() {
        RetryPolicy p = RetryPolicy.defaults();
        for (int defaultTries = 1; defaultTries <= 6; defaultTries++) {
            Attempts a = p.start("GET", T0, defaultTries);
            assertEquals(defaultTries, a.maxAttempts());
            int n = 0;
            Decision d;
            do {
                n++;
                d = a.next(TIMEOUT, 0, true, false, T0);
            } while (d == RETRY);
            assertEquals(defaultTries, n);
            assertEquals(GIVE_UP, d);
        }
    }

    @Test
    void triesNeverExceedTheUpstreamsCount() {
        RetryPolicy p = RetryPolicy.builder().tries(10).build();
        assertEquals(3, p.maxAttempts(3), "nginx: tries = min(proxy_next_upstream_tries, peers)");
        assertEquals(2, RetryPolicy.builder().tries(2).build().maxAttempts(3));
        assertEquals(3, RetryPolicy.defaults().maxAttempts(3));
        assertEquals(0, RetryPolicy.defaults().maxAttempts(0));
        assertThrows(IllegalArgumentException.class, () -> p.maxAttempts(-1));
    }

    @Test
    void noUsableEndpointGivesUpWith502() {
        Attempts a = RetryPolicy.defaults().start("GET", T0, 0);
        assertEquals(GIVE_UP, a.next(CONNECT_FAILURE, 0, false, false, T0));
        assertEquals(GiveUpReason.TRIES_EXHAUSTED, a.giveUpReason());

        Attempts b = RetryPolicy.defaults().start("GET", T0, 3);
        assertEquals(RETRY, b.next(TIMEOUT, 0, true, false, T0));
        assertEquals(502, b.noEndpoint(), "nginx: no live upstreams -> 502, even after a timeout");
        assertEquals(GiveUpReason.NO_ENDPOINT, b.giveUpReason());
        assertEquals(502, b.statusOnGiveUp());
        assertTrue(b.isFinished());
    }

    // ---- time budget ----

    @Test
    void timeBudgetStopsRetriesWithAnInjectedClock() {
        AtomicLong clock = new AtomicLong(T0);
        Ticker ticker = clock::get;
        RetryPolicy p = RetryPolicy.builder().timeout(Duration.ofSeconds(10)).build();
        Attempts a = p.start("GET", ticker.nanos(), 10);

        clock.addAndGet(Duration.ofSeconds(4).toNanos());
        assertEquals(RETRY, a.next(TIMEOUT, 0, true, false, ticker.nanos()));
        clock.addAndGet(Duration.ofMillis(5_999).toNanos());
        assertEquals(RETRY, a.next(TIMEOUT, 0, true, false, ticker.nanos()), "9.999 s < 10 s");
        clock.addAndGet(Duration.ofMillis(1).toNanos());
        assertEquals(GIVE_UP, a.next(TIMEOUT, 0, true, false, ticker.nanos()), "10 s elapsed: nginx uses >=");
        assertEquals(GiveUpReason.TIME_BUDGET, a.giveUpReason());
        assertEquals(504, a.statusOnGiveUp());
        assertEquals(3, a.attempts());
    }

    @Test
    void timeBudgetAlsoStopsStatusRetries() {
        RetryPolicy p = RetryPolicy.builder().conditions("http_502").timeout(Duration.ofMillis(100)).build();
        Attempts a = p.start("GET", T0, 10);
        assertEquals(GIVE_UP, a.next(RESPONSE, 502, true, false, T0 + Duration.ofMillis(100).toNanos()));
        assertEquals(GiveUpReason.TIME_BUDGET, a.giveUpReason());
        assertEquals(502, a.statusOnGiveUp());
    }

    @Test
    void zeroTimeoutMeansNoTimeLimit() {
        Attempts a = RetryPolicy.defaults().start("GET", T0, 3);
        assertEquals(RETRY, a.next(TIMEOUT, 0, true, false, T0 + Duration.ofDays(365).toNanos()));
    }

    @Test
    void timeBudgetIsMeasuredFromTheGivenStartAcrossTickerWrap() {
        long start = Long.MAX_VALUE - 1_000;
        Attempts a = RetryPolicy.builder().timeout(Duration.ofNanos(5_000)).build().start("GET", start, 5);
        assertEquals(RETRY, a.next(TIMEOUT, 0, true, false, start + 4_999)); // wraps to negative
        assertEquals(GIVE_UP, a.next(TIMEOUT, 0, true, false, start + 5_000));
    }

    // ---- failure statuses ----

    @Test
    void failureStatusesAreTheConfiguredFailureHttpConditions() {
        assertEquals(Set.of(), RetryPolicy.defaults().failureStatuses());
        assertEquals(Set.of(), RetryPolicy.off().failureStatuses());
        assertEquals(Set.of(500, 502, 503, 504, 429), RetryPolicy.parse(
                "error timeout invalid_header http_500 http_502 http_503 http_504 http_403 http_404 http_429")
                .failureStatuses());
        assertEquals(Set.of(503), RetryPolicy.parse("error http_503 http_404").failureStatuses());
        assertEquals(Set.of(), RetryPolicy.parse("http_403 http_404 non_idempotent").failureStatuses());
        assertEquals(Set.of(429), RetryPolicy.parse("http_429").failureStatuses());
        assertThrows(UnsupportedOperationException.class,
                () -> RetryPolicy.parse("http_500").failureStatuses().add(404));
    }

    @Test
    void outcomeToConditionMapping() {
        assertEquals(RetryCondition.ERROR, RetryCondition.of(CONNECT_FAILURE, 0));
        assertEquals(RetryCondition.ERROR, RetryCondition.of(RESET, 0));
        assertEquals(RetryCondition.TIMEOUT, RetryCondition.of(TIMEOUT, 0));
        assertEquals(RetryCondition.INVALID_HEADER, RetryCondition.of(INVALID_RESPONSE, 0));
        assertEquals(RetryCondition.HTTP_429, RetryCondition.of(RESPONSE, 429));
        assertEquals(null, RetryCondition.of(RESPONSE, 501));
        assertEquals(null, RetryCondition.of(RESPONSE, 200));
        assertEquals(null, RetryCondition.of(CANCELLED, 0));
        assertTrue(RetryCondition.ERROR.isFailure());
        assertFalse(RetryCondition.HTTP_404.isFailure());
        assertFalse(RetryCondition.HTTP_403.isFailure());
        assertFalse(RetryCondition.NON_IDEMPOTENT.isFailure());
    }

    // ---- state object ----

    @Test
    void attemptsAreReusableAndRefuseUseAfterTheEnd() {
        RetryPolicy p = RetryPolicy.defaults();
        Attempts a = p.start("POST", T0, 2);
        assertEquals(GIVE_UP, a.next(RESET, 0, true, false, T0));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> a.next(RESET, 0, true, false, T0));
        assertTrue(e.getMessage().contains("reset()"), e.getMessage());

        assertSame(a, a.reset("GET", T0 + 1, 4));
        assertEquals(0, a.attempts());
        assertEquals(4, a.maxAttempts());
        assertFalse(a.isFinished());
        assertFalse(a.isNonIdempotent());
        assertEquals(GiveUpReason.NONE, a.giveUpReason());
        assertEquals(null, a.lastOutcome());
        assertEquals(RETRY, a.next(RESET, 0, true, false, T0));
        assertSame(p, a.policy());
    }

    @Test
    void startValidatesArguments() {
        RetryPolicy p = RetryPolicy.defaults();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.start("GET", T0, -1));
        assertTrue(e.getMessage().contains("defaultTries") && e.getMessage().contains("-1"), e.getMessage());
        assertThrows(NullPointerException.class, () -> p.start(null, T0, 1));
    }

    @Test
    void nextDoesNotAllocate() {
        RetryPolicy p = RetryPolicy.parse("error timeout http_503");
        Attempts a = p.start("GET", T0, 3);
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        if (!(mx instanceof com.sun.management.ThreadMXBean sun) || !sun.isThreadAllocatedMemorySupported()) {
            return;
        }
        long tid = Thread.currentThread().getId();
        for (int i = 0; i < 20_000; i++) { // warm up
            a.reset("GET", T0, 3);
            a.next(RESPONSE, 503, true, false, T0);
            a.next(TIMEOUT, 0, true, false, T0);
            a.next(RESPONSE, 200, true, false, T0);
        }
        long before = sun.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 100_000; i++) {
            a.reset("GET", T0, 3);
            a.next(RESPONSE, 503, true, false, T0);
            a.next(TIMEOUT, 0, true, false, T0);
            a.next(RESPONSE, 200, true, false, T0);
        }
        long allocated = sun.getThreadAllocatedBytes(tid) - before;
        assertTrue(allocated < 100_000, "allocated " + allocated + " bytes for 100k requests");
    }
}
