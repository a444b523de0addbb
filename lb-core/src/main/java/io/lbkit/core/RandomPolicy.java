package io.lbkit.core;

/**
 * nginx {@code random} and {@code random two least_conn}. Weighted random draws use Vose's alias
 * table (O(1); nginx binary-searches cumulative ranges, same distribution). A drawn peer that
 * cannot serve is redrawn, up to 20 draws, then round robin. {@code two}: draws until it has two
 * distinct eligible peers and keeps the one with fewer in flight per weight
 * ({@code a.conns·b.weight > b.conns·a.weight} keeps b). While slow start ramps a peer, draws
 * use the ramped weights (O(n)).
 */
final class RandomPolicy extends BalancingPolicy {

    static final int MAX_DRAWS = 20;

    private final Rng rng;
    private final boolean two;

    RandomPolicy(Rng rng, boolean two) {
        super(two ? "random-two" : "random");
        this.rng = rng;
        this.two = two;
    }

    @Override
    boolean readsInFlight() {
        return two;
    }

    @Override
    Picker newPicker(Candidates c) {
        return new RandomPicker(c, rng, two);
    }

    static final class RandomPicker implements Picker {
        private final Candidates c;
        private final Member[] m;
        private final int[] w;
        private final Rng rng;
        private final boolean two;
        private final AliasTable table;
        private final SwrrPicker fallback;

        RandomPicker(Candidates c, Rng rng, boolean two) {
            this.c = c;
            this.m = c.usableMembers;
            this.w = c.weights;
            this.rng = rng;
            this.two = two;
            this.table = new AliasTable(w);
            this.fallback = new SwrrPicker(c, false);
        }

        private int draw(boolean slowStart, long now) {
            if (slowStart) {
                return c.rampedDraw(rng, now);
            }
            return table.draw(rng);
        }

        @Override
        public Member pick(PickRequest req, boolean slowStart) {
            int n = m.length;
            if (n == 0) {
                return null;
            }
            long now = slowStart ? c.now() : 0;
            int prev = -1;
            for (int draws = 0; draws < MAX_DRAWS; draws++) {
                int i = draw(slowStart, now);
                Member mm = m[i];
                if (!Candidates.eligible(mm, req)) {
                    continue;
                }
                if (!two) {
                    return mm;
                }
                if (prev < 0) {
                    prev = i;
                    continue;
                }
                if (i == prev) {
                    continue;
                }
                Member p = m[prev];
                long wi = w[i];
                long wp = w[prev];
                return (long) mm.inFlight() * wp > (long) p.inFlight() * wi ? p : mm;
            }
            if (prev >= 0 && n == 1) {
                return m[prev];
            }
            return fallback.pick(req, slowStart);
        }
    }
}
