package io.lbkit.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * nginx {@code hash $key consistent}, exactly: ketama as in Cache::Memcached::Fast with 160
 * points per weight unit. For a peer named {@code host:port} (split at the last colon when only
 * digits follow it, as nginx does, so {@code [::1]} is all host; no port part for {@code unix:}
 * names), point j is {@code crc32(host "\0" port prev)} where {@code prev}
 * is point j−1's hash as four little-endian bytes (zero for the first point). Points are sorted and
 * duplicate hashes dropped. A key goes to the first point ≥ {@code crc32(key)}, wrapping; if that
 * peer cannot serve, the next point; after 20 tries, round robin. Empty key: round robin.
 *
 * <p>With a balance factor (HAProxy bounded loads), a peer over its share of in-flight requests
 * also counts as unable to serve, and the walk continues around the whole ring.
 */
final class KetamaPolicy extends BalancingPolicy {

    static final int POINTS_PER_WEIGHT = 160;

    private final int balanceFactor;

    KetamaPolicy(int balanceFactor) {
        super("consistent-hash");
        this.balanceFactor = balanceFactor;
    }

    @Override
    boolean tracksTotalInFlight() {
        return balanceFactor > 0;
    }


    @Override
    Picker newPicker(Candidates c) {
        return new KetamaPicker(c, balanceFactor);
    }

    static final class KetamaPicker extends NginxHashPicker {
        final int[] hashes;    // sorted point hashes, stored with the sign bit flipped (signed order = unsigned order)
        final int[] owner;     // member index of each point
        final int[] bucket;    // bucket[b] = first point whose hash's top 16 bits are ≥ b (65537 entries)
        final BoundedLoad bounded;

        KetamaPicker(Candidates c, int balanceFactor) {
            super(c);
            int total = 0;
            for (Member mm : all) {
                total += mm.weight * POINTS_PER_WEIGHT;
            }
            long[] packed = new long[total];
            int k = 0;
            for (int i = 0; i < all.length; i++) {
                for (long h : points(all[i].id, all[i].weight)) {
                    packed[k++] = (h << 20) | i; // sort by hash, then by configuration order
                }
            }
            if (all.length >= (1 << 20)) {
                throw new IllegalArgumentException("consistent-hash supports at most 1048575 endpoints");
            }
            Arrays.sort(packed);
            long[] hs = new long[total];
            int[] ow = new int[total];
            int count = 0;
            for (int j = 0; j < total; j++) {
                long h = packed[j] >>> 20;
                if (count > 0 && hs[count - 1] == h) {
                    continue;
                }
                hs[count] = h;
                ow[count] = (int) (packed[j] & 0xFFFFF);
                count++;
            }
            this.hashes = new int[count];
            for (int j = 0; j < count; j++) {
                hashes[j] = (int) hs[j] ^ Integer.MIN_VALUE;
            }
            this.owner = Arrays.copyOf(ow, count);
            this.bucket = new int[65537];
            for (int b = 0, j = 0; b <= 65536; b++) {
                while (j < count && (hs[j] >>> 16) < b) {
                    j++;
                }
                bucket[b] = j;
            }
            // Slots are shared by the endpoints that can serve (HAProxy counts only usable servers in
            // tot_weight); a down endpoint keeping a share would leave too few slots for the rest.
            int[] usableWeight = new int[all.length];
            for (int i = 0; i < all.length; i++) {
                usableWeight[i] = usable[i] ? weight[i] : 0;
            }
            this.bounded = balanceFactor > 0 ? new BoundedLoad(balanceFactor, usableWeight) : null;
        }

        /** The ketama points of one peer, in generation order. */
        static long[] points(String name, int weight) {
            byte[] host;
            byte[] port;
            if (name.length() >= 5 && name.regionMatches(true, 0, "unix:", 0, 5)) {
                host = name.substring(5).getBytes(StandardCharsets.UTF_8);
                port = null;
            } else {
                int colon = portColon(name);
                if (colon >= 0) {
                    host = name.substring(0, colon).getBytes(StandardCharsets.UTF_8);
                    port = name.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
                } else {
                    host = name.getBytes(StandardCharsets.UTF_8);
                    port = null;
                }
            }
            int base = Hashing.crcUpdate(Hashing.crcInit(), host, 0, host.length);
            base = Hashing.crcUpdate(base, 0);
            if (port != null) {
                base = Hashing.crcUpdate(base, port, 0, port.length);
            }
            int n = weight * POINTS_PER_WEIGHT;
            long[] out = new long[n];
            int prev = 0;
            for (int j = 0; j < n; j++) {
                long h = Hashing.crcFinal(Hashing.crcUpdateIntLE(base, prev));
                out[j] = h;
                prev = (int) h;
            }
            return out;
        }

        /**
         * Where nginx splits a server name into host and port: at the last colon, but only when
         * nothing but digits follows it ({@code "[::1]"} and {@code "[2001:db8::1]"} are all host);
         * -1 when the name has no port part.
         */
        static int portColon(String name) {
            for (int j = name.length() - 1; j >= 0; j--) {
                char ch = name.charAt(j);
                if (ch == ':') {
                    return j;
                }
                if (ch < '0' || ch > '9') {
                    return -1;
                }
            }
            return -1;
        }

        /**
         * Index of the first point with hash ≥ {@code h} (nginx find_chash_point), or the number of
         * points when there is none (the walk then wraps). A 65536-entry index by the top 16 bits
         * narrows the binary search to the few points that share them.
         */
        int findPoint(long h) {
            int b = (int) (h >>> 16);
            int lo = bucket[b];
            int hi = bucket[b + 1];
            int key = (int) h ^ Integer.MIN_VALUE;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (key > hashes[mid]) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        @Override
        public Member pick(PickRequest req, boolean slowStart) {
            int keyLen = req.keyLength();
            if (all.length < 2 || keyLen == 0 || hashes.length == 0) {
                return fallback.pick(req, slowStart);
            }
            int point = findPoint(req.keyCrc32());
            int n = hashes.length;
            int limit = bounded == null ? MAX_TRIES : hashes.length;
            int totalInFlight = bounded == null ? 0 : c.upstream.totalInFlight();
            for (int tries = 0; ; ) {
                if (point >= n) {
                    point -= n;
                }
                int p = owner[point];
                if (eligible(p, req)
                        && (bounded == null || bounded.hasRoom(p, all[p].inFlight(), totalInFlight))) {
                    return all[p];
                }
                point++;
                if (++tries > limit) {
                    return fallback.pick(req, slowStart);
                }
            }
        }
    }
}
