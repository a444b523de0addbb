package io.lbkit.core;

/**
 * Jump consistent hash (Lamping &amp; Veach 2014), the paper's loop exactly:
 * {@code b = -1; j = 0; while (j < n) { b = j; key = key·2862933555777941757 + 1;
 * j = (b + 1)·(2^31 / ((key >>> 33) + 1)) }}. The buckets are the endpoints in configuration order
 * (down ones included, so keys do not move when one is marked down); going from n to n+1 buckets
 * moves exactly the keys that land in the new last bucket. Jump ignores weights. A bucket that
 * cannot serve is replaced by re-jumping with a re-mixed key (at most 20 times, then round robin);
 * with a balance factor, by the next bucket that has room.
 */
final class JumpPolicy extends BalancingPolicy {

    private final int balanceFactor;

    JumpPolicy(int balanceFactor) {
        super("jump");
        this.balanceFactor = balanceFactor;
    }

    @Override
    boolean tracksTotalInFlight() {
        return balanceFactor > 0;
    }


    /** The paper's jump consistent hash. */
    static int jump(long key, int buckets) {
        long b = -1;
        long j = 0;
        while (j < buckets) {
            b = j;
            key = key * 2862933555777941757L + 1;
            j = (long) ((b + 1) * ((double) (1L << 31) / (double) ((key >>> 33) + 1)));
        }
        return (int) b;
    }

    @Override
    Picker newPicker(Candidates c) {
        Member[] all = c.all;
        boolean[] usable = c.usable;
        // Bounded-load slots are shared among the buckets that can serve (HAProxy counts only usable
        // servers in tot_weight): a down bucket that kept a share would leave the others fewer slots
        // in total than requests in flight, so none would have room and the pick would fall through
        // to round robin, ignoring the bound.
        int[] weights = new int[all.length];
        for (int i = 0; i < all.length; i++) {
            weights[i] = usable[i] ? 1 : 0;
        }
        BoundedLoad bounded = balanceFactor > 0 ? new BoundedLoad(balanceFactor, weights) : null;
        SwrrPicker fallback = new SwrrPicker(c, false);
        return (req, slowStart) -> {
            int n = all.length;
            if (n == 0 || !KeyHash.present(req)) {
                return n == 0 ? null : fallback.pick(req, slowStart);
            }
            long key = KeyHash.jumpKey(req);
            int b = jump(key, n);
            if (bounded != null) {
                int total = c.upstream.totalInFlight();
                for (int k = 0; k < n; k++) {
                    int i = (b + k) % n;
                    Member mm = all[i];
                    if (usable[i] && Candidates.eligible(mm, req) && bounded.hasRoom(i, mm.inFlight(), total)) {
                        return mm;
                    }
                }
                return fallback.pick(req, slowStart);
            }
            for (int tries = 0; tries <= NginxHashPicker.MAX_TRIES; tries++) {
                Member mm = all[b];
                if (usable[b] && Candidates.eligible(mm, req)) {
                    return mm;
                }
                key = Hashing.fmix64(key + tries + 1);
                b = jump(key, n);
            }
            return fallback.pick(req, slowStart);
        };
    }
}
