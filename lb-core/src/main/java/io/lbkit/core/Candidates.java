package io.lbkit.core;

/**
 * What a policy builds its picker from: every member of one group (primaries or backups) in
 * configuration order, with whether each may take new requests in this snapshot. Hash policies
 * that follow nginx keep unusable members in their tables (so keys do not move when a server is
 * marked down) and skip them at pick time; other policies drop them.
 */
final class Candidates {
    final Upstream upstream;
    final Member[] all;
    final boolean[] usable;
    final Member[] usableMembers;
    final int[] weights;        // configured weight of each usable member, scaled by weightPercent
    final SlowStart slowStart;  // may be null

    Candidates(Upstream upstream, Member[] all, boolean[] usable, SlowStart slowStart) {
        this.upstream = upstream;
        this.all = all;
        this.usable = usable;
        int n = 0;
        for (boolean u : usable) {
            if (u) {
                n++;
            }
        }
        usableMembers = new Member[n];
        weights = new int[n];
        for (int i = 0, j = 0; i < all.length; i++) {
            if (usable[i]) {
                usableMembers[j] = all[i];
                weights[j] = scaledWeight(all[i]);
                j++;
            }
        }
        this.slowStart = slowStart;
    }

    static int scaledWeight(Member m) {
        int pct = m.weightPercent;
        if (pct == 100) {
            return m.weight;
        }
        return Math.max(1, (int) ((long) m.weight * pct / 100));
    }

    /**
     * Weight of {@code m} at time {@code now} in hundredths ({@link SlowStart#SCALE}), after slow
     * start; never below 1. Only compare it with other values of this method.
     */
    long weightNow(Member m, int weight, long now) {
        SlowStart ss = slowStart;
        if (ss == null) {
            return (long) weight * SlowStart.SCALE;
        }
        return ss.rampedWeight(weight, m.slowStartSince, now);
    }

    /** A usable member's index drawn in proportion to its slow-start ramped weight (O(n)). */
    int rampedDraw(Rng rng, long now) {
        int n = usableMembers.length;
        long total = 0;
        for (int i = 0; i < n; i++) {
            total += weightNow(usableMembers[i], weights[i], now);
        }
        long x = (long) (rng.nextDouble() * total);
        for (int i = 0; i < n; i++) {
            x -= weightNow(usableMembers[i], weights[i], now);
            if (x < 0) {
                return i;
            }
        }
        return n - 1;
    }

    long now() {
        return upstream.ticker.nanos();
    }

    /** Like {@link #eligible(Member, PickRequest, long)}, reading the clock only if it matters. */
    static boolean eligible(Member m, PickRequest req) {
        return !m.atConnectionCap() && !m.bannedNow() && (req.triedCount() == 0 || !req.wasTried(m));
    }

    /** Common eligibility: not tried by this request, not banned, not at its connection cap. */
    static boolean eligible(Member m, PickRequest req, long now) {
        return !m.banned(now) && !m.atConnectionCap() && (req.triedCount() == 0 || !req.wasTried(m));
    }
}
