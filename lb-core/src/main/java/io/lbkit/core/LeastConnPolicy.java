package io.lbkit.core;

/**
 * nginx {@code least_conn} and {@code least_time}, exactly: the smallest {@code cost / weight},
 * compared as {@code a.cost·b.weight < b.cost·a.weight}; when several peers tie, smooth weighted
 * round robin among the tied ones (nginx's second loop). For least_conn the cost is the number of
 * requests in flight; for least_time it is {@code rt·(1 + in flight)} where {@code rt} is the
 * peer's response-time average ({@code avg = 0.05·v + 0.95·avg}, successes only), capped at
 * 5000 ms and otherwise rounded up to the next 20 ms step. O(n) per pick, as in nginx.
 */
final class LeastConnPolicy extends BalancingPolicy {

    private final boolean time;

    LeastConnPolicy(boolean time) {
        super(time ? "least-time" : "least-conn");
        this.time = time;
    }

    @Override
    boolean needsResponseTime() {
        return time;
    }

    @Override
    boolean readsInFlight() {
        return true;
    }

    @Override
    Picker newPicker(Candidates c) {
        return new LeastPicker(c, time);
    }

    static final class LeastPicker implements Picker {
        private final Candidates c;
        private final Member[] m;
        private final int[] w;
        private final boolean time;
        private final ThreadLocal<long[]> current;

        LeastPicker(Candidates c, boolean time) {
            this.c = c;
            this.m = c.usableMembers;
            this.w = c.weights;
            this.time = time;
            int n = m.length;
            this.current = ThreadLocal.withInitial(() -> new long[n]);
        }

        private long cost(Member mm) {
            long conns = mm.inFlight();
            if (!time) {
                return conns;
            }
            long rt = mm.responseTimeMs;
            if (rt > 5000) {
                rt = 5000;
            } else {
                rt += 20 - rt % 20;
            }
            return rt * (1 + conns);
        }

        @Override
        public Member pick(PickRequest req, boolean slowStart) {
            int n = m.length;
            if (n == 0) {
                return null;
            }
            long now = slowStart ? c.now() : 0; // eligibility reads the clock only if a ban matters
            int best = -1;
            long bestCost = 0;
            long bestWeight = 0;
            boolean many = false;
            for (int i = 0; i < n; i++) {
                Member mm = m[i];
                if (!Candidates.eligible(mm, req)) {
                    continue;
                }
                long cost = cost(mm);
                long wi = slowStart ? c.weightNow(mm, w[i], now) : w[i];
                if (best < 0 || cost * bestWeight < bestCost * wi) {
                    best = i;
                    bestCost = cost;
                    bestWeight = wi;
                    many = false;
                } else if (cost * bestWeight == bestCost * wi) {
                    many = true;
                }
            }
            if (best < 0) {
                return null;
            }
            if (many) {
                long[] cur = current.get();
                long total = 0;
                int first = best;
                long tieCost = bestCost;
                long tieWeight = bestWeight;
                for (int i = first; i < n; i++) {
                    Member mm = m[i];
                    if (!Candidates.eligible(mm, req)) {
                        continue;
                    }
                    long wi = slowStart ? c.weightNow(mm, w[i], now) : w[i];
                    if (cost(mm) * tieWeight != tieCost * wi) {
                        continue;
                    }
                    int eff = mm.effectiveWeight;
                    if (w[i] != mm.weight) {
                        eff = (int) ((long) eff * w[i] / Math.max(1, mm.weight));
                    }
                    cur[i] += eff;
                    total += eff;
                    mm.recoverEffectiveWeight();
                    if (i == first || cur[i] > cur[best]) {
                        best = i;
                    }
                }
                cur[best] -= total;
            }
            return m[best];
        }
    }
}
