package io.lbkit.core;

/**
 * nginx {@code hash $key} (without {@code consistent}), exactly. Cache::Memcached-compatible:
 * {@code h += (crc32([rehash] key) >> 16) & 0x7fff}, where {@code rehash} is omitted on the first
 * try and is then the decimal try count; the peer is found by walking weights from
 * {@code h % totalWeight}. 20 tries, then round robin. An empty or missing key means round robin.
 */
final class HashPolicy extends BalancingPolicy {

    HashPolicy() {
        super("hash");
    }

    @Override
    boolean keepsUnusableMembers() {
        return true;
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
                long now = c.now();
                long hash = 0;
                for (int rehash = 0, tries = 0; ; rehash++) {
                    int crc = Hashing.crcInit();
                    if (rehash > 0) {
                        crc = updateDecimal(crc, rehash);
                    }
                    crc = Hashing.crcUpdate(crc, key, 0, keyLen);
                    long h = (Hashing.crcFinal(crc) >>> 16) & 0x7fff;
                    hash += h;
                    int p = walk(hash % totalWeight);
                    if (eligible(p, req, now)) {
                        return all[p];
                    }
                    if (++tries > MAX_TRIES) {
                        return fallback.pick(req, slowStart);
                    }
                }
            }
        };
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
