package io.lbkit.health.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.lbkit.core.Ticker;

import org.junit.jupiter.api.Test;

/** Aggregation, timeouts, exceptions, single flight and caching of application checks. */
class ApplicationHealthTest {

    private static final Instant NOW = Instant.parse("2030-01-02T03:04:05Z");

    /** A ticker moved by hand. */
    static final class ManualTicker implements Ticker {
        final AtomicLong now = new AtomicLong(1_000_000_000L);

        @Override
        public long nanos() {
            return now.get();
        }

        void advance(Duration d) {
            now.addAndGet(d.toNanos());
        }
    }

    /**
     * Checks run on the thread that asks for the report, so a quick check is done before its
     * 500 ms timeout is armed, however loaded the machine: what these tests assert (aggregation,
     * statuses, caching) never depends on a thread being scheduled in time.
     */
    private static ApplicationHealth.Builder builder() {
        return threaded().executor(new CallerRuns());
    }

    /** Checks on the default pool: for the tests of timeouts, interrupts and shared runs. */
    private static ApplicationHealth.Builder threaded() {
        return ApplicationHealth.builder().clock(Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** Runs every task on the submitting thread. */
    private static final class CallerRuns extends java.util.concurrent.AbstractExecutorService {
        private volatile boolean shutdown;

        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }
    }

    private static List<String> lines(HealthReport r) {
        return r.components().stream().map(c -> c.name() + "=" + c.status() + (c.detail().isEmpty() ? "" : " " + c.detail()))
                .toList();
    }

    @Test
    void allUpIsUpEverywhere() {
        try (ApplicationHealth h = builder()
                .readiness("redis", Health::up)
                .liveness("loop", () -> Health.up("ticking"))
                .check(NamedCheck.readiness("both", Health::up).withKind(CheckKind.BOTH))
                .build()) {
            HealthReport live = h.liveness();
            assertEquals(ReportKind.LIVENESS, live.kind());
            assertEquals(Status.UP, live.status());
            assertEquals(200, live.httpStatus());
            assertEquals(List.of("loop=UP ticking", "both=UP"), lines(live));
            assertEquals(NOW, live.checkedAt());
            HealthReport ready = h.readiness();
            assertEquals(List.of("redis=UP", "both=UP"), lines(ready));
            assertTrue(ready.healthy());
            assertEquals(3, h.detailed().components().size());
        }
    }

    @Test
    void criticalDownFailsReadinessButNotLivenessAndDetailedStays200() {
        try (ApplicationHealth h = builder()
                .readiness("redis", () -> Health.down("PING failed"))
                .liveness("loop", Health::up)
                .build()) {
            HealthReport ready = h.readiness();
            assertEquals(Status.DOWN, ready.status());
            assertFalse(ready.healthy());
            assertEquals(503, ready.httpStatus());
            assertEquals(List.of("redis=DOWN PING failed"), lines(ready));
            HealthReport live = h.liveness();
            assertEquals(Status.UP, live.status());
            assertEquals(200, live.httpStatus());
            HealthReport detailed = h.detailed();
            assertEquals(Status.DOWN, detailed.status());
            assertEquals(200, detailed.httpStatus());
            assertEquals(List.of("redis=DOWN PING failed", "loop=UP"), lines(detailed));
        }
    }

    @Test
    void nonCriticalDownAndDegradedOnlyDegrade() {
        try (ApplicationHealth h = builder()
                .readiness("redis", Health::up)
                .check(NamedCheck.readiness("search", () -> Health.down("no index")).withCritical(false))
                .readiness("disk", () -> Health.degraded("92% full"))
                .build()) {
            HealthReport ready = h.readiness();
            assertEquals(Status.DEGRADED, ready.status());
            assertTrue(ready.healthy());
            assertEquals(200, ready.httpStatus());
            assertEquals(List.of("redis=UP", "search=DOWN no index", "disk=DEGRADED 92% full"), lines(ready));
            assertFalse(ready.components().get(1).critical());
        }
    }

    @Test
    void noLivenessChecksMeansAlive() {
        try (ApplicationHealth h = builder().readiness("redis", () -> Health.down("x")).build()) {
            HealthReport live = h.liveness();
            assertEquals(Status.UP, live.status());
            assertTrue(live.components().isEmpty());
            assertEquals(200, live.httpStatus());
        }
    }

    @Test
    void exceptionsAndNullAreDown() {
        try (ApplicationHealth h = builder()
                .readiness("redis", () -> {
                    throw new IllegalStateException("connection refused");
                })
                .readiness("null", () -> null)
                .readiness("ping", HealthCheck.succeeds(() -> "PONG"))
                .readiness("ping-fails", HealthCheck.succeeds(() -> {
                    throw new java.io.IOException();
                }))
                .build()) {
            assertEquals(List.of("redis=DOWN IllegalStateException: connection refused", "null=DOWN check returned null",
                    "ping=UP", "ping-fails=DOWN IOException"), lines(h.readiness()));
        }
    }

    @Test
    void aHungCheckIsDownAfterItsTimeoutAndRunsOnlyOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger interrupts = new AtomicInteger();
        HealthCheck stubborn = () -> {
            runs.incrementAndGet();
            while (true) { // ignores interrupts until released
                try {
                    if (release.await(60, TimeUnit.SECONDS)) {
                        return Health.up("finally");
                    }
                } catch (InterruptedException e) {
                    interrupts.incrementAndGet();
                }
            }
        };
        try (ApplicationHealth h = threaded()
                .check(NamedCheck.readiness("hung", stubborn).withTimeout(Duration.ofMillis(100)))
                .check(NamedCheck.readiness("redis", Health::up).withTimeout(Duration.ofSeconds(30)))
                .build()) {
            try {
                HealthReport first = h.readiness();
                assertEquals(List.of("hung=DOWN timed out after 100 ms", "redis=UP"), lines(first));
                assertEquals(Duration.ofMillis(100), first.components().get(0).duration());
                assertEquals(503, first.httpStatus());
                HealthReport second = h.readiness();
                assertEquals("hung=DOWN timed out after 100 ms", lines(second).get(0));
                assertEquals(1, runs.get(), "a hung check is not started again while it runs");
                // the interrupt is sent when the first report times out; the check's thread counts
                // it when it next runs, which on a loaded machine can be after the second report
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (interrupts.get() == 0 && System.nanoTime() - deadline < 0) {
                    Thread.sleep(1);
                }
                assertEquals(1, interrupts.get(), "interrupted once");
            } finally {
                release.countDown();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            HealthReport after;
            do {
                after = h.readiness();
            } while (after.status() != Status.UP && System.nanoTime() < deadline);
            assertEquals(Status.UP, after.status()); // the released run, or a fresh one after it
            assertTrue(runs.get() <= 2, "runs " + runs.get());
        }
    }

    @Test
    void concurrentReportsShareOneRun() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        try (ApplicationHealth h = threaded()
                .check(NamedCheck.readiness("redis", () -> {
                    runs.incrementAndGet();
                    started.countDown();
                    release.await(30, TimeUnit.SECONDS);
                    return Health.up();
                }).withTimeout(Duration.ofSeconds(30)))
                .build()) {
            CompletableFuture<HealthReport> a = h.readinessAsync();
            assertTrue(started.await(30, TimeUnit.SECONDS));
            CompletableFuture<HealthReport> b = h.readinessAsync();
            CompletableFuture<HealthReport> c = h.detailedAsync();
            release.countDown();
            assertEquals(Status.UP, a.get(30, TimeUnit.SECONDS).status());
            assertEquals(Status.UP, b.get(30, TimeUnit.SECONDS).status());
            assertEquals(Status.UP, c.get(30, TimeUnit.SECONDS).status());
            assertEquals(1, runs.get());
        }
    }

