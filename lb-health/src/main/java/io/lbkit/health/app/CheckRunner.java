package io.lbkit.health.app;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.lbkit.core.Ticker;

/**
 * Runs one named check: at most one run at a time (callers during a run share it), an optional
 * result cache, and a per-caller timeout that never waits for a hung run.
 */
final class CheckRunner {

    /** One finished run. */
    private record Run(Health health, long durationNanos, long finishedAt) {
    }

    private final NamedCheck spec;
    private final ExecutorService executor;
    private final Ticker ticker;
    private final long cacheTtlNanos;
    private final AtomicReference<CompletableFuture<Run>> inFlight = new AtomicReference<>();
    private volatile Future<?> task;
    private volatile Run last;

    CheckRunner(NamedCheck spec, ExecutorService executor, Ticker ticker, Duration cacheTtl) {
        this.spec = spec;
        this.executor = executor;
        this.ticker = ticker;
        this.cacheTtlNanos = cacheTtl.toNanos();
    }

    NamedCheck spec() {
        return spec;
    }

    CompletableFuture<ComponentHealth> evaluate() {
        Run cached = last;
        if (cached != null && cacheTtlNanos > 0 && ticker.nanos() - cached.finishedAt() < cacheTtlNanos) {
            return CompletableFuture.completedFuture(component(cached, true));
        }
        CompletableFuture<Run> run = join();
        long timeoutMillis = spec.timeout().toMillis();
        CompletableFuture<ComponentHealth> view = run.thenApply(r -> component(r, false));
        if (!view.isDone()) {
            view.completeOnTimeout(null, timeoutMillis, TimeUnit.MILLISECONDS);
            view = view.thenApply(c -> {
                if (c != null) {
                    return c;
                }
                interruptOnce(run);
                return new ComponentHealth(spec.name(), Status.DOWN, "timed out after " + timeoutMillis + " ms",
                        spec.timeout(), spec.kind(), spec.critical(), false);
            });
        }
        return view;
    }

    /** The run in flight, or a new one. */
    private CompletableFuture<Run> join() {
        while (true) {
            CompletableFuture<Run> current = inFlight.get();
            if (current != null) {
                return current;
            }
            CompletableFuture<Run> mine = new CompletableFuture<>();
            if (inFlight.compareAndSet(null, mine)) {
                start(mine);
                return mine;
            }
        }
    }

    private void start(CompletableFuture<Run> mine) {
        try {
            task = executor.submit(() -> execute(mine));
        } catch (RejectedExecutionException e) {
            finish(mine, Health.down("not run: executor rejected it"), 0);
        }
    }

    private void execute(CompletableFuture<Run> mine) {
        long start = ticker.nanos();
        Health h;
        try {
            h = spec.check().check();
            if (h == null) {
                h = Health.down("check returned null");
            }
        } catch (InterruptedException e) {
            h = Health.down("interrupted");
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            h = Health.down(describe(e));
        }
        finish(mine, h, ticker.nanos() - start);
    }

    private void finish(CompletableFuture<Run> mine, Health h, long durationNanos) {
        Run r = new Run(h, Math.max(0, durationNanos), ticker.nanos());
        last = r;
        inFlight.compareAndSet(mine, null);
        mine.complete(r);
    }

    private void interruptOnce(CompletableFuture<Run> run) {
        Future<?> t = task;
        if (t != null && inFlight.get() == run && !t.isDone()) {
            t.cancel(true);
        }
    }

    private ComponentHealth component(Run r, boolean cached) {
        return new ComponentHealth(spec.name(), r.health().status(), r.health().detail(),
                Duration.ofNanos(r.durationNanos()), spec.kind(), spec.critical(), cached);
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        String text = e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
        return text.length() > 200 ? text.substring(0, 200) : text;
    }
}
