package io.lbkit.health;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.OutcomeListener;
import io.lbkit.core.Ticker;
import io.lbkit.core.Upstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The health state machine of one {@link Upstream}: joins active checks ({@link CheckListener}),
 * Envoy-style outlier detection (it installs itself as the upstream's {@link OutcomeListener}), and
 * the operator's drain and maintenance into one {@link EndpointHealthState} per endpoint, and drives
 * the balancer only through the upstream's public control plane ({@code setHealthy},
 * {@code setState}, {@code setPanicThresholdPercent}).
 *
 * <pre>{@code
 * Upstream upstream = Upstream.builder("api").endpoints(list).slowStart(SlowStart.of(Duration.ofSeconds(30))).build();
 * HealthMonitor health = HealthMonitor.builder(upstream)
 *         .outlierDetection(OutlierDetection.envoyDefaults())
 *         .listener(event -> metrics.record(event))
 *         .build()
 *         .start();                          // the sweep thread; tests call sweep() instead
 * activeChecker.addListener(health);         // active results (the CheckListener side)
 * health.drain("10.0.0.7:8080");             // operator
 * health.awaitIdle("10.0.0.7:8080", Duration.ofSeconds(30)).join();
 * }</pre>
 *
 * <p><b>Threads.</b> State changes run one at a time on a serialized context (as gRPC's
 * synchronization context); events are published from it, in order. Recording an outcome
 * ({@link #onOutcome}) is lock-free and allocation-free: it bumps per-endpoint counters that it
 * finds through the endpoint's attachment ({@link Upstream#setAttachment}), and only when a
 * consecutive-failure streak reaches its threshold does it hand a task to the context.
 * Before {@link #start()} (and after {@link #close()}) such tasks run on the calling thread, which
 * keeps tests deterministic; after {@code start()} they run on the monitor's thread.
 *
 * <p>Its parts: {@link EndpointTrackers} (the trackers, in line with the upstream's members),
 * {@link HealthStateApplier} (lb-core and the events), {@link HealthWaits} ({@link #awaitIdle}),
 * {@link OutlierEjector} (the outlier rules); this class joins them on the context. It stays a
 * little over 500 lines because its public {@link Builder} (about 70 of them) is nested here: it
 * is part of the API as {@code HealthMonitor.Builder}.
 *
 * <p><b>Time.</b> Ejection times and the ejection back-off decay read the injected {@link Ticker};
 * {@link #sweep()} runs one outlier-detection interval now.
 */
public final class HealthMonitor implements CheckListener, OutcomeListener, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

    private final Upstream upstream;
    private final Ticker ticker;
    private final OutlierDetection od;
    private final boolean odEnabled;
    private final EndpointHealthState initialActive;
    private final SerialContext context = new SerialContext();
    private final ScheduledExecutorService scheduler;
    private final Runnable drainTask;

    /** The endpoints' trackers, in line with the upstream's members. */
    private final EndpointTrackers trackers;
    /** Applies joined states to lb-core and publishes the transitions. */
    private final HealthStateApplier applier;
    /** Waits for an idle endpoint or for passing checks. */
    private final HealthWaits waits;
    /** Outlier statistics and ejection decisions over the trackers. */
    private final OutlierEjector outliers;
    private volatile boolean started;
    private volatile boolean closed;
    private ScheduledFuture<?> sweepFuture;

    private HealthMonitor(Builder b) {
        this.upstream = b.upstream;
        this.ticker = b.ticker;
        this.od = b.outlierDetection;
        this.odEnabled = od.enabled();
        this.initialActive = b.initialState;
        this.applier = new HealthStateApplier(upstream, ticker, b.listeners);
        String threadName = "lbkit-health-" + upstream.name();
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        ex.setRemoveOnCancelPolicy(true);
        ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.scheduler = ex;
        this.drainTask = context::drain;
        this.waits = new HealthWaits(upstream, ticker, b.pollInterval, scheduler, context);
        this.trackers = new EndpointTrackers(this, upstream, initialActive, odEnabled, applier, waits);
        this.outliers = new OutlierEjector(od, ticker, upstream.name(), trackers.ordered(), new EjectorCallbacks());
        upstream.setPanicThresholdPercent(b.panicThresholdPercent);
        context.executeAndWait(trackers::sync);
        upstream.setOutcomeListener(this);
    }

    /** A builder for a monitor of {@code upstream}. */
    public static Builder builder(Upstream upstream) {
        return new Builder(upstream);
    }

    /** The monitored upstream. */
    public Upstream upstream() {
        return upstream;
    }

    /** The outlier detection settings. */
    public OutlierDetection outlierDetection() {
        return od;
    }

    /**
     * Starts the monitor's thread (daemon, named {@code lbkit-health-<upstream>}): it sweeps every
     * {@link OutlierDetection#interval()} and from now on runs the state changes that request and
     * checker threads trigger. Returns this.
     */
    public synchronized HealthMonitor start() {
        if (closed) {
            throw new IllegalStateException("health monitor of '" + upstream.name() + "' is closed");
        }
        if (!started) {
            started = true;
            if (odEnabled) {
                long every = od.interval().toNanos();
                sweepFuture = scheduler.scheduleWithFixedDelay(this::sweepSafely, every, every, TimeUnit.NANOSECONDS);
            }
        }
        return this;
    }

    /**
     * Stops the thread, detaches from the upstream's outcome listener and removes the monitor's
     * endpoint attachments. Endpoint states stay as they are.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        started = false;
        if (sweepFuture != null) {
            sweepFuture.cancel(false);
        }
        scheduler.shutdownNow();
        upstream.setOutcomeListener(null);
        context.executeAndWait(trackers::detachAll);
        context.drain();
    }

    /** Adds a listener of state transitions. */
    public void addListener(HealthEventListener listener) {
        applier.addListener(Objects.requireNonNull(listener, "listener"));
    }

    // =====================================================================================
    // passive: the request path
    // =====================================================================================

    /**
     * Records one completed attempt without the endpoint's attachment: finds the endpoint's
     * counters by id. The upstream calls {@link #onOutcome(Endpoint, Object, Outcome, int, long, boolean)}
     * instead, which needs no lookup.
     */
    @Override
    public void onOutcome(Endpoint endpoint, Outcome outcome, int status, long latencyNanos, boolean failure) {
        onOutcome(endpoint, null, outcome, status, latencyNanos, failure);
    }

    /**
     * Records one completed attempt (called by the upstream). Lock-free and allocation-free: one
     * atomic add for a success, plus one CAS for a 5xx; a consecutive-failure streak that reaches
     * its threshold queues an ejection. {@code attachment} is the endpoint's counters, which the
     * monitor attaches to the upstream's endpoint when it first sees it; without it (an endpoint
     * added to the upstream and not yet synced) the counters are looked up by id.
     */
    @Override
    public void onOutcome(Endpoint endpoint, Object attachment, Outcome outcome, int status, long latencyNanos,
                          boolean failure) {
        if (!odEnabled) {
            return;
        }
        EndpointTracker t;
        if (attachment instanceof EndpointTracker && ((EndpointTracker) attachment).owner == this) {
            t = (EndpointTracker) attachment;
        } else {
            t = trackers.get(endpoint.id());
            if (t == null) {
                return;
            }
        }
        outliers.record(t, outcome, status);
    }

    /** Queues a task for the context: on the monitor's thread once started, else on this thread. */
    private void queue(Runnable task) {
        context.executeLater(task);
        if (started) {
            try {
                scheduler.execute(drainTask);
                return;
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // closed meanwhile: fall through
            }
        }
        context.drain();
    }

    // =====================================================================================
    // active: check results
    // =====================================================================================

    /** Applies one active check result (called on the checker's threads). */
    @Override
    public void onResult(CheckResult result) {
        queue(() -> applyResult(result));
    }

    private void applyResult(CheckResult r) {
        EndpointTracker t = trackers.inContext(r.endpointId());
        if (t == null) {
            return;
        }
        if (r.healthy()) {
            t.active = EndpointHealthState.UP;
        } else if (t.active == EndpointHealthState.CHECKING && r.passed()) {
            t.active = EndpointHealthState.CHECKING; // passing, not yet risen
        } else {
            t.active = EndpointHealthState.UNHEALTHY;
        }
        String reason = "active check " + (r.passed() ? "passed" : "failed") + ": " + r.detail();
        if (r.passed() && r.healthy() && outliers.unejectOnPassingCheck(t)) {
            reason = "active check passed: " + r.detail() + "; ejection ended";
        }
        waits.checkResult(t.id, r.passed());
        applier.apply(t, reason, false); // publishes only when the joined state changed
    }

    // =====================================================================================
    // operator
    // =====================================================================================

    /** Drains the endpoint keeping sticky-bound requests (nginx {@code drain}). */
    public void drain(String id) {
        drain(id, true);
    }

    /**
     * Drains the endpoint: no new requests; with {@code keepSticky}, requests that prefer it
     * ({@code PickRequest.preferred}) still reach it, as nginx's {@code drain}; without, nothing
     * new reaches it. Requests in flight finish normally (see {@link #awaitIdle}). Returns once
     * the balancer applies it.
     */
    public void drain(String id, boolean keepSticky) {
        admin(id, keepSticky ? EndpointTracker.Admin.DRAINING : EndpointTracker.Admin.DRAINING_STRICT,
                keepSticky ? "drained by operator (sticky clients kept)" : "drained by operator");
    }

    /** Maintenance (HAProxy MAINT, nginx {@code down}): no requests at all. Returns once applied. */
    public void maintenance(String id) {
        admin(id, EndpointTracker.Admin.MAINTENANCE, "maintenance by operator");
    }

    /** Ends drain or maintenance: the endpoint serves again as far as its health allows. */
    public void enable(String id) {
        admin(id, EndpointTracker.Admin.ENABLED, "enabled by operator");
    }

    private void admin(String id, EndpointTracker.Admin admin, String reason) {
        requireKnown(id);
        context.executeAndWait(() -> {
            EndpointTracker t = trackers.inContext(id);
            if (t != null && t.admin != admin) {
                t.admin = admin;
                applier.apply(t, reason, false);
            }
        });
    }

    /**
     * Completes with {@code true} once the endpoint has no request in flight, or with
     * {@code false} when {@code timeout} (measured on the monitor's ticker) passes first or the
     * endpoint leaves the upstream. Polls every few milliseconds on the monitor's thread.
     */
    public CompletableFuture<Boolean> awaitIdle(String id, Duration timeout) {
        return waits.awaitIdle(id, timeout);
    }

    /**
     * Completes with {@code true} once {@code required} passing active checks in a row arrive for the
     * endpoint after this call, {@code false} after {@code timeout} (the monitor's ticker).
     */
    CompletableFuture<Boolean> awaitPasses(String id, int required, Duration timeout) {
        return waits.awaitPasses(id, required, timeout);
    }

    /** Puts the endpoint's active view back to CHECKING (a deployment replaced the process). */
    void resetToChecking(String id, String reason) {
        context.executeAndWait(() -> {
            EndpointTracker t = trackers.inContext(id);
            if (t != null) {
                t.active = EndpointHealthState.CHECKING;
                outliers.reset(t);
                applier.apply(t, reason, false);
            }
        });
    }

    /** Readmits a checked endpoint: active view UP, enabled, slow start restarted. */
    void readmit(String id, String reason) {
        context.executeAndWait(() -> {
            EndpointTracker t = trackers.inContext(id);
            if (t != null) {
                t.active = EndpointHealthState.UP;
                t.admin = EndpointTracker.Admin.ENABLED;
                applier.apply(t, reason, true);
            }
        });
    }

    // =====================================================================================
    // membership
    // =====================================================================================

    /**
     * Brings the monitor in line with {@code upstream.endpoints()}: new endpoints start in the
     * configured initial state, removed ones are forgotten (an event with {@code to == null}).
     * Returns once done.
     */
    public void syncMembership() {
        context.executeAndWait(trackers::sync);
    }

    /**
     * Adds {@code endpoint} to the upstream and to the monitor in the configured initial state.
     * With {@link EndpointHealthState#CHECKING} the endpoint enters the upstream already unhealthy
     * ({@link Upstream#add(Endpoint, boolean)}), so no pick reaches it before an active check
     * reports it healthy (outside panic, where unhealthy endpoints serve by design). Returns once
     * the monitor tracks it.
     *
     * @throws IllegalArgumentException when the upstream already has an endpoint with this id
     */
    public void add(Endpoint endpoint) {
        upstream.add(endpoint, initialActive == EndpointHealthState.UP);
        syncMembership();
    }

    /** Removes the endpoint from the upstream and from the monitor; false when there was none. */
    public boolean remove(String id) {
        boolean removed = upstream.remove(id);
        syncMembership();
        return removed;
    }

    // =====================================================================================
    // views
    // =====================================================================================

    /** The joined state of the endpoint, if the monitor knows it. */
    public Optional<EndpointHealthState> state(String id) {
        EndpointTracker t = trackers.get(id);
        return t == null ? Optional.empty() : Optional.of(t.view.state());
    }

    /** A view of the endpoint's health, if the monitor knows it. */
    public Optional<EndpointHealth> health(String id) {
        EndpointTracker t = trackers.get(id);
        return t == null ? Optional.empty() : Optional.of(t.view);
    }

    /** Every endpoint's state, in the upstream's order. */
    public Map<String, EndpointHealthState> states() {
        Map<String, EndpointHealthState> out = new LinkedHashMap<>();
        for (Endpoint e : upstream.endpoints()) {
            EndpointTracker t = trackers.get(e.id());
            if (t != null) {
                out.put(e.id(), t.view.state());
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private void requireKnown(String id) {
        if (trackers.get(id) == null) {
            throw new IllegalArgumentException("upstream '" + upstream.name() + "': no endpoint with id '" + id + "'");
        }
    }

    // =====================================================================================
    // outlier detection: the interval (the rules are in OutlierEjector)
    // =====================================================================================

    /**
     * Runs one outlier-detection interval now: ends ejections whose time has passed, evaluates
     * success rate and failure percentage over the requests since the last sweep, and decays the
     * ejection back-off of endpoints that stayed in. Returns once done.
     */
    public void sweep() {
        context.executeAndWait(this::sweepNow);
    }

    private void sweepSafely() {
        try {
            sweep();
        } catch (RuntimeException e) {
            LOG.error("upstream '{}': outlier sweep failed", upstream.name(), e);
        }
    }

    private void sweepNow() {
        if (odEnabled) {
            outliers.sweep();
        }
    }

    // =====================================================================================
    // the ejector's callbacks (context only)
    // =====================================================================================

    /** The ejector's tasks run on the context; its ejections and unejections go through the applier. */
    private final class EjectorCallbacks implements OutlierEjector.Monitor {
        @Override
        public void runInContext(Runnable task) {
            queue(task);
        }

        @Override
        public void ejectionChanged(EndpointTracker t, String reason) {
            applier.apply(t, reason, false);
        }
    }

    @Override
    public String toString() {
        return "HealthMonitor[" + upstream.name() + ", " + trackers.size() + " endpoints]";
    }

    /** Builder for {@link HealthMonitor}. */
    public static final class Builder {
        private final Upstream upstream;
        private Ticker ticker = Ticker.system();
        private OutlierDetection outlierDetection = OutlierDetection.envoyDefaults();
        private int panicThresholdPercent = 50;
        private EndpointHealthState initialState = EndpointHealthState.UP;
        private Duration pollInterval = Duration.ofMillis(10);
        private final List<HealthEventListener> listeners = new ArrayList<>();

        private Builder(Upstream upstream) {
            this.upstream = Objects.requireNonNull(upstream, "upstream");
        }

        /** Time source for ejection times and timeouts; use the upstream's ticker (default system). */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Outlier detection settings (default {@link OutlierDetection#envoyDefaults()}). */
        public Builder outlierDetection(OutlierDetection settings) {
            this.outlierDetection = Objects.requireNonNull(settings, "outlierDetection");
            return this;
        }

        /**
         * Envoy panic threshold in percent applied to the upstream (default 50; 0 = never panic):
         * below that share of healthy endpoints, the upstream balances over all of them.
         */
        public Builder panicThresholdPercent(int percent) {
            this.panicThresholdPercent = percent;
            return this;
        }

        /**
         * How endpoints start: {@link EndpointHealthState#UP} (default, Envoy's and HAProxy's
         * behaviour without checks) or {@link EndpointHealthState#CHECKING} (no traffic until an
         * active check reports them healthy; use only with an active checker attached).
         */
        public Builder initialState(EndpointHealthState state) {
            this.initialState = state;
            return this;
        }

        /** How often {@link #awaitIdle} polls the in-flight count (default 10 ms). */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = interval;
            return this;
        }

        /** Adds a transition listener (also possible later, {@link HealthMonitor#addListener}). */
        public Builder listener(HealthEventListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Validates, applies the panic threshold, installs the outcome listener and returns the monitor. */
        public HealthMonitor build() {
            if (panicThresholdPercent < 0 || panicThresholdPercent > 100) {
                throw new IllegalArgumentException("panicThresholdPercent must be 0..100, got " + panicThresholdPercent);
            }
            if (initialState != EndpointHealthState.UP && initialState != EndpointHealthState.CHECKING) {
                throw new IllegalArgumentException("initialState must be UP or CHECKING, got " + initialState);
            }
            if (pollInterval == null || pollInterval.isZero() || pollInterval.isNegative()) {
                throw new IllegalArgumentException("pollInterval must be > 0, got " + pollInterval);
            }
            return new HealthMonitor(this);
        }
    }
}
