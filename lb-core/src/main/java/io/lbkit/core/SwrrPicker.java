package io.lbkit.core;

import java.util.Arrays;

/**
 * nginx's smooth weighted round robin ({@code ngx_http_upstream_get_peer}), exactly, with an O(1)
 * steady state.
 *
 * <p>nginx runs an O(n) loop per pick: for every eligible peer {@code current += effective;
 * total += effective; if (effective < weight) effective++}, take the largest {@code current}
 * (first on ties), subtract {@code total}. While every peer is eligible and at full effective
 * weight, that loop is a pure function of its state, and from the all-zero state it repeats with
 * period {@code W = Σw/gcd(w)}. This picker runs the loop once per snapshot to record that period
 * and then walks it with an index: one array read per pick. The state at position {@code k} is
 * implicit: {@code current_i = g·(k·w_i − W·picks_i(k))}.
 *
 * <p>As soon as anything irregular happens (a request that already tried a peer, a failure that
 * lowers an effective weight or bans a peer, a peer at its connection cap, slow start), the
 * picker materializes the exact {@code current} vector at its position and runs nginx's loop
 * verbatim. After such an episode the state is usually on a different cycle than the one from
 * zero, but once every peer is regular again the loop is again periodic with period
 * {@code Σw}: the picker records the thread's next {@code Σw} picks, checks that the state came
 * back to where the recording started, and from then on walks that recorded cycle in O(1). Periods
 * longer than {@link #MAX_PERIOD} (shared) or {@link #MAX_PRIVATE_PERIOD} (per thread, after an
 * episode) are not recorded: such upstreams run nginx's O(n) loop, as nginx always does.
 *
 * <p>State is per thread, as nginx's is per worker process: each thread sees exactly nginx's
 * sequence, and threads never contend on a shared cursor. Effective weights and failure counters
 * are shared (nginx with a {@code zone}).
 */
final class SwrrPicker implements Picker {

    /** Longest period (picks) recorded for the O(1) path shared by all threads. */
    static final int MAX_PERIOD = 1 << 20;
    /** Longest cycle a thread records for itself after an irregular episode. */
    static final int MAX_PRIVATE_PERIOD = 1 << 14;
    /** Largest n × period spent building the period for one snapshot. */
    static final long MAX_BUILD_WORK = 200_000_000L;

    private final Candidates c;
    private final Member[] m;
    private final int[] w;
    private final int n;
    private final Upstream u;
    private final long total;      // Σ w
    private final Cycle canonical; // the cycle from the all-zero state, or null
    private final boolean recordCycles;

    private final ThreadLocal<State> local;

    /** A recorded cycle: state at position k is {@code base + k·w − total·picks(k)}. */
    static final class Cycle {
        final int[] seq;
        final int length;
        final long[] base; // null = all zero

        Cycle(int[] seq, int length, long[] base) {
            this.seq = seq;
            this.length = length;
            this.base = base;
        }
    }

    static final class State {
        boolean ramped;  // the explicit state holds slow-start weights (hundredths)
        Cycle cycle;
        int pos;
        boolean explicit;
        long[] cur;
        int[] rec;
        int recLength = -1;
        long[] recBase;
    }

    SwrrPicker(Candidates c, boolean recordPeriod) {
        this.c = c;
        this.m = c.usableMembers;
        this.w = c.weights;
        this.n = m.length;
        this.u = c.upstream;
        long sum = 0;
        int g = 0;
        for (int x : w) {
            sum += x;
            g = gcd(g, x);
        }
        this.total = sum;
        long reducedPeriod = g == 0 ? 0 : sum / g;
        boolean record = recordPeriod && n > 0 && reducedPeriod <= MAX_PERIOD
                && reducedPeriod * n <= MAX_BUILD_WORK;
        this.canonical = record ? buildCanonical(g, (int) reducedPeriod) : null;
        this.recordCycles = recordPeriod;
        this.local = ThreadLocal.withInitial(this::newState);
    }

    private final java.util.concurrent.atomic.AtomicInteger threads = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * The first thread starts at position 0, exactly like a fresh nginx worker; later threads start
     * further along the same cycle (still an exact nginx sequence, as if that worker had already
     * served some requests), so that threads do not all hit the same endpoint at the same moment.
     */
    private State newState() {
        State s = new State();
        s.cycle = canonical;
        s.explicit = canonical == null;
        int t = threads.getAndIncrement();
        if (canonical != null && t > 0) {
            s.pos = (int) Long.remainderUnsigned(Hashing.fmix64(t), canonical.length);
        }
        return s;
    }

