package io.lbkit.health;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Ticker;
import io.lbkit.core.Upstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the endpoints of a monitored upstream through an update one at a time: for each endpoint,
 * <ol>
 *   <li>{@link Phase#DRAIN}: no new requests (sticky-bound ones too, unless {@link
 *       Builder#keepStickyWhileDraining(boolean)});</li>
 *   <li>{@link Phase#WAIT_IDLE}: wait until nothing is in flight, at most {@link
 *       Builder#drainTimeout(Duration)} (on timeout the step says {@link Result#TIMED_OUT} and the
 *       deployment goes on, as a container platform's grace period does);</li>
 *   <li>{@link Phase#UPDATE}: the endpoint goes into maintenance, its active view back to
 *       {@link EndpointHealthState#CHECKING}, and the caller's {@link UpdateStep} runs; it may return
 *       a replacement endpoint with the same id (new host, port, weight, metadata);</li>
 *   <li>{@link Phase#WAIT_HEALTHY}: wait for {@link Builder#requiredPasses(int)} passing checks in a
 *       row, at most {@link Builder#readyTimeout(Duration)}: the caller's readiness probe when one is
 *       set, else the active check results the monitor receives as a {@link CheckListener};</li>
 *   <li>{@link Phase#READMIT}: back in rotation; lb-core's slow start (when configured on the
 *       upstream) ramps its weight.</li>
 * </ol>
 * If the update step throws or the endpoint does not become healthy in time, the deployment stops:
 * that endpoint stays in maintenance ({@link EndpointHealthState#DOWN}), the endpoints already done
 * and those not yet touched keep serving, and nothing else is drained.
 *
 * <p>{@link #run} blocks the calling thread; every step is reported to the listener as it ends and
 * collected in the {@link Report}.
 */
public final class RollingDeployment {

    private static final Logger LOG = LoggerFactory.getLogger(RollingDeployment.class);

    /** The caller's update of one endpoint. */
    @FunctionalInterface
    public interface UpdateStep {
        /**
         * Updates the endpoint (stop, deploy, start...). Returns the endpoint to use from now on, with
         * the same id, or {@code null} to keep {@code current}.
         */
        Endpoint update(Endpoint current) throws Exception;
    }

    /** The phases of one endpoint's update, in order. */
    public enum Phase { DRAIN, WAIT_IDLE, UPDATE, WAIT_HEALTHY, READMIT }

    /** How a step ended. */
    public enum Result {
        /** Done. */
        OK,
        /** The wait ran out of time (for {@link Phase#WAIT_IDLE} the deployment goes on). */
        TIMED_OUT,
        /** The step failed; the deployment stops. */
        FAILED
    }

    /**
     * One step of the deployment.
     *
     * @param endpointId the endpoint
     * @param phase      which step
     * @param result     how it ended
     * @param duration   how long it took (the monitor's ticker)
     * @param detail     a short explanation, never a secret
     */
    public record Step(String endpointId, Phase phase, Result result, Duration duration, String detail) {
        public Step {
            Objects.requireNonNull(endpointId, "endpointId");
            Objects.requireNonNull(phase, "phase");
            Objects.requireNonNull(result, "result");
            Objects.requireNonNull(duration, "duration");
            Objects.requireNonNull(detail, "detail");
        }
    }

    /**
     * The outcome of a deployment.
     *
     * @param completed  whether every endpoint was updated and readmitted
     * @param steps      every step, in order
     * @param abortedAt  the endpoint at which the deployment stopped, or null
     * @param reason     why it stopped, or "" when it completed
     * @param duration   total time
     */
    public record Report(boolean completed, List<Step> steps, String abortedAt, String reason, Duration duration) {
        public Report {
            steps = List.copyOf(steps);
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(duration, "duration");
        }
    }

    private final HealthMonitor monitor;
    private final Ticker ticker;
    private final Duration drainTimeout;
    private final Duration readyTimeout;
    private final int requiredPasses;
    private final boolean keepSticky;
    private final Predicate<Endpoint> probe;
    private final Duration probeInterval;
    private final Consumer<Step> listener;

    private RollingDeployment(Builder b) {
        this.monitor = b.monitor;
        this.ticker = b.ticker;
        this.drainTimeout = b.drainTimeout;
        this.readyTimeout = b.readyTimeout;
        this.requiredPasses = b.requiredPasses;
        this.keepSticky = b.keepSticky;
        this.probe = b.probe;
        this.probeInterval = b.probeInterval;
        this.listener = b.listener;
    }

    /** A builder for deployments over {@code monitor}'s upstream. */
    public static Builder builder(HealthMonitor monitor) {
        return new Builder(monitor);
    }

    /** Updates every endpoint of the upstream, in configuration order, with {@code update}. */
    public Report run(UpdateStep update) {
        Objects.requireNonNull(update, "update");
        Upstream upstream = monitor.upstream();
        List<Step> steps = new ArrayList<>();
        long start = ticker.nanos();
        for (Endpoint e : upstream.endpoints()) {
            String failure = deployOne(upstream, e, update, steps);
            if (failure != null) {
                LOG.warn("upstream '{}': rolling deployment aborted at '{}': {}", upstream.name(), e.id(), failure);
                return new Report(false, steps, e.id(), failure, Duration.ofNanos(ticker.nanos() - start));
            }
        }
        LOG.info("upstream '{}': rolling deployment completed", upstream.name());
        return new Report(true, steps, null, "", Duration.ofNanos(ticker.nanos() - start));
    }

    /**
     * One step of a rolling deployment: takes the endpoint {@code id} alone through the phases
     * (an operator, or an admin API, moving a deployment on one endpoint at a time).
     *
     * @throws IllegalArgumentException when the upstream has no endpoint {@code id}
     */
    public Report runOne(String id, UpdateStep update) {
        Objects.requireNonNull(update, "update");
        Upstream upstream = monitor.upstream();
        Endpoint e = upstream.endpoint(id).orElseThrow(() -> new IllegalArgumentException(
                "upstream '" + upstream.name() + "': no endpoint with id '" + id + "'"));
        List<Step> steps = new ArrayList<>();
        long start = ticker.nanos();
        String failure = deployOne(upstream, e, update, steps);
        Duration took = Duration.ofNanos(ticker.nanos() - start);
        if (failure != null) {
            LOG.warn("upstream '{}': deployment step on '{}' failed: {}", upstream.name(), id, failure);
            return new Report(false, steps, id, failure, took);
        }
        return new Report(true, steps, null, "", took);
    }

    /** Returns null when the endpoint is back, else why the deployment stops. */
    private String deployOne(Upstream upstream, Endpoint e, UpdateStep update, List<Step> steps) {
        String id = e.id();
        long t0 = ticker.nanos();
        monitor.drain(id, keepSticky);
        step(steps, id, Phase.DRAIN, Result.OK, t0, keepSticky ? "draining, sticky clients kept" : "draining");

        t0 = ticker.nanos();
        boolean idle = join(monitor.awaitIdle(id, drainTimeout));
        step(steps, id, Phase.WAIT_IDLE, idle ? Result.OK : Result.TIMED_OUT, t0,
                idle ? "no request in flight" : "still busy after " + drainTimeout + ", going on");

        t0 = ticker.nanos();
        monitor.maintenance(id);
        monitor.resetToChecking(id, "deployment: updating");
        Endpoint current = upstream.endpoint(id).orElse(e);
        Endpoint next;
        try {
            next = update.update(current);
        } catch (Exception ex) {
            if (ex instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String why = "update step failed: " + ex;
            step(steps, id, Phase.UPDATE, Result.FAILED, t0, why);
            return why;
        }
        if (next != null && !next.equals(current)) {
            if (!next.id().equals(id)) {
                String why = "update step returned endpoint id '" + next.id() + "', must keep '" + id
                        + "' (use current.toBuilder() to change host or port)";
                step(steps, id, Phase.UPDATE, Result.FAILED, t0, why);
                return why;
            }
            upstream.update(next);
            current = next;
        }
        step(steps, id, Phase.UPDATE, Result.OK, t0, "updated " + current.host() + ":" + current.port());

        t0 = ticker.nanos();
        boolean ready = probe != null ? probeUntilReady(current) : join(monitor.awaitPasses(id, requiredPasses, readyTimeout));
        if (!ready) {
            String why = "not healthy within " + readyTimeout + " (" + requiredPasses + " passing checks needed)";
            step(steps, id, Phase.WAIT_HEALTHY, Result.TIMED_OUT, t0, why);
            return why;
        }
        step(steps, id, Phase.WAIT_HEALTHY, Result.OK, t0, requiredPasses + " passing checks in a row");

        t0 = ticker.nanos();
        monitor.readmit(id, "deployment: readmitted");
        step(steps, id, Phase.READMIT, Result.OK, t0, "back in rotation");
        return null;
    }

    private boolean probeUntilReady(Endpoint endpoint) {
        long deadline = ticker.nanos() + readyTimeout.toNanos();
        int passes = 0;
        while (true) {
            boolean ok;
            try {
                ok = probe.test(endpoint);
            } catch (RuntimeException ex) {
                ok = false;
            }
            passes = ok ? passes + 1 : 0;
            if (passes >= requiredPasses) {
                return true;
            }
            if (ticker.nanos() - deadline >= 0) {
                return false;
            }
            try {
                Thread.sleep(probeInterval.toMillis());
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private static boolean join(java.util.concurrent.CompletableFuture<Boolean> f) {
        try {
            return f.get();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException ee) {
            return false;
        }
    }

    private void step(List<Step> steps, String id, Phase phase, Result result, long since, String detail) {
        Step s = new Step(id, phase, result, Duration.ofNanos(ticker.nanos() - since), detail);
        steps.add(s);
        LOG.info("upstream '{}' endpoint '{}': deployment {} {} ({})", monitor.upstream().name(), id, phase, result, detail);
        if (listener != null) {
            try {
                listener.accept(s);
            } catch (RuntimeException ex) {
                LOG.warn("deployment step listener failed on {}", s, ex);
            }
        }
    }

    /** Builder for {@link RollingDeployment}. */
    public static final class Builder {
        private final HealthMonitor monitor;
        private Ticker ticker = Ticker.system();
        private Duration drainTimeout = Duration.ofSeconds(30);
        private Duration readyTimeout = Duration.ofSeconds(60);
        private int requiredPasses = 2;
        private boolean keepSticky;
        private Predicate<Endpoint> probe;
        private Duration probeInterval = Duration.ofSeconds(1);
        private Consumer<Step> listener;

        private Builder(HealthMonitor monitor) {
            this.monitor = Objects.requireNonNull(monitor, "monitor");
        }

        /** Time source for durations and deadlines (default system; use the monitor's). */
        public Builder ticker(Ticker ticker) { this.ticker = Objects.requireNonNull(ticker, "ticker"); return this; }
        /** Longest wait for in-flight requests to finish (default 30 s). */
        public Builder drainTimeout(Duration d) { this.drainTimeout = d; return this; }
        /** Longest wait for the updated endpoint to pass its checks (default 60 s). */
        public Builder readyTimeout(Duration d) { this.readyTimeout = d; return this; }
        /** Passing checks in a row needed before readmission (default 2, HAProxy's rise). */
        public Builder requiredPasses(int n) { this.requiredPasses = n; return this; }
        /** Let sticky-bound requests reach a draining endpoint (default false: a full drain). */
        public Builder keepStickyWhileDraining(boolean keep) { this.keepSticky = keep; return this; }
        /**
         * A readiness probe run on the deployment's thread every {@link #probeInterval(Duration)},
         * for when no active checker feeds the monitor. It must return within a bounded time.
         */
        public Builder readinessProbe(Predicate<Endpoint> probe) { this.probe = probe; return this; }
        /** Time between readiness probes (default 1 s). */
        public Builder probeInterval(Duration d) { this.probeInterval = d; return this; }
        /** Receives each step as it ends. */
        public Builder listener(Consumer<Step> listener) { this.listener = listener; return this; }

        public RollingDeployment build() {
            positive("drainTimeout", drainTimeout);
            positive("readyTimeout", readyTimeout);
            positive("probeInterval", probeInterval);
            if (requiredPasses < 1) {
                throw new IllegalArgumentException("requiredPasses must be >= 1, got " + requiredPasses);
            }
            return new RollingDeployment(this);
        }

        private static void positive(String field, Duration d) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(field + " must be > 0, got " + d);
            }
        }
    }
}
