package io.lbkit.core;

/**
 * Benchmarks only: public doors to lb-core's package-private building blocks, so that
 * {@code io.lbkit.benchmarks} can time the real functions rather than copies of them. This class
 * lives in lb-benchmarks, not in lb-core; it works because lb-core is not a named module, so the
 * same package in another jar shares package-private access on the class path of the uber-jar.
 * Each method only delegates (the JIT inlines it).
 */
public final class BenchmarkAccess {

    private BenchmarkAccess() {}

    /** {@code JumpPolicy.jump}: the paper's jump consistent hash, the loop {@code jump} picks with. */
    public static int jump(long key, int buckets) {
        return JumpPolicy.jump(key, buckets);
    }

    /** {@code Hashing.hash64}: the 64-bit key hash of maglev, jump (byte keys) and rendezvous. */
    public static long hash64(byte[] data, int off, int len) {
        return Hashing.hash64(data, off, len);
    }

    /** {@code Hashing.crc32}: lb-core's table CRC-32 (hash's rehash steps, ketama's ring points). */
    public static long crc32(byte[] data, int off, int len) {
        return Hashing.crc32(data, off, len);
    }
}
