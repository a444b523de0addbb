package io.lbkit.core;

/**
 * nginx {@code hash $key} (without {@code consistent}), exactly. Cache::Memcached-compatible:
 * {@code h += (crc32([rehash] key) >> 16) & 0x7fff}, where {@code rehash} is omitted on the first
 * try and is then the decimal try count; the peer is found by walking weights from
 * {@code h % totalWeight}. 20 tries, then round robin. An empty or missing key means round robin.
 *
 * <p>Retries: nginx keeps {@code h}, the rehash number and the try count of a request between its
 * picks, so a retry resumes right after the step that chose the previous peer, and that step is
 * not a try. This picker keeps no per-request state; it walks again from the start and skips,
 * without counting it, the first step that lands on each peer this request already tried, which
 * gives nginx's sequence and count.
 */
final class HashPolicy extends BalancingPolicy {

    HashPolicy() {
        super("hash");
    }


    @Override
    Picker newPicker(Candidates c) {
        return new NginxHashPicker(c) {
            @Override
            public Member pick(PickRequest req, boolean slowStart) {
                int keyLen = req.keyLength();
                if (all.length < 2 || keyLen == 0) {
                    return fallback.pick(req, slowStart);
                }
                byte[] key = req.keyBytes();
                long hash = 0;
                for (int rehash = 0, tries = 0; ; rehash++) {
                    hash += rehash == 0 ? (req.keyCrc32() >>> 16) & 0x7fff : step(rehash, key, keyLen);
                    int p = walk(hash % totalWeight);
                    if (eligible(p, req)) {
                        return all[p];
                    }
                    if (req.triedCount() > 0 && req.wasTried(all[p]) && !landedBefore(p, rehash, key, keyLen)) {
                        // an earlier pick of this request: nginx resumes rehashing after it without
                        // counting it as a try
                        continue;
                    }
                    if (++tries > MAX_TRIES) {
                        return fallback.pick(req, slowStart);
                    }
                }
            }

            /** Whether one of the first {@code iterations} steps of the walk landed on peer p. */
            private boolean landedBefore(int p, int iterations, byte[] key, int keyLen) {
                long hash = 0;
                for (int rehash = 0; rehash < iterations; rehash++) {
                    hash += step(rehash, key, keyLen);
                    if (walk(hash % totalWeight) == p) {
                        return true;
                    }
                }
                return false;
            }
        };
    }

    /** {@code (crc32([rehash] key) >> 16) & 0x7fff}, the prefix omitted when {@code rehash} is 0. */
    static long step(int rehash, byte[] key, int keyLen) {
        int crc = Hashing.crcInit();
        if (rehash > 0) {
            crc = updateDecimal(crc, rehash);
        }
        crc = Hashing.crcUpdate(crc, key, 0, keyLen);
        return (Hashing.crcFinal(crc) >>> 16) & 0x7fff;
    }

    /** CRC of the decimal digits of {@code v} (v ≥ 1), without allocating. */
    static int updateDecimal(int crc, int v) {
        int div = 1;
        while (v / div >= 10) {
            div *= 10;
        }
        for (; div > 0; div /= 10) {
            crc = Hashing.crcUpdate(crc, '0' + (v / div) % 10);
        }
        return crc;
    }
}
