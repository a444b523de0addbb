package io.lbkit.health;

import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checking for many endpoints: one scheduler thread starts non-blocking HTTP or TCP
 * probes, completions come back on the probe clients' threads, rise/fall counting is applied per
 * endpoint and every result is delivered to the {@link CheckListener}s as a {@link CheckResult}.
 *
 * <pre>{@code
 * ActiveChecker checker = ActiveChecker.builder()
 *         .check(ActiveCheck.builder().http(HttpCheck.get("/health/ready")).build())
 *         .listener(result -> ...)
 *         .build();
 * checker.watch(upstream);   // all its endpoints, kept in sync
 * checker.start();
 * ...
 * checker.close();
 * }</pre>
 *
 * <p>Endpoints are keyed by {@link Endpoint#id()}; ids must be unique within one checker. A probe that
 * hangs, answers garbage or resets the connection is a failed probe after at most the check's timeout;
 * it never delays other probes. Each endpoint has at most one scheduled probe in flight; the next one
 * is scheduled when it completes. Results of one endpoint reach listeners one at a time, in order.
 */
public final class ActiveChecker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ActiveChecker.class);
    /** Extra time after a probe's own timeout before the checker gives up on it (safety net). */
    private static final long GUARD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ActiveCheck defaultCheck;
    private final Duration syncInterval;
    private final int httpThreads;
    private final Map<String, Target> targets = new ConcurrentHashMap<>();
    private final List<CheckListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<Upstream, ActiveCheck> upstreams = new ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor scheduler;
    private final Object lifecycle = new Object();
    /** Serializes upstream syncs (see {@link #sync(Upstream, ActiveCheck)}). */
    private final Object syncLock = new Object();
    private volatile boolean started;
    private volatile boolean closed;
    private HttpProber http;
    private TcpProber tcp;

    private ActiveChecker(Builder b) {
        this.defaultCheck = b.check;
        this.syncInterval = b.syncInterval;
        this.httpThreads = b.httpThreads;
        this.listeners.addAll(b.listeners);
        AtomicInteger n = new AtomicInteger();
        this.scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "lbkit-health-scheduler" + (n.incrementAndGet() > 1 ? "-" + n.get() : ""));
            t.setDaemon(true);
            return t;
        });
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** A builder; the default check is {@link ActiveCheck#defaults()} (TCP connect, inter 2 s, rise 2, fall 3). */
    public static Builder builder() {
        return new Builder();
    }

    /** The check used by {@link #watch(Endpoint)} and {@link #watch(Upstream)}. */
    public ActiveCheck defaultCheck() {
        return defaultCheck;
    }

    /** Starts the probe clients and the schedule of every watched endpoint. Idempotent. */
    public void start() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("ActiveChecker is closed");
            }
            if (started) {
                return;
            }
            try {
                HttpProber h = new HttpProber(httpThreads);
                h.start();
                http = h;
                tcp = new TcpProber(scheduler);
            } catch (Exception e) {
                if (http != null) {
                    http.stop();
                }
                throw new IllegalStateException("cannot start the active checker: " + e, e);
            }
            started = true;
        }
        scheduler.scheduleWithFixedDelay(this::syncQuietly, 0, syncInterval.toNanos(), TimeUnit.NANOSECONDS);
        for (Target t : targets.values()) {
            scheduleFirst(t);
        }
        LOG.info("active checker started: {} endpoints, default {}", targets.size(), defaultCheck);
    }

    /** Stops all probes and releases threads and connections. Pending {@link #checkNow} futures complete as failed probes. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (Target t : targets.values()) {
            t.cancel();
        }
        scheduler.shutdownNow();
        if (http != null) {
            http.stop();
        }
        if (tcp != null) {
            tcp.stop();
        }
    }

    /** Adds a listener for every subsequent result. */
    public void addListener(CheckListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Removes a listener. */
    public boolean removeListener(CheckListener listener) {
        return listeners.remove(listener);
    }

    /** Watches an endpoint with the default check. */
    public void watch(Endpoint endpoint) {
        watch(endpoint, defaultCheck);
    }

    /**
     * Watches an endpoint with the given check. Watching an id again replaces its target: the view
     * starts over from the check's initial state unless endpoint and check are unchanged (then nothing happens).
     */
    public void watch(Endpoint endpoint, ActiveCheck check) {
        watch(endpoint, check, null);
    }

    private void watch(Endpoint endpoint, ActiveCheck check, Upstream source) {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(check, "check");
        if (closed) {
            throw new IllegalStateException("ActiveChecker is closed");
        }
        if (port(endpoint, check) == 0) {
            throw new IllegalArgumentException("endpoint '" + endpoint.id() + "': port must be 1..65535 to be probed, got 0");
        }
        Target fresh = new Target(endpoint, check, source);
        Target previous = targets.get(endpoint.id());
        if (previous != null && previous.endpoint.host().equals(endpoint.host())
                && previous.endpoint.port() == endpoint.port() && previous.check == check) {
            return;
        }
        previous = targets.put(endpoint.id(), fresh);
        if (previous != null) {
            previous.cancel();
        }
        if (started) {
            scheduleFirst(fresh);
        }
    }

    /** Stops watching an endpoint; its results are no longer delivered. */
    public boolean unwatch(String endpointId) {
        Target t = targets.remove(endpointId);
        if (t == null) {
            return false;
        }
        t.cancel();
        return true;
    }

    /**
     * Watches every current endpoint of an upstream with the default check, and keeps the set in sync
     * (added endpoints are watched, removed ones unwatched, an endpoint whose host or port changed starts
     * over) every {@code syncInterval} and on {@link #sync()}.
     */
    public void watch(Upstream upstream) {
        watch(upstream, defaultCheck);
    }

    /** Like {@link #watch(Upstream)} with the given check. */
    public void watch(Upstream upstream, ActiveCheck check) {
        upstreams.put(Objects.requireNonNull(upstream, "upstream"), Objects.requireNonNull(check, "check"));
        sync(upstream, check);
    }

    /** Stops watching an upstream and every endpoint watched through it. */
    public void unwatch(Upstream upstream) {
        upstreams.remove(upstream);
        targets.values().removeIf(t -> {
            if (t.source == upstream) {
                t.cancel();
                return true;
            }
            return false;
        });
    }

    /** Brings the watched endpoints of every watched upstream in line with its current membership now. */
    public void sync() {
        upstreams.forEach(this::sync);
    }

    private void sync(Upstream upstream, ActiveCheck check) {
        // one sync at a time: the scheduler's periodic sync and a caller's must not interleave, or
        // one applying an older membership snapshot would unwatch what the other just watched
        synchronized (syncLock) {
            syncLocked(upstream, check);
        }
    }

    private void syncLocked(Upstream upstream, ActiveCheck check) {
        Set<String> current = new HashSet<>();
        for (Endpoint e : upstream.endpoints()) {
            current.add(e.id());
            Target t = targets.get(e.id());
            if (t == null || t.source == upstream) {
                if (e.port() != 0 || check.port() != 0) {
                    watch(e, check, upstream);
                }
            }
        }
        for (Target t : targets.values()) {
            if (t.source == upstream && !current.contains(t.endpoint.id())) {
                if (targets.remove(t.endpoint.id(), t)) {
                    t.cancel();
                }
            }
        }
    }

    private void syncQuietly() {
        try {
            sync();
        } catch (Throwable e) {
            LOG.warn("upstream sync failed: {}", e.toString());
        }
    }

    /** The current view of one endpoint, if watched. */
    public Optional<State> state(String endpointId) {
        Target t = targets.get(endpointId);
        return t == null ? Optional.empty() : Optional.of(t.view());
    }

    /** The current view of every watched endpoint, by id (sorted by id). */
    public Map<String, State> snapshot() {
        Map<String, State> out = new LinkedHashMap<>();
        targets.keySet().stream().sorted().forEach(id -> {
            Target t = targets.get(id);
            if (t != null) {
                out.put(id, t.view());
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /**
     * Probes one endpoint now, outside its schedule. The result counts toward rise/fall and is delivered
     * to listeners like any other. Fails with {@link IllegalArgumentException} for an unknown id and
     * {@link IllegalStateException} before {@link #start()} or after {@link #close()}.
     */
    public CompletableFuture<CheckResult> checkNow(String endpointId) {
        Target t = targets.get(endpointId);
        if (t == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("no watched endpoint '" + endpointId + "'"));
        }
        if (!started || closed) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    closed ? "ActiveChecker is closed" : "ActiveChecker is not started"));
        }
        return probe(t);
    }

    // ---- scheduling -------------------------------------------------------------------------

    private void scheduleFirst(Target t) {
        schedule(t, t.check.firstDelayNanos(ThreadLocalRandom.current().nextDouble()));
    }

    private void schedule(Target t, long delayNanos) {
        if (closed || t.removed) {
            return;
        }
        try {
            t.next = scheduler.schedule(() -> runScheduled(t), delayNanos, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            if (!closed) {
                LOG.warn("cannot schedule probe of {}: {}", t.endpoint.id(), e.toString());
            }
        }
    }

    private void runScheduled(Target t) {
        if (closed || t.removed) {
            return;
        }
        CompletableFuture<CheckResult> f;
        try {
            f = probe(t);
        } catch (Throwable e) {
            // probe() catches everything itself; this only keeps the schedule alive
            LOG.warn("probe of {} failed to start: {}", t.endpoint.id(), e.toString());
            schedule(t, t.check.interval().toNanos());
            return;
        }
        f.whenComplete((r, e) -> schedule(t, t.check.nextDelayNanos(t.state, ThreadLocalRandom.current().nextDouble())));
    }

    private CompletableFuture<CheckResult> probe(Target t) {
        long start = System.nanoTime();
        ActiveCheck check = t.check;
        long timeoutMillis = check.timeout().toMillis();
        int port = port(t.endpoint, check);
        CompletableFuture<ProbeOutcome> outcome;
        try {
            ProbeSpec spec = check.probe();
            if (spec instanceof HttpCheck h) {
                outcome = http.probe(t.endpoint.host(), port, h, timeoutMillis);
            } else {
                outcome = tcp.probe(t.endpoint.host(), port, (TcpCheck) spec, timeoutMillis);
            }
        } catch (Throwable e) {
            outcome = CompletableFuture.completedFuture(ProbeOutcome.failure(e, timeoutMillis));
        }
        if (!outcome.isDone()) {
            // safety net: whatever the client does, a probe ends shortly after its timeout
            CompletableFuture<ProbeOutcome> watched = outcome;
            try {
                ScheduledFuture<?> guard = scheduler.schedule(
                        () -> watched.complete(ProbeOutcome.timeout(timeoutMillis)),
                        check.timeout().toNanos() + GUARD_NANOS, TimeUnit.NANOSECONDS);
                watched.whenComplete((o, e) -> guard.cancel(false));
            } catch (RuntimeException e) {
                watched.complete(ProbeOutcome.failure(e, timeoutMillis)); // scheduler shut down
            }
        }
        return outcome.handle((o, e) -> {
            ProbeOutcome result = o != null ? o : ProbeOutcome.failure(e, timeoutMillis);
            return record(t, result, System.nanoTime() - start);
        });
    }

    private CheckResult record(Target t, ProbeOutcome o, long durationNanos) {
        synchronized (t) { // per-endpoint: results of one endpoint are counted and delivered in order
            RiseFall before = t.state;
            RiseFall after = before.apply(o.passed(), t.check.rise(), t.check.fall());
            t.state = after;
            CheckResult r = new CheckResult(t.endpoint.id(), o.passed(), o.status(), o.detail(), durationNanos,
                    after.healthy(), after.healthy() != before.healthy(), after.passes(), after.failures());
            t.last = r;
            if (t.removed || closed) {
                return r;
            }
            if (r.changed()) {
                LOG.info("endpoint {} is now {} by active check ({})", r.endpointId(), r.healthy() ? "UP" : "DOWN", r.detail());
            }
            for (CheckListener l : listeners) {
                try {
                    l.onResult(r);
                } catch (Throwable e) {
                    LOG.warn("check listener {} failed on {}: {}", l, r.endpointId(), e.toString());
                }
            }
            return r;
        }
    }

    private static int port(Endpoint e, ActiveCheck c) {
        return c.port() != 0 ? c.port() : e.port();
    }

    /** One watched endpoint. */
    private static final class Target {
        final Endpoint endpoint;
        final ActiveCheck check;
        final Upstream source;
        volatile RiseFall state;
        volatile CheckResult last;
        volatile ScheduledFuture<?> next;
        volatile boolean removed;

        Target(Endpoint endpoint, ActiveCheck check, Upstream source) {
            this.endpoint = endpoint;
            this.check = check;
            this.source = source;
            this.state = RiseFall.initial(check.initialState());
        }

        void cancel() {
            removed = true;
            ScheduledFuture<?> f = next;
            if (f != null) {
                f.cancel(false);
            }
        }

        State view() {
            RiseFall s = state;
            return new State(endpoint, s.healthy(), s.checked(), s.passes(), s.failures(), last);
        }
    }

    /**
     * The active-check view of one endpoint.
     *
     * @param endpoint            the watched endpoint
     * @param healthy             the view after rise/fall (the initial state's view before any probe)
     * @param checked             whether any probe has completed
     * @param consecutivePasses   passes in a row
     * @param consecutiveFailures failures in a row
     * @param lastResult          the last result, or {@code null} before the first probe completes
     */
    public record State(Endpoint endpoint, boolean healthy, boolean checked, int consecutivePasses,
                        int consecutiveFailures, CheckResult lastResult) {
        /** The endpoint's id. */
        public String endpointId() {
            return endpoint.id();
        }
    }

    /** Builder for {@link ActiveChecker}. */
    public static final class Builder {
        private ActiveCheck check = ActiveCheck.defaults();
        private Duration syncInterval = Duration.ofSeconds(1);
        private int httpThreads = 8;
        private final List<CheckListener> listeners = new CopyOnWriteArrayList<>();

        private Builder() {
        }

        /** The default check for watched endpoints and upstreams. */
        public Builder check(ActiveCheck check) {
            this.check = Objects.requireNonNull(check, "check");
            return this;
        }

        /** Adds a listener. */
        public Builder listener(CheckListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** How often watched upstreams are re-synced (default 1 s). */
        public Builder syncInterval(Duration interval) {
            this.syncInterval = Objects.requireNonNull(interval, "syncInterval");
            return this;
        }

        /** Threads of the HTTP client that complete probes and run listeners (default 8, min 4). */
        public Builder httpThreads(int threads) {
            this.httpThreads = threads;
            return this;
        }

        public ActiveChecker build() {
            if (syncInterval.isNegative() || syncInterval.toMillis() < 10) {
                throw new IllegalArgumentException("syncInterval must be >= 10 ms, got " + syncInterval);
            }
            if (httpThreads < 4 || httpThreads > 256) {
                throw new IllegalArgumentException("httpThreads must be 4..256, got " + httpThreads);
            }
            return new ActiveChecker(this);
        }
    }
}
