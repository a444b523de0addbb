package io.lbkit.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One endpoint's live state inside an {@link Upstream}. It survives snapshots: a re-weight or a
 * state change publishes a new snapshot that points at the same members, so in-flight counts,
 * latency averages and failure counters carry over. It is also the {@link Selection} returned by
 * a pick, which is why pick + complete allocate nothing.
 */
final class Member extends MemberPadAfter implements Selection {

    private static final VarHandle IN_FLIGHT;
    private static final VarHandle FAILS;
    private static final VarHandle EFFECTIVE;
    private static final VarHandle EWMA_MS;
    private static final VarHandle PEAK;
    private static final VarHandle FLAGS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            IN_FLIGHT = l.findVarHandle(MemberCounter.class, "inFlight", int.class);
            FAILS = l.findVarHandle(Member.class, "fails", int.class);
            EFFECTIVE = l.findVarHandle(Member.class, "effectiveWeight", int.class);
            EWMA_MS = l.findVarHandle(Member.class, "responseTimeMs", long.class);
            PEAK = l.findVarHandle(Member.class, "peakCostBits", long.class);
            FLAGS = l.findVarHandle(Member.class, "flags", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Upstream upstream;
    final String id;

    // ---- configuration, replaced by the control plane (single writer) ----
    volatile Endpoint endpoint;
    volatile EndpointState state = EndpointState.UP;
    volatile boolean healthy = true;
    /** Health-assigned weight scale in percent (HAProxy agent "weight %"), 100 = as configured. */
    volatile int weightPercent = 100;
    /** The outcome listener's per-endpoint object ({@link Upstream#setAttachment}); null until set. */
    volatile Object attachment;
    /** When slow start began, or {@link Long#MIN_VALUE} when the member is not ramping. */
    volatile long slowStartSince = Long.MIN_VALUE;
    int weight;          // endpoint.weight(), cached (written with endpoint)
    int maxConns;        // endpoint.maxConnections()
    int maxFails;        // endpoint.maxFails()
    long failTimeoutNanos;

    // ---- live state, written by requests ----
    // inFlight lives in MemberCounter, on a cache line of its own (see the classes at the end).
    /**
     * Striped in-flight count for upstreams whose policy never reads it while picking (round robin,
     * the hashes, random, first…): each thread adds to its own cell, so threads do not contend on
     * one counter. Null when the policy compares in-flight counts; then {@code inFlight} is used.
     */
    final java.util.concurrent.atomic.LongAdder striped;
    volatile int fails;
    volatile long checked;   // nginx peer->checked (ticker nanos)
    volatile long accessed;  // nginx peer->accessed (ticker nanos)
    volatile int effectiveWeight;
    volatile long responseTimeMs;   // nginx least_time average, in ms
    volatile long peakCostBits;     // peak EWMA cost in ns (double bits)
    volatile long peakStamp;        // ticker nanos of the last peak EWMA update

    Member(Upstream upstream, Endpoint endpoint, boolean stripedInFlight) {
        this(upstream, endpoint, stripedInFlight, true);
    }

    Member(Upstream upstream, Endpoint endpoint, boolean stripedInFlight, boolean healthy) {
        this.upstream = upstream;
        this.healthy = healthy;
        this.striped = stripedInFlight ? new java.util.concurrent.atomic.LongAdder() : null;
        this.id = endpoint.id();
        setEndpoint(endpoint);
        this.effectiveWeight = endpoint.weight();
    }

    void setEndpoint(Endpoint e) {
        this.weight = e.weight();
        this.maxConns = e.maxConnections();
        this.maxFails = e.maxFails();
        this.failTimeoutNanos = e.failTimeout().toNanos();
        this.endpoint = e;
    }

    // ---- Selection ----

    @Override
    public boolean found() {
        return true;
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public NoEndpointReason reason() {
        return NoEndpointReason.NONE;
    }

    @Override
    public void complete(Outcome outcome, int status, long latencyNanos) {
        upstream.completed(this, outcome, status, latencyNanos);
    }

    @Override
    public String toString() {
        return id;
    }

    // ---- eligibility (nginx peer checks) ----

    /** nginx: not (max_fails && fails >= max_fails && now - checked <= fail_timeout). */
    boolean banned(long now) {
        int mf = maxFails;
        return mf != 0 && fails >= mf && now - checked <= failTimeoutNanos;
    }

    /** {@link #banned(long)} that reads the clock only when the failure count matters. */
    boolean bannedNow() {
        int mf = maxFails;
        return mf != 0 && fails >= mf && upstream.ticker.nanos() - checked <= failTimeoutNanos;
    }

    /** Requests in flight now. */
    int inFlight() {
        java.util.concurrent.atomic.LongAdder a = striped;
        return a == null ? inFlight : (int) a.sum();
    }

    boolean atConnectionCap() {
        int mc = maxConns;
        return mc != 0 && inFlight() >= mc;
    }

    /** nginx's post-pick update: {@code if (now - checked > fail_timeout) checked = now}. */
    void touchChecked(long now) {
        if (now - checked > failTimeoutNanos) {
            checked = now;
        }
    }

    // ---- irregular flags ----
    //
    // The upstream keeps one counter, the number of irregular conditions over the members that
    // count (usable ones): while it is zero, round robin walks its recorded cycle in O(1). Each
    // member keeps its conditions as bits of one word; every change of a bit, and every change of
    // COUNTS, is made by a CAS on that word that also says exactly what to add to the counter, so
    // concurrent transitions and snapshot publishes never lose an update. A bit is synced from its
    // source (fails, effective weight, in flight) and re-synced if the source moved meanwhile.

    static final int COUNTS = 1;
    static final int BANNED = 2;
    static final int DEGRADED = 4;
    static final int CAPPED = 8;

    volatile int flags;

    private void setBit(int bit, boolean want) {
        for (;;) {
            int old = flags;
            int next = want ? old | bit : old & ~bit;
            if (old == next) {
                return;
            }
            if (FLAGS.compareAndSet(this, old, next)) {
                if ((old & COUNTS) != 0) {
                    upstream.irregular(want ? 1 : -1);
                }
                return;
            }
        }
    }

    /** Whether this member's conditions count for the upstream (control plane). */
    void setCounts(boolean counts) {
        for (;;) {
            int old = flags;
            int next = counts ? old | COUNTS : old & ~COUNTS;
            if (old == next) {
                return;
            }
            if (FLAGS.compareAndSet(this, old, next)) {
                int c = Integer.bitCount(old & (BANNED | DEGRADED | CAPPED));
                if (c != 0) {
                    upstream.irregular(counts ? c : -c);
                }
                return;
            }
        }
    }

    void syncBanned() {
        for (;;) {
            int f = fails;
            int mf = maxFails;
            setBit(BANNED, mf != 0 && f >= mf);
            if (fails == f) {
                return;
            }
        }
    }

    void syncDegraded() {
        for (;;) {
            int e = effectiveWeight;
            setBit(DEGRADED, e < weight);
            if (effectiveWeight == e) {
                return;
            }
        }
    }

    void syncCapped() {
        for (;;) {
            int c = inFlight();
            int mc = maxConns;
            setBit(CAPPED, mc != 0 && c >= mc);
            if (inFlight() == c) {
                return;
            }
        }
    }

    // ---- in-flight accounting ----

    /** Counts one more request in flight; false when the connection cap is reached. */
    boolean acquire() {
        int mc = maxConns;
        java.util.concurrent.atomic.LongAdder a = striped;
        if (a != null) {
            a.increment();
            if (mc != 0) {
                // optimistic: count first, then back off if that went over the cap. Cell updates and
                // sums are volatile, so of several threads racing for the last slots at most the cap
                // keep one (the last of them to sum sees every earlier increment).
                long sum = a.sum();
                if (sum > mc) {
                    a.decrement();
                    // a release may have synced the flag while this increment was still counted
                    syncCapped();
                    return false;
                }
                if (sum >= mc) {
                    syncCapped();
                }
            }
            return true;
        }
        if (mc == 0) {
            IN_FLIGHT.getAndAdd(this, 1);
            return true;
        }
        for (;;) {
            int cur = inFlight;
            if (cur >= mc) {
                return false;
            }
            if (IN_FLIGHT.compareAndSet(this, cur, cur + 1)) {
                if (cur + 1 >= mc) {
                    syncCapped();
                }
                return true;
            }
        }
    }

    void release() {
        int mc = maxConns;
        java.util.concurrent.atomic.LongAdder a = striped;
        if (a != null) {
            a.decrement();
            if (mc != 0) {
                syncCapped();
            }
            return;
        }
        int before = (int) IN_FLIGHT.getAndAdd(this, -1);
        if (mc != 0 && before >= mc) {
            syncCapped();
        }
    }

    // ---- nginx passive failure accounting ----

    /** A failed attempt: nginx {@code free_round_robin_peer} with NGX_PEER_FAILED. */
    void failed(long now) {
        FAILS.getAndAdd(this, 1);
        accessed = now;
        checked = now;
        int mf = maxFails;
        if (mf != 0) {
            syncBanned();
            int drop = weight / mf;
            if (drop > 0) {
                for (;;) {
                    int eff = effectiveWeight;
                    int next = Math.max(0, eff - drop);
                    if (EFFECTIVE.compareAndSet(this, eff, next)) {
                        break;
                    }
                }
                syncDegraded();
            }
        }
    }

    /** A successful attempt: nginx resets {@code fails} when {@code accessed < checked}. */
    void succeeded() {
        if (fails != 0 && accessed - checked < 0) {
            clearFails();
        }
    }

    void clearFails() {
        int before = (int) FAILS.getAndSet(this, 0);
        if (before != 0) {
            syncBanned();
        }
    }

    /** nginx: {@code if (effective_weight < weight) effective_weight++} in every pick pass. */
    void recoverEffectiveWeight() {
        for (;;) {
            int eff = effectiveWeight;
            int w = weight;
            if (eff >= w) {
                return;
            }
            if (EFFECTIVE.compareAndSet(this, eff, eff + 1)) {
                if (eff + 1 >= w) {
                    syncDegraded();
                }
                return;
            }
        }
    }

    /** Applies a new configured weight or cap (control plane only); effective weight restarts full. */
    void reweight(Endpoint e) {
        setEndpoint(e);
        effectiveWeight = e.weight();
        syncDegraded();
        syncCapped();
        syncBanned();
    }

    // ---- latency ----

    /** nginx least_time average: {@code avg = avg ? 0.5 + 0.05 v + 0.95 avg : v}, in ms. */
    void recordResponseTime(long latencyNanos) {
        long v = latencyNanos / 1_000_000L;
        for (;;) {
            long avg = responseTimeMs;
            long next = avg != 0 ? (long) (0.5 + (v * 0.05 + avg * 0.95)) : v;
            if (EWMA_MS.compareAndSet(this, avg, next)) {
                return;
            }
        }
    }

    /**
     * Peak EWMA (Finagle/Linkerd): a latency above the current cost replaces it at once; otherwise
     * the cost decays toward the sample with time constant {@code decayNanos}.
     */
    void recordPeak(long latencyNanos, long now, double decayNanos) {
        double rtt = latencyNanos;
        for (;;) {
            long bits = peakCostBits;
            double cost = Double.longBitsToDouble(bits);
            long stamp = peakStamp;
            double next;
            if (bits == 0 || rtt > cost) {
                next = rtt;
            } else {
                double td = Math.max(0, now - stamp);
                double w = Math.exp(-td / decayNanos);
                next = cost * w + rtt * (1 - w);
            }
            if (PEAK.compareAndSet(this, bits, Double.doubleToRawLongBits(next))) {
                peakStamp = now;
                return;
            }
        }
    }

    /** Current peak EWMA cost in ns, or {@code dflt} when nothing was measured yet. */
    double peakCost(long now, double decayNanos, double dflt) {
        long bits = peakCostBits;
        if (bits == 0) {
            return dflt;
        }
        double cost = Double.longBitsToDouble(bits);
        double td = Math.max(0, now - peakStamp);
        return cost * Math.exp(-td / decayNanos);
    }
}

/** Padding before {@link MemberCounter#inFlight} (a cache line). */
abstract class MemberPadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07;
}

/** The exact in-flight counter, written by every pick and complete of load-aware policies. */
abstract class MemberCounter extends MemberPadBefore {
    volatile int inFlight;
}

/**
 * Padding after the counter, so that the fields other threads read on every pick (weight, caps,
 * failure state) do not share its cache line: the JVM lays out superclass fields first.
 */
abstract class MemberPadAfter extends MemberCounter {
    long p10, p11, p12, p13, p14, p15, p16, p17;
}
