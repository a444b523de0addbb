package io.lbkit.core;

/** The 64-bit request hash used by maglev, jump and rendezvous. */
final class KeyHash {
    private KeyHash() {}

    /** Whether the request has something to hash: a key, else a client address. */
    static boolean present(PickRequest req) {
        return req.keyIsLong() || req.keyLength() > 0 || req.addressLength() > 0; // keyIsLong first: keyLength() would write the decimal text
    }

    /**
     * A numeric key set with {@link PickRequest#hashKey(long)} is mixed with fmix64; a byte key is
     * hashed; without a key, the client address is hashed.
     */
    static long of(PickRequest req) {
        if (req.keyIsLong()) {
            return Hashing.fmix64(req.longKey());
        }
        if (req.keyLength() > 0) {
            return Hashing.hash64(req.keyBytes(), 0, req.keyLength());
        }
        return Hashing.hash64(req.addressBytes(), 0, req.addressLength());
    }

    /** The jump key: a numeric key as is (the paper's key), else the 64-bit hash. */
    static long jumpKey(PickRequest req) {
        return req.keyIsLong() ? req.longKey() : of(req);
    }
}
