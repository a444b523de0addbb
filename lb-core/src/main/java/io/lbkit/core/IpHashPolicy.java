package io.lbkit.core;

/**
 * nginx {@code ip_hash}, exactly: key = the first three octets of an IPv4 client address, all 16
 * bytes of an IPv6 one (three zero bytes when no address is known, nginx's pseudo address);
 * {@code h = 89}, then for each key byte {@code h = (h·113 + byte) % 6271}; the peer is found by
 * walking weights from {@code h % totalWeight}. When that peer cannot serve, the bytes are hashed
 * again from the current {@code h}; after 20 tries, round robin.
 */
final class IpHashPolicy extends BalancingPolicy {

    IpHashPolicy() {
        super("ip-hash");
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
                if (all.length < 2) {
                    return fallback.pick(req, slowStart);
                }
                byte[] addr = req.addressBytes();
                int len = req.addressLength() == 16 ? 16 : 3;
                boolean pseudo = req.addressLength() == 0;
                long now = c.now();
                int hash = 89;
                for (int tries = 0; ; ) {
                    for (int i = 0; i < len; i++) {
                        int b = pseudo ? 0 : addr[i] & 0xFF;
                        hash = (hash * 113 + b) % 6271;
                    }
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
}
