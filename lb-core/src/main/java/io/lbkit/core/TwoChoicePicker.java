package io.lbkit.core;

/**
 * Power of k choices: draw k distinct eligible candidates uniformly at random and keep the one
 * with the highest {@link #score}; ties keep the first drawn. Used by least-request and peak-ewma.
 */
abstract class TwoChoicePicker implements Picker {

    static final int MAX_DRAWS = 20;

    final Candidates c;
    final Member[] m;
    final int[] w;
    private final Rng rng;
    private final int choices;
    private final SwrrPicker fallback;

    TwoChoicePicker(Candidates c, Rng rng, int choices) {
        this.c = c;
        this.m = c.usableMembers;
        this.w = c.weights;
        this.rng = rng;
        this.choices = choices;
        this.fallback = new SwrrPicker(c, false);
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
        int want = Math.min(choices, n);
        int best = -1;
        double bestScore = 0;
        int taken = 0;
        // remember up to 10 drawn indexes to keep the choices distinct
        int d0 = -1, d1 = -1, d2 = -1, d3 = -1, d4 = -1, d5 = -1, d6 = -1, d7 = -1, d8 = -1;
        for (int draws = 0; draws < MAX_DRAWS && taken < want; draws++) {
            int i = rng.nextInt(n);
            if (i == d0 || i == d1 || i == d2 || i == d3 || i == d4 || i == d5 || i == d6 || i == d7 || i == d8) {
                continue;
            }
            Member mm = m[i];
            if (!Candidates.eligible(mm, req)) {
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

    boolean needsTime() {
        return false;
    }
}
