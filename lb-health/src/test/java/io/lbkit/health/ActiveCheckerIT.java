package io.lbkit.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.health.FlakyBackend.Mode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The scheduler with real backends: isolation of hung probes, scheduled transitions, upstream sync, bad listeners.
 * Probes of answering backends have {@link #ANSWERS}, long enough for a loaded machine, so no result
 * depends on how fast the machine is; only the hanging backend's probes time out, after {@link #HUNG}.
 */
class ActiveCheckerIT {

    private static final Duration ANSWERS = Duration.ofSeconds(20);
    private static final Duration HUNG = Duration.ofSeconds(2);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private FlakyBackend backend() throws Exception {
        FlakyBackend b = new FlakyBackend();
        closeables.add(b);
        return b;
    }

    private ActiveChecker checker(ActiveCheck check, CheckListener listener) {
        ActiveChecker c = ActiveChecker.builder().check(check).listener(listener).syncInterval(Duration.ofMinutes(10)).build();
        closeables.add(c);
        return c;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not reached within 30 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static ActiveCheck fast(ProbeSpec probe) {
        return fast(probe, ANSWERS);
    }

    private static ActiveCheck fast(ProbeSpec probe, Duration timeout) {
        return ActiveCheck.builder().interval(Duration.ofMillis(50)).timeout(timeout).rise(2).fall(3).probe(probe).build();
    }

    @Test
    void hungBackendsDoNotDelayProbesOfAHealthyOne() throws Exception {
        FlakyBackend healthy = backend();
        FlakyBackend hung = backend();
        hung.mode(Mode.HANG);
        List<CheckResult> results = new CopyOnWriteArrayList<>();
        ActiveChecker checker = checker(fast(HttpCheck.get("/")), results::add);
        Endpoint good = Endpoint.of("127.0.0.1", healthy.port());
        checker.watch(good);
        ActiveCheck hangs = fast(HttpCheck.get("/"), HUNG);
        for (int i = 0; i < 20; i++) { // twenty endpoints on the hanging backend
            checker.watch(Endpoint.builder("hung-" + i).host("127.0.0.1").port(hung.port()).build(), hangs);
        }
        checker.start();
        await("two timeouts of hung-0", () -> results.stream().filter(r -> r.endpointId().equals("hung-0")).count() >= 2);

        List<CheckResult> snapshot = List.copyOf(results);
        List<Integer> hung0 = new ArrayList<>();
        hung0.add(0); // the probes of the hanging endpoints start with the checker
        for (int i = 0; i < snapshot.size(); i++) {
            if (snapshot.get(i).endpointId().equals("hung-0")) {
                hung0.add(i);
            }
        }
        // while hung-0's probe waited out its 2 s, the healthy endpoint kept being probed (at 50 ms
        // intervals: far more than 2 results, unless hung probes held up the scheduler)
        for (int k = 1; k < hung0.size(); k++) {
            long goodBetween = snapshot.subList(hung0.get(k - 1), hung0.get(k)).stream()
                    .filter(r -> r.endpointId().equals(good.id())).count();
            assertTrue(goodBetween >= 2, "healthy results during a hung probe: " + goodBetween);
        }
        for (CheckResult r : snapshot) {
            if (r.endpointId().equals(good.id())) {
                assertTrue(r.passed(), r.toString());
            } else {
                assertEquals("timeout after 2000 ms", r.detail());
            }
        }
        assertTrue(checker.state(good.id()).orElseThrow().healthy());
        assertFalse(checker.state("hung-7").orElseThrow().healthy());
    }

    @Test
    void scheduledProbesRiseFallAndRiseAgain() throws Exception {
        FlakyBackend b = backend();
        List<CheckResult> results = new CopyOnWriteArrayList<>();
        ActiveChecker checker = checker(fast(HttpCheck.get("/")), results::add);
        Endpoint e = Endpoint.of("127.0.0.1", b.port());
        checker.watch(e);
        checker.start();
        await("up", () -> checker.state(e.id()).orElseThrow().healthy());
        b.mode(Mode.FAILING);
        await("down", () -> !checker.state(e.id()).orElseThrow().healthy());
        b.mode(Mode.HEALTHY);
        await("up again", () -> checker.state(e.id()).orElseThrow().healthy());
        // the state flips before the listener hears of it: wait (bounded) for the third change
        await("three changes heard", () -> results.stream().filter(CheckResult::changed).count() >= 3);

        List<CheckResult> changes = results.stream().filter(CheckResult::changed).toList();
        assertEquals(List.of(true, false, true), changes.stream().map(CheckResult::healthy).toList());
        assertEquals(2, changes.get(0).consecutivePasses());
        assertEquals(3, changes.get(1).consecutiveFailures());
        assertEquals("status 500 not in 200-399", changes.get(1).detail());
        assertEquals(2, changes.get(2).consecutivePasses());
        // every result in between follows the rise/fall rule: no flip without rise passes or fall failures
        for (CheckResult r : results) {
            if (r.changed()) {
                assertTrue(r.healthy() ? r.consecutivePasses() == 2 : r.consecutiveFailures() == 3, r.toString());
            }
        }
    }

    @Test
    void watchedUpstreamStaysInSync() throws Exception {
        FlakyBackend b = backend();
        Endpoint a = Endpoint.builder("a").host("127.0.0.1").port(b.port()).build();
        Endpoint c = Endpoint.builder("c").host("127.0.0.1").port(b.port()).build();
        Upstream upstream = Upstream.builder("app").endpoint(a).endpoint(c).build();
        List<CheckResult> results = new CopyOnWriteArrayList<>();
        ActiveChecker checker = checker(fast(TcpCheck.connect()), results::add);
        checker.watch(upstream);
        checker.start();
        assertEquals(List.of("a", "c"), List.copyOf(checker.snapshot().keySet()));
        upstream.add(Endpoint.builder("d").host("127.0.0.1").port(b.port()).build());
        upstream.remove("a");
        checker.sync();
        assertEquals(List.of("c", "d"), List.copyOf(checker.snapshot().keySet()));
        await("d probed", () -> results.stream().anyMatch(r -> r.endpointId().equals("d") && r.passed()));
        assertTrue(checker.checkNow("d").get(60, java.util.concurrent.TimeUnit.SECONDS).passed());
        checker.unwatch(upstream);
        assertTrue(checker.snapshot().isEmpty());
    }

    @Test
    void aThrowingListenerDoesNotStopTheScheduler() throws Exception {
        FlakyBackend b = backend();
        AtomicInteger counted = new AtomicInteger();
        ActiveChecker checker = checker(fast(TcpCheck.connect()), r -> {
            throw new IllegalStateException("listener bug");
        });
        checker.addListener(r -> counted.incrementAndGet());
        Endpoint e = Endpoint.of("127.0.0.1", b.port());
        checker.watch(e);
        checker.start();
        await("ten results despite the throwing listener", () -> counted.get() >= 10);
        assertTrue(checker.state(e.id()).orElseThrow().healthy());
        assertTrue(checker.unwatch(e.id()));
        assertFalse(checker.state(e.id()).isPresent());
        assertFalse(checker.unwatch(e.id()));
    }
}