    /** nginx's loop from the all-zero state with weights divided by their gcd (same sequence). */
    private Cycle buildCanonical(int g, int period) {
        int[] out = new int[period];
        long[] cur = new long[n];
        for (int k = 0; k < period; k++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                cur[i] += w[i] / g;
                if (best < 0 || cur[i] > cur[best]) {
                    best = i;
                }
            }
            cur[best] -= period;
            out[k] = best;
        }
        return new Cycle(out, period, null);
    }

    @Override
    public Member pick(PickRequest req, boolean slowStart) {
        if (n == 0) {
            return null;
        }
        State s = local.get();
        if (!s.explicit && !slowStart && req.triedCount() == 0 && u.irregular <= 0) {
            Cycle cy = s.cycle;
            int pos = s.pos;
            Member mm = m[cy.seq[pos]];
            int mf = mm.maxFails;
            if ((mf == 0 || mm.fails < mf) && !mm.atConnectionCap()) {
                s.pos = pos + 1 == cy.length ? 0 : pos + 1;
                return mm;
            }
        }
        return explicitPick(s, req, slowStart);
    }

    /** nginx's loop, verbatim, on the thread's explicit state. */
    private Member explicitPick(State s, PickRequest req, boolean slowStart) {
        if (s.ramped && !slowStart) {
            // slow start is over: its weights were in hundredths, so its state means nothing now;
            // start afresh from the all-zero state, as a reloaded nginx would
            s.ramped = false;
            s.recLength = -1;
            if (canonical != null) {
                s.cycle = canonical;
                s.pos = 0;
                s.explicit = false;
                return pick(req, false);
            }
            java.util.Arrays.fill(s.cur, 0);
        }
        if (!s.explicit) {
            s.cur = materialize(s.cycle, s.pos, s.cur);
            s.explicit = true;
            s.recLength = -1;
        } else if (s.cur == null) {
            s.cur = new long[n];
        }
        if (slowStart && !s.ramped) {
            s.ramped = true;
            java.util.Arrays.fill(s.cur, 0);
        }
        long[] cur = s.cur;
        long now = u.ticker.nanos();
        int best = -1;
        long sum = 0;
        boolean regular = !slowStart;
        for (int i = 0; i < n; i++) {
            Member mm = m[i];
            if (!Candidates.eligible(mm, req, now)) {
                regular = false;
                continue;
            }
            long eff = mm.effectiveWeight;
            if (w[i] != mm.weight) {
                eff = eff * w[i] / Math.max(1, mm.weight);
            }
            if (slowStart) {
                eff = eff == 0 ? 0 : c.weightNow(mm, (int) eff, now);
            }
            if (slowStart || eff != w[i]) {
                regular = false;
            }
            cur[i] += eff;
            sum += eff;
            mm.recoverEffectiveWeight();
            if (best < 0 || cur[i] > cur[best]) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        cur[best] -= sum;
        if (regular) {
            record(s, best);
        } else {
            s.recLength = -1;
        }
        return m[best];
    }

    /**
     * Records a regular pick. After {@code Σw} regular picks that bring the state back to where
     * recording began, the recorded picks are the thread's cycle and the O(1) walk resumes.
     */
    private void record(State s, int best) {
        if (!recordCycles || total > MAX_PRIVATE_PERIOD) {
            return;
        }
        long[] cur = s.cur;
        if (s.recLength < 0) {
            if (s.rec == null) {
                s.rec = new int[(int) total];
                s.recBase = new long[n];
            }
            long[] base = s.recBase;
            for (int i = 0; i < n; i++) {
                base[i] = cur[i] - w[i];
            }
            base[best] += total;
            s.recLength = 0;
        }
        s.rec[s.recLength++] = best;
        if (s.recLength == total) {
            if (Arrays.equals(cur, s.recBase)) {
                boolean zero = true;
                for (long x : cur) {
                    zero &= x == 0;
                }
                s.cycle = new Cycle(s.rec, (int) total, zero ? null : s.recBase);
                s.rec = null;
                s.recBase = null;
                s.pos = 0;
                s.explicit = false;
            }
            s.recLength = -1;
        }
    }

    /** Whether the calling thread currently runs nginx's O(n) loop rather than the O(1) walk. */
    boolean explicitForCurrentThread() {
        return local.get().explicit;
    }

    /** The exact current-weight vector at position {@code k} of {@code cycle}. */
    private long[] materialize(Cycle cycle, int k, long[] into) {
        long[] cur = into == null || into.length != n ? new long[n] : into;
        Arrays.fill(cur, 0);
        for (int j = 0; j < k; j++) {
            cur[cycle.seq[j]] -= total;
        }
        for (int i = 0; i < n; i++) {
            cur[i] += (long) k * w[i] + (cycle.base == null ? 0 : cycle.base[i]);
        }
        return cur;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
