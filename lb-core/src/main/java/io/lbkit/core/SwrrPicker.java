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
 * <p>In the steady state all threads walk the recorded period with one shared cursor (a CAS on
 * its own cache line), so the sequence the upstream hands out is nginx's with one worker process,
 * whichever threads ask: three equal endpoints are served 1, 2, 3, 1, 2, 3 even when every
 * request arrives on a different container thread. During and after an irregular episode the
 * explicit state is per thread, as nginx's is per worker process: a thread claims the shared
 * position it leaves from, so threads entering an episode together start from different states.
 * Effective weights and failure counters are shared (nginx with a {@code zone}).
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

    /** The shared position in {@link #canonical}: every thread walks the same sequence. */
    private final SharedCursor cursor = new SharedCursor();

    private State newState() {
        State s = new State();
        s.cycle = canonical;
        s.explicit = canonical == null;
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
            if (cy == canonical) {
                // claim the position first, then look at its member: between the cursor's read and
                // its CAS nothing else is touched (the member's fields are written by completions
                // on other threads), so a contended CAS seldom fails
                int pos = cursor.claim(cy.length);
                Member mm = m[cy.seq[pos]];
                int mf = mm.maxFails;
                if ((mf == 0 || mm.fails < mf) && !mm.atConnectionCap()) {
                    return mm;
                }
                // irregular: nginx's loop from the state at the claimed position
                return explicitPick(s, req, slowStart, pos);
            } else {
                int pos = s.pos;
                Member mm = m[cy.seq[pos]];
                int mf = mm.maxFails;
                if ((mf == 0 || mm.fails < mf) && !mm.atConnectionCap()) {
                    s.pos = pos + 1 == cy.length ? 0 : pos + 1;
                    return mm;
                }
            }
        }
        return explicitPick(s, req, slowStart, -1);
    }

    /**
     * nginx's loop, verbatim, on the thread's explicit state.
     *
     * @param claimed a position of the shared walk this thread already claimed, or -1
     */
    private Member explicitPick(State s, PickRequest req, boolean slowStart, int claimed) {
        if (s.ramped && !slowStart) {
            // slow start is over: its weights were in hundredths, so its state means nothing now;
            // start afresh from the all-zero state, as a reloaded nginx would
            s.ramped = false;
            s.recLength = -1;
            if (canonical != null) {
                s.cycle = canonical;
                s.explicit = false;
                cursor.set(0);
                return pick(req, false);
            }
            java.util.Arrays.fill(s.cur, 0);
        }
        if (!s.explicit) {
            // leaving the shared walk claims its position, so that threads entering an episode
            // together start from different states instead of all picking the same endpoint
            int pos = s.cycle == canonical ? (claimed >= 0 ? claimed : cursor.claim(canonical.length)) : s.pos;
            s.cur = materialize(s.cycle, pos, s.cur);
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

    /** Position shared by all threads in the canonical cycle, on its own cache line. */
    static final class SharedCursor extends CursorValue {
        long q1, q2, q3, q4, q5, q6, q7;

        int get() {
            return (int) POS.getVolatile(this);
        }

        boolean advance(int expect, int next) {
            return POS.compareAndSet(this, expect, next);
        }

        void set(int value) {
            POS.setVolatile(this, value);
        }

        /** Takes the current position and moves past it. */
        int claim(int length) {
            for (;;) {
                int p = get();
                if (advance(p, p + 1 == length ? 0 : p + 1)) {
                    return p;
                }
            }
        }

        private static final java.lang.invoke.VarHandle POS;

        static {
            try {
                POS = java.lang.invoke.MethodHandles.lookup().findVarHandle(CursorValue.class, "pos", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    /** Padding before the cursor. */
    abstract static class CursorPad {
        long p1, p2, p3, p4, p5, p6, p7;
    }

    /** The cursor's value, between two pads. */
    abstract static class CursorValue extends CursorPad {
        volatile int pos;
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
