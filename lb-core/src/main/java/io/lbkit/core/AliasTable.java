package io.lbkit.core;

/**
 * Vose's alias method: O(1) weighted random draws after an O(n) build. With equal weights it
 * degenerates to one uniform draw.
 */
final class AliasTable {
    private final boolean uniform;
    private final int n;
    private final long[] threshold; // prob scaled to [0, 2^32]
    private final int[] alias;

    AliasTable(int[] w) {
        int n = w.length;
        boolean u = true;
        for (int x : w) {
            u &= x == w[0];
        }
        this.uniform = u;
        this.n = n;
        double[] prob = new double[n];
        this.threshold = new long[n];
        this.alias = new int[n];
        if (u || n == 0) {
            return;
        }
        long total = 0;
        for (int x : w) {
            total += x;
        }
        double[] scaled = new double[n];
        int[] small = new int[n];
        int[] large = new int[n];
        int ns = 0;
        int nl = 0;
        for (int i = 0; i < n; i++) {
            scaled[i] = (double) w[i] * n / total;
            if (scaled[i] < 1.0) {
                small[ns++] = i;
            } else {
                large[nl++] = i;
            }
        }
        while (ns > 0 && nl > 0) {
            int s = small[--ns];
            int l = large[--nl];
            prob[s] = scaled[s];
            alias[s] = l;
            scaled[l] = scaled[l] + scaled[s] - 1.0;
            if (scaled[l] < 1.0) {
                small[ns++] = l;
            } else {
                large[nl++] = l;
            }
        }
        while (nl > 0) {
            prob[large[--nl]] = 1.0;
        }
        while (ns > 0) {
            prob[small[--ns]] = 1.0;
        }
        for (int i = 0; i < n; i++) {
            threshold[i] = prob[i] >= 1.0 ? 1L << 32 : (long) (prob[i] * 4294967296.0);
        }
    }

    boolean uniform() {
        return uniform;
    }

    /** An index drawn with probability proportional to its weight. */
    int draw(Rng rng) {
        long r = rng.nextLong();
        int i = (int) (((r >>> 32) * n) >>> 32);   // high bits pick the column
        if (uniform) {
            return i;
        }
        return (r & 0xFFFFFFFFL) < threshold[i] ? i : alias[i];   // low bits pick within it
    }
}
