package io.lbkit.core;

/**
 * Power of k choices: draw k distinct eligible candidates at random, with probability proportional
 * to weight (uniformly when weights are equal), and keep the one with the highest {@link #score};
 * ties keep the first drawn, so with no load the shares follow the weights. When k is at least the
 * number of candidates, all of them are compared (ties broken at random by weight). Used by
 * least-request and peak-ewma.
 */
abstract class TwoChoicePicker implements Picker {

    /** Draws of ineligible candidates before giving up (then round robin). */
    static final int MAX_DRAWS = 20;
    /** Bound on all draws, repeats included. */
    static final int MAX_TOTAL_DRAWS = 128;

    final Candidates c;
    final Member[] m;
    final int[] w;
    private final Rng rng;
    private final int choices;
    private final SwrrPicker fallback;
    private final AliasTable table;

    TwoChoicePicker(Candidates c, Rng rng, int choices) {
        this.c = c;
        this.m = c.usableMembers;
        this.w = c.weights;
        this.rng = rng;
        this.choices = choices;
        this.fallback = new SwrrPicker(c, false);
        this.table = new AliasTable(w);
    }

    /** Higher is better. */
    abstract double score(int i, long now, boolean slowStart);

    @Override
    public Member pick(PickRequest req, boolean slowStart) {
        int n = m.length;
        if (n == 0) {
            return null;
        }
        long now = slowStart || needsTime() ? c.now() : 0;
        if (choices >= n) {
            return scanAll(req, now, slowStart);
        }
        int best = -1;
        double bestScore = 0;
        int taken = 0;
        int misses = 0;
        // remember up to 9 drawn indexes to keep the choices distinct (the 10th is never compared)
        int d0 = -1, d1 = -1, d2 = -1, d3 = -1, d4 = -1, d5 = -1, d6 = -1, d7 = -1, d8 = -1;
        // A repeated index is not a miss: with choices close to n, rejection sampling needs more
        // than MAX_DRAWS draws on average to find distinct ones (k of n takes n·(H(n)−H(n−k))).
        // Repeats are bounded separately so the loop always ends.
        for (int draws = 0; taken < choices && misses < MAX_DRAWS && draws < MAX_TOTAL_DRAWS; draws++) {
            int i = slowStart ? c.rampedDraw(rng, now) : table.draw(rng);
            if (i == d0 || i == d1 || i == d2 || i == d3 || i == d4 || i == d5 || i == d6 || i == d7 || i == d8) {
                continue;
            }
            Member mm = m[i];
            if (!Candidates.eligible(mm, req)) {
                misses++;
                continue;
            }
            switch (taken) {
                case 0: d0 = i; break;
                case 1: d1 = i; break;
                case 2: d2 = i; break;
                case 3: d3 = i; break;
                case 4: d4 = i; break;
                case 5: d5 = i; break;
                case 6: d6 = i; break;
                case 7: d7 = i; break;
                case 8: d8 = i; break;
                default: break;
            }
            taken++;
            double s = score(i, now, slowStart);
            if (best < 0 || s > bestScore) {
                best = i;
                bestScore = s;
            }
        }
        if (best >= 0) {
            return m[best];
        }
        return fallback.pick(req, slowStart);
    }

    /**
     * choiceCount ≥ candidates: every candidate is one of the k distinct draws, so compare them all
     * (O(n), n ≤ 10). Ties are broken at random in proportion to weight, as weighted draws would.
     */
    private Member scanAll(PickRequest req, long now, boolean slowStart) {
        int n = m.length;
        int best = -1;
        double bestScore = 0;
        long ties = 0;
        for (int i = 0; i < n; i++) {
            Member mm = m[i];
            if (!Candidates.eligible(mm, req)) {
                continue;
            }
            double s = score(i, now, slowStart);
            if (best < 0 || s > bestScore) {
                best = i;
                bestScore = s;
                ties = w[i];
            } else if (s == bestScore) {
                ties += w[i];
                if (rng.nextDouble() * ties < w[i]) {
                    best = i;
                }
            }
        }
        return best < 0 ? null : m[best];
    }

    boolean needsTime() {
        return false;
    }
}
