package io.lbkit.core.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Outcome;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Ticker;
import io.lbkit.core.Upstream;
import io.lbkit.core.retry.RetryPolicy.Attempts;
import io.lbkit.core.retry.RetryPolicy.Decision;
import io.lbkit.core.retry.RetryPolicy.GiveUpReason;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Drives a real round-robin {@link Upstream} through the retry loop a proxy would run. */
class RetryUpstreamTest {

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final Ticker ticker = clock::get;

    /** What a fake endpoint does with a request. */
    private record Result(Outcome outcome, int status, boolean requestSent) {
        static final Result OK = new Result(Outcome.RESPONSE, 200, true);
        static final Result REFUSED = new Result(Outcome.CONNECT_FAILURE, 0, false);
        static Result status(int s) {
            return new Result(Outcome.RESPONSE, s, true);
        }
    }

    private Upstream upstream(RetryPolicy policy, int n) {
        Upstream.Builder b = Upstream.builder("u").ticker(ticker).failureStatuses(policy.failureStatuses());
        for (int i = 0; i < n; i++) {
            b.endpoint(Endpoint.builder("e" + i).port(8080 + i).build());
        }
        return b.build();
    }

    /** The proxy loop; returns the status sent to the client and records the endpoints tried. */
    private int proxy(Upstream u, String method, Function<String, Result> behaviour, List<String> visited,
                      Attempts attempts) {
        PickRequest req = PickRequest.create();
        attempts.reset(method, ticker.nanos(), u.defaultTries());
        for (;;) {
            Selection s = u.pick(req);
            if (!s.found()) {
                return attempts.noEndpoint();
            }
            String id = s.endpoint().id();
            visited.add(id);
            Result r = behaviour.apply(id);
            s.complete(r.outcome(), r.status(), 1_000_000);
            req.markTried(s);
            Decision d = attempts.next(r.outcome(), r.status(), r.requestSent(), false, ticker.nanos());
            if (d == Decision.RETRY) {
                continue;
            }
            return d == Decision.DONE ? r.status() : attempts.statusOnGiveUp();
        }
    }

    private int proxy(Upstream u, RetryPolicy policy, String method, Function<String, Result> behaviour,
                      List<String> visited) {
        return proxy(u, method, behaviour, visited, policy.start(method, ticker.nanos(), u.defaultTries()));
    }

    @Test
    void connectFailureMovesToAnotherEndpointNeverATriedOne() {
        RetryPolicy policy = RetryPolicy.defaults();
        Upstream u = upstream(policy, 3);
        assertEquals(3, u.defaultTries());

        PickRequest req = PickRequest.create();
        Attempts attempts = policy.start("GET", ticker.nanos(), u.defaultTries());

        Selection first = u.pick(req);
        assertEquals("e0", first.endpoint().id());
        first.complete(Outcome.CONNECT_FAILURE, 0, 1_000);
        req.markTried(first);
        assertEquals(1, req.triedCount());
        assertEquals(Decision.RETRY, attempts.next(Outcome.CONNECT_FAILURE, 0, false, false, ticker.nanos()));

        Selection second = u.pick(req);
        assertTrue(second.found());
        assertNotEquals("e0", second.endpoint().id());
        second.complete(Outcome.RESPONSE, 200, 1_000);
        assertEquals(Decision.DONE, attempts.next(Outcome.RESPONSE, 200, true, false, ticker.nanos()));
        assertEquals(2, attempts.attempts());
    }

    @Test
    void everyEndpointFailingVisitsEachOnceThenGivesUp() {
        RetryPolicy policy = RetryPolicy.defaults();
        for (int round = 0; round < 6; round++) { // different round-robin starting points
            Upstream u = upstream(policy, 3);
            for (int skip = 0; skip < round; skip++) {
                Selection s = u.pick();
                s.complete(200, 0);
            }
            List<String> visited = new ArrayList<>();
            int status = proxy(u, policy, "GET", id -> Result.REFUSED, visited);
            assertEquals(502, status);
            assertEquals(3, visited.size(), visited.toString());
            assertEquals(3, new HashSet<>(visited).size(), "no endpoint twice: " + visited);
        }
    }

    @Test
    void retryReachesTheHealthyEndpointWhereverItIs() {
        RetryPolicy policy = RetryPolicy.defaults();
        for (String healthy : new String[] {"e0", "e1", "e2"}) {
            Upstream u = upstream(policy, 3);
            List<String> visited = new ArrayList<>();
            int status = proxy(u, policy, "GET", id -> id.equals(healthy) ? Result.OK : Result.REFUSED, visited);
            assertEquals(200, status);
            assertEquals(healthy, visited.get(visited.size() - 1));
            assertEquals(visited.size(), new HashSet<>(visited).size());
        }
    }

