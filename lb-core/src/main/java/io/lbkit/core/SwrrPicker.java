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
 * verbatim. When everything is regular again and the explicit state equals a state of the
 * recorded period (found through a 64-bit fingerprint and then verified), it returns to the O(1)
 * walk. Periods longer than {@link #MAX_PERIOD} are not recorded: those upstreams always run the
 * O(n) loop, as nginx does.
 *
 * <p>State is per thread, as nginx's is per worker process: each thread sees exactly nginx's
 * sequence, and threads never contend on a shared cursor. Effective weights and failure counters
 * are shared (nginx with a {@code zone}).
 */
final class SwrrPicker implements Picker {

    /** Longest period (picks) recorded for the O(1) path. */
    static final int MAX_PERIOD = 1 << 20;
    /** Largest n × period spent building the period for one snapshot. */
    static final long MAX_BUILD_WORK = 200_000_000L;

    private final Candidates c;
    private final Member[] m;
    private final int[] w;
    private final int n;
    private final Upstream u;

    private final int gcd;
    private final int[] reduced;
    private final int period;      // Σ reduced weights
    private final int[] seq;       // index picked at each position, or null (always explicit)
    private final long[] rand;     // fingerprint multipliers
    private volatile FingerprintIndex index; // built on first need

    private final ThreadLocal<State> local;

    static final class State {
        int pos;
        boolean explicit;
        long[] cur;
        long[] scratch;
    }

    SwrrPicker(Candidates c, boolean recordPeriod) {
        this.c = c;
        this.m = c.usableMembers;
        this.w = c.weights;
        this.n = m.length;
        this.u = c.upstream;
        int g = 0;
        long sum = 0;
        for (int x : w) {
            g = gcd(g, x);
        }
        this.gcd = Math.max(1, g);
        this.reduced = new int[n];
        for (int i = 0; i < n; i++) {
            reduced[i] = w[i] / this.gcd;
            sum += reduced[i];
        }
        boolean record = recordPeriod && n > 0 && sum <= MAX_PERIOD && sum * n <= MAX_BUILD_WORK;
        this.period = (int) Math.min(sum, Integer.MAX_VALUE);
        this.seq = record ? buildSequence() : null;
        this.rand = new long[n];
        long r = 0x9E3779B97F4A7C15L ^ n;
        for (int i = 0; i < n; i++) {
            r += 0x9E3779B97F4A7C15L;
            rand[i] = Hashing.fmix64(r) | 1;
        }
        this.local = ThreadLocal.withInitial(State::new);
    }

    private int[] buildSequence() {
        int[] out = new int[period];
        long[] cur = new long[n];
        for (int k = 0; k < period; k++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                cur[i] += reduced[i];
                if (best < 0 || cur[i] > cur[best]) {
                    best = i;
                }
            }
            cur[best] -= period;
            out[k] = best;
        }
        return out;
    }

    @Override
    public Member pick(PickRequest req, boolean slowStart) {
        if (n == 0) {
            return null;
        }
        State s = local.get();
        if (!s.explicit && seq != null && !slowStart && req.triedCount() == 0 && u.irregular <= 0) {
            int pos = s.pos;
            Member mm = m[seq[pos]];
            int mf = mm.maxFails;
            if ((mf == 0 || mm.fails < mf) && !mm.atConnectionCap()) {
                s.pos = pos + 1 == period ? 0 : pos + 1;
                return mm;
            }
        }
        return explicitPick(s, req, slowStart);
    }

    /** nginx's loop, verbatim, on the thread's explicit state. */
    private Member explicitPick(State s, PickRequest req, boolean slowStart) {
        if (!s.explicit) {
            s.cur = materialize(s.pos, s.cur);
            s.explicit = true;
        }
        long[] cur = s.cur;
        long now = u.ticker.nanos();
        int best = -1;
        long total = 0;
        for (int i = 0; i < n; i++) {
            Member mm = m[i];
            if (!Candidates.eligible(mm, req, now)) {
                continue;
            }
            int eff = mm.effectiveWeight;
            if (w[i] != mm.weight) {
                eff = (int) ((long) eff * w[i] / Math.max(1, mm.weight));
            }
            if (slowStart) {
                eff = eff == 0 ? 0 : c.weightNow(mm, eff, now);
            }
            cur[i] += eff;
            total += eff;
            mm.recoverEffectiveWeight();
            if (best < 0 || cur[i] > cur[best]) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        cur[best] -= total;
        if (seq != null && !slowStart && req.triedCount() == 0 && u.irregular <= 0) {
            tryReenter(s);
        }
        return m[best];
    }

    /** The exact current-weight vector at position {@code k} of the recorded period. */
    private long[] materialize(int k, long[] into) {
        long[] cur = into == null || into.length != n ? new long[n] : into;
        Arrays.fill(cur, 0);
        if (seq == null || k == 0) {
            return cur;
        }
        for (int j = 0; j < k; j++) {
            cur[seq[j]]--;
        }
        for (int i = 0; i < n; i++) {
            cur[i] = (long) gcd * ((long) k * reduced[i] + (long) period * cur[i]);
        }
        return cur;
    }

    private void tryReenter(State s) {
        long f = 0;
        long[] cur = s.cur;
        for (int i = 0; i < n; i++) {
            if (cur[i] % gcd != 0) {
                return;
            }
            f += (cur[i] / gcd) * rand[i];
        }
        int k = index().find(f);
        if (k < 0) {
            return;
        }
        s.scratch = materialize(k, s.scratch);
        if (Arrays.equals(s.scratch, cur)) {
            s.pos = k;
            s.explicit = false;
        }
    }

    private FingerprintIndex index() {
        FingerprintIndex idx = index;
        if (idx == null) {
            synchronized (this) {
                idx = index;
                if (idx == null) {
                    idx = new FingerprintIndex(seq, reduced, period, rand);
                    index = idx;
                }
            }
        }
        return idx;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** Open-addressing map from the fingerprint of each state of the period to its position. */
    static final class FingerprintIndex {
        private final long[] keys;
        private final int[] values;
        private final int mask;

        FingerprintIndex(int[] seq, int[] reduced, int period, long[] rand) {
            int cap = Integer.highestOneBit(Math.max(2, period) * 2 - 1) << 1;
            keys = new long[cap];
            values = new int[cap];
            Arrays.fill(values, -1);
            mask = cap - 1;
            long total = 0;
            for (int i = 0; i < reduced.length; i++) {
                total += reduced[i] * rand[i];
            }
            long f = 0;
            for (int k = 0; k < period; k++) {
                put(f, k);
                f += total - (long) period * rand[seq[k]];
            }
        }

        private void put(long key, int value) {
            int i = (int) Hashing.fmix64(key) & mask;
            while (values[i] >= 0) {
                if (keys[i] == key) {
                    return; // keep the first position (a collision is resolved by verification)
                }
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = value;
        }

        int find(long key) {
            int i = (int) Hashing.fmix64(key) & mask;
            while (values[i] >= 0) {
                if (keys[i] == key) {
                    return values[i];
                }
                i = (i + 1) & mask;
            }
            return -1;
        }
    }
}
