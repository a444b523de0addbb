package io.lbkit.core;

/**
 * Weighted rendezvous (highest random weight) hashing: for each endpoint,
 * {@code score = −weight / ln(u)} with {@code u = hash(key, endpoint)} uniform in (0, 1); the
 * highest eligible score wins. Shares are exactly proportional to weight, and removing an endpoint
 * moves only the keys it owned. O(n) per pick. With a balance factor, endpoints over their
 * bounded load are skipped.
 */
final class RendezvousPolicy extends BalancingPolicy {

    private final int balanceFactor;

    RendezvousPolicy(int balanceFactor) {
        super("rendezvous");
        this.balanceFactor = balanceFactor;
    }

    @Override
    boolean tracksTotalInFlight() {
        return balanceFactor > 0;
    }

    /** Uniform in (0, 1) from 53 bits of {@code h}. */
    static double unit(long h) {
        return ((h >>> 11) + 0.5) * 0x1.0p-53;
    }

    @Override
    Picker newPicker(Candidates c) {
        Member[] m = c.usableMembers;
        int[] w = c.weights;
        long[] seed = new long[m.length];
        for (int i = 0; i < m.length; i++) {
            seed[i] = Hashing.hash64(m[i].id);
        }
        BoundedLoad bounded = balanceFactor > 0 ? new BoundedLoad(balanceFactor, w) : null;
        SwrrPicker fallback = new SwrrPicker(c, false);
        return (req, slowStart) -> {
            if (m.length == 0) {
                return null;
            }
            if (!KeyHash.present(req)) {
                return fallback.pick(req, slowStart);
            }
            long key = KeyHash.of(req);
            int total = bounded == null ? 0 : c.upstream.totalInFlight();
            int best = -1;
            double bestScore = 0;
            for (int i = 0; i < m.length; i++) {
                Member mm = m[i];
                if (!Candidates.eligible(mm, req)
                        || (bounded != null && !bounded.hasRoom(i, mm.inFlight(), total))) {
                    continue;
                }
                double score = -w[i] / Math.log(unit(Hashing.fmix64(key ^ seed[i])));
                if (best < 0 || score > bestScore) {
                    best = i;
                    bestScore = score;
                }
            }
            return best < 0 ? null : m[best];
        };
    }
}