    @Test
    void triesCapTheLoop() {
        RetryPolicy policy = RetryPolicy.builder().tries(2).build();
        Upstream u = upstream(policy, 3);
        List<String> visited = new ArrayList<>();
        Attempts attempts = policy.start("GET", ticker.nanos(), u.defaultTries());
        assertEquals(502, proxy(u, "GET", id -> Result.REFUSED, visited, attempts));
        assertEquals(2, visited.size());
        assertEquals(GiveUpReason.TRIES_EXHAUSTED, attempts.giveUpReason());
    }

    @Test
    void downEndpointsDoNotCountAsTries() {
        RetryPolicy policy = RetryPolicy.defaults();
        Upstream u = upstream(policy, 3);
        u.setState("e1", EndpointState.DOWN);
        assertEquals(2, u.defaultTries());
        List<String> visited = new ArrayList<>();
        assertEquals(502, proxy(u, policy, "GET", id -> Result.REFUSED, visited));
        assertEquals(List.of("e0", "e2"), visited);
    }

    @Test
    void allEndpointsTriedBeforeTriesRunOutGives502NoLiveUpstreams() {
        RetryPolicy policy = RetryPolicy.defaults();
        PickRequest req = PickRequest.create();
        Attempts a = policy.start("GET", ticker.nanos(), 10);
        Upstream v = upstream(policy, 2);
        Selection s;
        int picks = 0;
        while ((s = v.pick(req)).found()) {
            picks++;
            s.complete(Outcome.TIMEOUT, 0, 0);
            req.markTried(s);
            assertEquals(Decision.RETRY, a.next(Outcome.TIMEOUT, 0, true, false, ticker.nanos()));
        }
        assertEquals(2, picks);
        assertEquals(Selection.NoEndpointReason.ALL_TRIED, s.reason());
        assertEquals(502, a.noEndpoint(), "nginx: no live upstreams is 502 even after timeouts");
        assertEquals(GiveUpReason.NO_ENDPOINT, a.giveUpReason());
    }

    @Test
    void postSentIsNotRetriedButPostRefusedIs() {
        RetryPolicy policy = RetryPolicy.defaults();
        Upstream u = upstream(policy, 3);
        List<String> visited = new ArrayList<>();
        assertEquals(502, proxy(u, policy, "POST", id -> new Result(Outcome.RESET, 0, true), visited));
        assertEquals(1, visited.size());

        visited.clear();
        Upstream v = upstream(policy, 3);
        assertEquals(200, proxy(v, policy, "POST", id -> id.equals("e0") ? Result.REFUSED : Result.OK, visited));
        assertEquals(List.of("e0", "e1"), visited);
    }

    @Test
    void http503RetriedAndPassedThroughAtTheEnd() {
        RetryPolicy policy = RetryPolicy.parse("error timeout http_503");
        Upstream u = upstream(policy, 3);
        List<String> visited = new ArrayList<>();
        assertEquals(503, proxy(u, policy, "GET", id -> Result.status(503), visited));
        assertEquals(3, new HashSet<>(visited).size());

        visited.clear();
        Upstream v = upstream(policy, 3);
        Map<String, Result> results = Map.of("e0", Result.status(503), "e1", Result.status(404), "e2", Result.OK);
        assertEquals(404, proxy(v, policy, "GET", results::get, visited), "404 is not a condition: it is the response");
        assertEquals(List.of("e0", "e1"), visited);
    }

    @Test
    void failureStatusesFeedPassiveHealth() {
        // http_503 configured: a 503 counts toward max_fails (1), so e0 becomes unavailable
        RetryPolicy with503 = RetryPolicy.parse("error timeout http_503");
        assertEquals(Set.of(503), with503.failureStatuses());
        Upstream u = upstream(with503, 3);
        Selection s = u.pick();
        assertEquals("e0", s.endpoint().id());
        s.complete(503, 0);
        assertFalse(u.status("e0").orElseThrow().available());

        // default policy: a 503 is just a response and e0 stays available
        Upstream v = upstream(RetryPolicy.defaults(), 3);
        Selection t = v.pick();
        t.complete(503, 0);
        assertTrue(v.status(t.endpoint().id()).orElseThrow().available());
    }
}
