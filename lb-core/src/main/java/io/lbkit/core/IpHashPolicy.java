package io.lbkit.core;

/**
 * nginx {@code ip_hash}, exactly: key = the first three octets of an IPv4 client address, all 16
 * bytes of an IPv6 one (three zero bytes when no address is known, nginx's pseudo address);
 * {@code h = 89}, then for each key byte {@code h = (h·113 + byte) % 6271}; the peer is found by
 * walking weights from {@code h % totalWeight}. When that peer cannot serve, the bytes are hashed
 * again from the current {@code h}; after 20 tries, round robin.
 *
 * <p>Retries: nginx keeps {@code h} and the try count of a request between its picks, so a retry
 * resumes hashing right after the step that chose the previous peer, and that step is not a try.
 * This picker keeps no per-request state; it walks again from the start and skips, without
 * counting it, the first step that lands on each peer this request already tried, which gives
 * nginx's sequence and count.
 */
final class IpHashPolicy extends BalancingPolicy {

    IpHashPolicy() {
        super("ip-hash");
    }


    @Override
    Picker newPicker(Candidates c) {
        return new NginxHashPicker(c) {
            @Override
            public Member pick(PickRequest req, boolean slowStart) {
                if (all.length < 2) {
                    return fallback.pick(req, slowStart);
                }
                byte[] addr = req.addressBytes();
                int len = req.addressLength() == 16 ? 16 : 3;
                boolean pseudo = req.addressLength() == 0;
                int hash = 89;
                for (int tries = 0, iteration = 0; ; iteration++) {
                    hash = step(hash, addr, len, pseudo);
                    int p = walk(hash % totalWeight);
                    if (eligible(p, req)) {
                        return all[p];
                    }
                    if (req.triedCount() > 0 && req.wasTried(all[p])
                            && !landedBefore(p, iteration, addr, len, pseudo)) {
                        // an earlier pick of this request: nginx resumes hashing after it without
                        // counting it as a try
                        continue;
                    }
                    if (++tries > MAX_TRIES) {
                        return fallback.pick(req, slowStart);
                    }
                }
            }

            /** Whether one of the first {@code iterations} steps of the walk landed on peer p. */
            private boolean landedBefore(int p, int iterations, byte[] addr, int len, boolean pseudo) {
                int hash = 89;
                for (int i = 0; i < iterations; i++) {
                    hash = step(hash, addr, len, pseudo);
                    if (walk(hash % totalWeight) == p) {
                        return true;
                    }
                }
                return false;
            }
        };
    }

    /** One round of nginx's address hash: {@code h = (h·113 + byte) % 6271} over the key bytes. */
    static int step(int hash, byte[] addr, int len, boolean pseudo) {
        for (int i = 0; i < len; i++) {
            int b = pseudo ? 0 : addr[i] & 0xFF;
            hash = (hash * 113 + b) % 6271;
        }
        return hash;
    }
}
