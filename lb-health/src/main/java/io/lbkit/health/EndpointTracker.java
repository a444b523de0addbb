package io.lbkit.health;

import io.lbkit.core.EndpointState;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * One endpoint's health inside a {@link HealthMonitor}. The counters at the top are written by
 * request threads without locks; everything else belongs to the monitor's serialized context.
 */
final class EndpointTracker {

    private static final VarHandle C5XX;
    private static final VarHandle CGW;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            C5XX = l.findVarHandle(EndpointTracker.class, "consecutive5xx", int.class);
            CGW = l.findVarHandle(EndpointTracker.class, "consecutiveGateway", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Administrative state set by the operator. */
    enum Admin { ENABLED, DRAINING, DRAINING_STRICT, MAINTENANCE }

    final String id;

    // ---- hot path: written by request threads ----
    volatile int consecutive5xx;
    volatile int consecutiveGateway;
    final LongAdder total = new LongAdder();
    final LongAdder successes = new LongAdder();

    // ---- serialized context only ----
    long lastTotal;
    long lastSuccesses;
    Admin admin = Admin.ENABLED;
    EndpointHealthState active;     // CHECKING, UP or UNHEALTHY
    boolean ejected;
    long ejectedAt;
    long lastUnejectedAt = Long.MIN_VALUE;
    int backoff;                    // Envoy ejectTimeBackoff
    long ejections;
    EndpointHealthState state;      // last published joined state
    EndpointState appliedCoreState; // what lb-core was last told
    boolean appliedHealthy;
    int passesSinceMark;            // passing checks in a row counted for awaitPasses
    boolean removed;
    /** Published copy of {@link #state} for readers outside the context. */
    volatile EndpointHealth view;

    EndpointTracker(String id, EndpointHealthState active) {
        this.id = id;
        this.active = active;
    }

    /** Returns the 5xx streak after adding one. */
    int add5xx() {
        return (int) C5XX.getAndAdd(this, 1) + 1;
    }

    int addGateway() {
        return (int) CGW.getAndAdd(this, 1) + 1;
    }

    /** Resets a streak; writes only when it is not already zero (keeps the cache line shared). */
    void clear5xx() {
        if (consecutive5xx != 0) {
            consecutive5xx = 0;
        }
    }

    void clearGateway() {
        if (consecutiveGateway != 0) {
            consecutiveGateway = 0;
        }
    }

    /** The joined state: admin first, then active checks, then ejection. */
    EndpointHealthState joined() {
        switch (admin) {
            case MAINTENANCE:
                return EndpointHealthState.DOWN;
            case DRAINING:
            case DRAINING_STRICT:
                return EndpointHealthState.DRAINING;
            default:
                break;
        }
        if (active != EndpointHealthState.UP) {
            return active;
        }
        return ejected ? EndpointHealthState.EJECTED : EndpointHealthState.UP;
    }

    /** What lb-core should think of health: active checks pass and not ejected. */
    boolean coreHealthy() {
        return active == EndpointHealthState.UP && !ejected;
    }

    EndpointState coreState() {
        switch (admin) {
            case DRAINING:
                return EndpointState.DRAINING;
            case DRAINING_STRICT:
            case MAINTENANCE:
                return EndpointState.DOWN;
            default:
                return EndpointState.UP;
        }
    }

    void publishView() {
        view = new EndpointHealth(id, state, active, ejected, backoff, ejections);
    }
}
