package io.lbkit.health;

import io.lbkit.core.Ticker;
import io.lbkit.core.Upstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The waits a {@link HealthMonitor} offers on its endpoints: until one has no request in flight
 * ({@link HealthMonitor#awaitIdle}), until a number of passing active checks in a row arrive
 * ({@link HealthMonitor#awaitPasses}, for rolling deployments). Deadlines read the monitor's
 * ticker and are polled on its thread every {@code pollInterval}; the pass counts live in the
 * monitor's serialized context, which calls {@link #checkResult} and {@link #endpointRemoved}.
 */
final class HealthWaits {

    private final Upstream upstream;
    private final Ticker ticker;
    private final Duration pollInterval;
    private final ScheduledExecutorService scheduler;
    private final SerialContext context;
    /** Context-only: waiters for passing active checks. */
    private final Map<String, List<PassWaiter>> passWaiters = new HashMap<>();

    HealthWaits(Upstream upstream, Ticker ticker, Duration pollInterval, ScheduledExecutorService scheduler,
                SerialContext context) {
        this.upstream = upstream;
        this.ticker = ticker;
        this.pollInterval = pollInterval;
        this.scheduler = scheduler;
        this.context = context;
    }

    /** See {@link HealthMonitor#awaitIdle}. */
    CompletableFuture<Boolean> awaitIdle(String id, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        long deadline = ticker.nanos() + timeout.toNanos();
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> {
            Optional<Upstream.EndpointStatus> s = upstream.status(id);
            if (s.isEmpty()) {
                f.complete(false);
            } else if (s.get().inFlight() == 0) {
                f.complete(true);
            } else if (ticker.nanos() - deadline >= 0) {
                f.complete(false);
            } else {
                schedule(poll[0], f);
            }
        };
        poll[0].run();
        return f;
    }

    private void schedule(Runnable r, CompletableFuture<?> f) {
        try {
            scheduler.schedule(r, pollInterval.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            f.completeExceptionally(new IllegalStateException("health monitor of '" + upstream.name() + "' is closed"));
        }
    }

    /** See {@link HealthMonitor#awaitPasses}. */
    CompletableFuture<Boolean> awaitPasses(String id, int required, Duration timeout) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        PassWaiter w = new PassWaiter(required, f);
        context.executeAndWait(() -> passWaiters.computeIfAbsent(id, k -> new ArrayList<>()).add(w));
        long deadline = ticker.nanos() + timeout.toNanos();
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> {
            if (f.isDone()) {
                return;
            }
            if (ticker.nanos() - deadline >= 0) {
                f.complete(false);
            } else {
                schedule(poll[0], f);
            }
        };
        schedule(poll[0], f);
        f.whenComplete((v, e) -> context.execute(() -> {
            List<PassWaiter> ws = passWaiters.get(id);
            if (ws != null) {
                ws.remove(w);
                if (ws.isEmpty()) {
                    passWaiters.remove(id);
                }
            }
        }));
        return f;
    }

    /** An active check result for the endpoint (context only): a pass counts, a failure starts the count again. */
    void checkResult(String id, boolean passed) {
        List<PassWaiter> ws = passWaiters.get(id);
        if (ws != null) {
            for (PassWaiter w : ws) {
                w.passes = passed ? w.passes + 1 : 0;
                if (w.passes >= w.required) {
                    w.future.complete(true);
                }
            }
            ws.removeIf(w -> w.future.isDone());
        }
    }

    /** The endpoint left the upstream (context only): its pass waits complete with false. */
    void endpointRemoved(String id) {
        List<PassWaiter> ws = passWaiters.remove(id);
        if (ws != null) {
            ws.forEach(w -> w.future.complete(false));
        }
    }

    /** Waits for passing checks. */
    private static final class PassWaiter {
        final int required;
        final CompletableFuture<Boolean> future;
        int passes;

        PassWaiter(int required, CompletableFuture<Boolean> future) {
            this.required = required;
            this.future = future;
        }
    }
}
