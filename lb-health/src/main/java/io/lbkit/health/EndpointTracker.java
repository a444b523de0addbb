package io.lbkit.health;

import io.lbkit.core.EndpointState;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * One endpoint's health inside a {@link HealthMonitor}. The counters at the top are written by
 * request threads without locks ({@link OutlierEjector#record}); everything else belongs to the
 * monitor's serialized context: the ejection fields to {@link OutlierEjector}, the rest to the
 * monitor's state machine.
 *
 * <p>The request path costs one atomic add and one plain read for a success, and one atomic add
 * plus one CAS for a 5xx:
 * <ul>
 *   <li>{@link #counts} packs the outcomes since the last sweep: requests in the high 32 bits,
 *       5xx-class failures in the low 32 bits, so one {@code add} records both. It is a
 *       {@link LongAdder} (packed values add like plain ones), so threads that hit the same
 *       endpoint at once stripe instead of contending; the sweep takes it with
 *       {@code sumThenReset} (atomic per cell: nothing is lost). 2^32 failures within one
 *       interval would carry into the request count, which no endpoint reaches.</li>
 *   <li>{@link #streaks} packs both consecutive-failure streaks: 5xx in the low 32 bits, gateway
 *       failures in the high 32 bits. A success clears it only when it is not already zero, so the
 *       common path reads a shared cache line and writes nothing. Each streak saturates at
 *       {@link Integer#MAX_VALUE}, so it never wraps into the other.</li>
 * </ul>
 */
final class EndpointTracker {

    /** One request in {@link #counts}. */
    static final long REQUEST = 1L << 32;
    /** One request that was a 5xx-class failure in {@link #counts}. */
    static final long FAILED_REQUEST = REQUEST | 1L;
    private static final long LOW = 0xFFFF_FFFFL;
    private static final long HIGH = LOW << 32;

    private static final VarHandle STREAKS;

    static {
        try {
            STREAKS = MethodHandles.lookup().findVarHandle(EndpointTracker.class, "streaks", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Administrative state set by the operator. */
    enum Admin { ENABLED, DRAINING, DRAINING_STRICT, MAINTENANCE }

    final String id;
    /** The monitor that made it: attachments of another (closed) monitor are not ours. */
    final HealthMonitor owner;

    // ---- hot path: written by request threads ----
    /** Requests (high 32 bits) and 5xx-class failures (low 32 bits) since the last sweep. */
    final LongAdder counts = new LongAdder();
    /** Consecutive 5xx (low 32 bits) and consecutive gateway failures (high 32 bits). */
    volatile long streaks;

    // ---- serialized context only ----
    Admin admin = Admin.ENABLED;
    EndpointHealthState active;     // CHECKING, UP or UNHEALTHY
    // outlier ejection, written by OutlierEjector
    boolean ejected;
    long ejectedAt;
    long lastUnejectedAt = Long.MIN_VALUE;
    int backoff;                    // Envoy ejectTimeBackoff
    long ejections;
    // the joined state and what lb-core was told, written by HealthMonitor
    EndpointHealthState state;      // last published joined state
    EndpointState appliedCoreState; // what lb-core was last told
    boolean appliedHealthy;
    boolean removed;
    /** Published copy of {@link #state} for readers outside the context. */
    volatile EndpointHealth view;

    EndpointTracker(HealthMonitor owner, String id, EndpointHealthState active) {
        this.owner = owner;
        this.id = id;
        this.active = active;
    }

    /** The 5xx streak in a {@link #streaks} value. */
    static int fiveXx(long streaks) {
        return (int) (streaks & LOW);
    }

    /** The gateway-failure streak in a {@link #streaks} value. */
    static int gateway(long streaks) {
        return (int) (streaks >>> 32);
    }

    /** A success: ends both streaks; writes only when one is running (keeps the line shared). */
    void success() {
        counts.add(REQUEST);
        if (streaks != 0) {
            streaks = 0;
        }
    }

    /**
     * A 5xx-class failure: counts it and extends the 5xx streak; a gateway failure (502, 503, 504
     * and the transport failures mapped to them) extends the gateway streak too, any other 5xx
     * ends it. Returns the streaks after this failure.
     */
    long failure(boolean gatewayFailure) {
        counts.add(FAILED_REQUEST);
        for (;;) {
            long s = streaks;
            long c5 = s & LOW;
            if (c5 < Integer.MAX_VALUE) {
                c5++;
            }
            long gw = 0;
            if (gatewayFailure) {
                gw = s >>> 32;
                if (gw < Integer.MAX_VALUE) {
                    gw++;
                }
            }
            long next = c5 | gw << 32;
            if (STREAKS.compareAndSet(this, s, next)) {
                return next;
            }
        }
    }

    /** Ends the 5xx streak only (context: after a consecutive-5xx detection). */
    void clear5xx() {
        clear(LOW);
    }

    /** Ends the gateway streak only (context: after a consecutive-gateway detection). */
    void clearGateway() {
        clear(HIGH);
    }

    /** Ends both streaks. */
    void clearStreaks() {
        streaks = 0;
    }

    private void clear(long mask) {
        for (;;) {
            long s = streaks;
            if ((s & mask) == 0 || STREAKS.compareAndSet(this, s, s & ~mask)) {
                return;
            }
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
