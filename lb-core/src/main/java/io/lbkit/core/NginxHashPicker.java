package io.lbkit.core;

/**
 * Shared parts of nginx's {@code ip_hash} and {@code hash} pickers: the weighted walk over every
 * configured peer (down ones included, so that keys do not move when a peer is marked down), the
 * eligibility test, at most 20 re-hashes, then round robin.
 */
abstract class NginxHashPicker implements Picker {

    static final int MAX_TRIES = 20;

    final Candidates c;
    final Member[] all;
    final boolean[] usable;
    final int[] weight;
    final long totalWeight;
    final long[] cumulative;   // cumulative[p] = weight[0] + … + weight[p]
    final SwrrPicker fallback;

    NginxHashPicker(Candidates c) {
        this.c = c;
        this.all = c.all;
        this.usable = c.usable;
        this.weight = new int[all.length];
        long t = 0;
        for (int i = 0; i < all.length; i++) {
            weight[i] = all[i].weight;
            t += weight[i];
        }
        this.totalWeight = t;
        this.cumulative = new long[all.length];
        long sum = 0;
        for (int i = 0; i < all.length; i++) {
            sum += weight[i];
            cumulative[i] = sum;
        }
        this.fallback = new SwrrPicker(c, false);
    }

    /**
     * Index of the peer that weighted point {@code w} (in [0, totalWeight)) falls on: nginx walks
     * the peers subtracting weights ({@code while (w >= peer->weight)}); the first peer whose
     * cumulative weight exceeds {@code w} is the same peer, found here by binary search.
     */
    final int walk(long w) {
        int lo = 0;
        int hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] > w) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    final boolean eligible(int p, PickRequest req) {
        return usable[p] && Candidates.eligible(all[p], req);
    }
}
