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
        this.fallback = new SwrrPicker(c, false);
    }

    /** Index of the peer that weighted point {@code w} (in [0, totalWeight)) falls on. */
    final int walk(long w) {
        int p = 0;
        while (w >= weight[p]) {
            w -= weight[p];
            p++;
        }
        return p;
    }

    final boolean eligible(int p, PickRequest req, long now) {
        return usable[p] && Candidates.eligible(all[p], req, now);
    }
}
