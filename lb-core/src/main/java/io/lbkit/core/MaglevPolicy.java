package io.lbkit.core;

/**
 * Maglev (Eisenbud et al. 2016, as in Envoy): a lookup table of prime size M (default 65537).
 * Each endpoint has {@code offset = h1(id) mod M} and {@code skip = h2(id) mod (M−1) + 1}; the
 * endpoints take turns claiming their next unclaimed slot of {@code (offset + j·skip) mod M}
 * until the table is full. With equal weights each owns ⌊M/N⌋ or ⌈M/N⌉ slots; an endpoint of
 * weight w takes a turn every {@code maxWeight / w} rounds (Envoy's weighted variant). A key goes
 * to slot {@code ((hash64(key) >>> 32) · M) >>> 32} (a uniform range reduction without division).
 * If that endpoint cannot serve (or, with a balance factor, is over its bounded load) the next slots are tried: at most 20, or the whole table with bounded
 * loads; then round robin. Built from the usable endpoints of a snapshot.
 */
final class MaglevPolicy extends BalancingPolicy {

    private final int tableSize;
    private final int balanceFactor;

    MaglevPolicy(int tableSize, int balanceFactor) {
        super("maglev");
        this.tableSize = tableSize;
        this.balanceFactor = balanceFactor;
    }

    @Override
    boolean tracksTotalInFlight() {
        return balanceFactor > 0;
    }

    @Override
    Picker newPicker(Candidates c) {
        return new MaglevPicker(c, tableSize, balanceFactor);
    }

    static final class MaglevPicker implements Picker {
        final Candidates c;
        final Member[] m;
        final int[] table;
        final int size;
        final BoundedLoad bounded;
        final SwrrPicker fallback;

        MaglevPicker(Candidates c, int size, int balanceFactor) {
            this.c = c;
            this.m = c.usableMembers;
            this.size = size;
            this.table = build(m, c.weights, size);
            this.bounded = balanceFactor > 0 ? new BoundedLoad(balanceFactor, c.weights) : null;
            this.fallback = new SwrrPicker(c, false);
        }

        static int[] build(Member[] m, int[] w, int size) {
            int n = m.length;
            int[] table = new int[size];
            java.util.Arrays.fill(table, -1);
            if (n == 0) {
                return table;
            }
            long[] offset = new long[n];
            long[] skip = new long[n];
            long[] next = new long[n];
            long[] target = new long[n];
            int maxW = 1;
            for (int i = 0; i < n; i++) {
                long h = Hashing.hash64(m[i].id);
                offset[i] = Long.remainderUnsigned(Hashing.fmix64(h ^ 0x5DEECE66DL), size);
                skip[i] = Long.remainderUnsigned(Hashing.fmix64(h + 0x9E3779B97F4A7C15L), size - 1) + 1;
                maxW = Math.max(maxW, w[i]);
            }
            int filled = 0;
            for (long round = 0; filled < size; round++) {
                for (int i = 0; i < n && filled < size; i++) {
                    if (round * w[i] < target[i]) {
                        continue;
                    }
                    target[i] += maxW;
                    int slot = (int) ((offset[i] + next[i] * skip[i]) % size);
                    while (table[slot] >= 0) {
                        next[i]++;
                        slot = (int) ((offset[i] + next[i] * skip[i]) % size);
                    }
                    table[slot] = i;
                    next[i]++;
                    filled++;
                }
            }
            return table;
        }

        /** The table slot of a 64-bit key hash: Lemire's range reduction of its high 32 bits. */
        int slot(long hash) {
            return (int) (((hash >>> 32) * size) >>> 32);
        }

        @Override
        public Member pick(PickRequest req, boolean slowStart) {
            if (m.length == 0) {
                return null;
            }
            if (!KeyHash.present(req)) {
                return fallback.pick(req, slowStart);
            }
            int slot = slot(KeyHash.of(req));
            int limit = bounded == null ? NginxHashPicker.MAX_TRIES : size;
            int total = bounded == null ? 0 : c.upstream.totalInFlight();
            for (int tries = 0; tries <= limit; tries++) {
                int i = table[slot];
                Member mm = m[i];
                if (Candidates.eligible(mm, req) && (bounded == null || bounded.hasRoom(i, mm.inFlight(), total))) {
                    return mm;
                }
                slot = slot + 1 == size ? 0 : slot + 1;
            }
            return fallback.pick(req, slowStart);
        }
    }
}