    @Test
    void resultsAreCachedForTheTtlAndDurationsUseTheTicker() {
        ManualTicker ticker = new ManualTicker();
        AtomicInteger runs = new AtomicInteger();
        try (ApplicationHealth h = builder().ticker(ticker).cacheTtl(Duration.ofSeconds(5))
                .readiness("redis", () -> {
                    runs.incrementAndGet();
                    ticker.advance(Duration.ofMillis(42));
                    return Health.up();
                })
                .build()) {
            ComponentHealth first = h.readiness().components().get(0);
            assertEquals(Duration.ofMillis(42), first.duration());
            assertFalse(first.cached());
            ticker.advance(Duration.ofSeconds(4));
            ComponentHealth second = h.readiness().components().get(0);
            assertTrue(second.cached());
            assertEquals(Duration.ofMillis(42), second.duration());
            assertEquals(1, runs.get());
            ticker.advance(Duration.ofSeconds(2));
            assertFalse(h.readiness().components().get(0).cached());
            assertEquals(2, runs.get());
        }
    }

    @Test
    void validation() {
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> ApplicationHealth.builder().readiness("redis", Health::up).liveness("redis", Health::up));
        assertEquals("check name must be unique, got 'redis' twice", dup.getMessage());
        IllegalArgumentException blank = assertThrows(IllegalArgumentException.class,
                () -> NamedCheck.readiness(" ", Health::up));
        assertEquals("name must not be blank, got ' '", blank.getMessage());
        IllegalArgumentException timeout = assertThrows(IllegalArgumentException.class,
                () -> NamedCheck.readiness("redis", Health::up).withTimeout(Duration.ZERO));
        assertEquals("check 'redis': timeout must be 1 ms..5 min, got PT0S", timeout.getMessage());
        IllegalArgumentException ttl = assertThrows(IllegalArgumentException.class,
                () -> ApplicationHealth.builder().cacheTtl(Duration.ofSeconds(-1)).build());
        assertEquals("cacheTtl must be >= 0, got PT-1S", ttl.getMessage());
    }
}
