package io.lbkit.core;

import java.util.concurrent.ThreadLocalRandom;

/** Random numbers for the random policies: thread-local by default, seeded for simulations. */
abstract class Rng {

    /** Uniform in [0, bound). */
    abstract int nextInt(int bound);

    /** Uniform in [0, 1). */
    abstract double nextDouble();

    /** 64 uniform bits. */
    abstract long nextLong();

    static Rng threadLocal() {
        return new Rng() {
            @Override int nextInt(int bound) { return ThreadLocalRandom.current().nextInt(bound); }
            @Override double nextDouble() { return ThreadLocalRandom.current().nextDouble(); }
            @Override long nextLong() { return ThreadLocalRandom.current().nextLong(); }
        };
    }

    /** SplitMix64 per thread, every thread starting from {@code seed}. */
    static Rng seeded(long seed) {
        ThreadLocal<long[]> state = ThreadLocal.withInitial(() -> new long[] {seed});
        return new Rng() {
            private long next() {
                long[] s = state.get();
                long z = (s[0] += 0x9E3779B97F4A7C15L);
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                return z ^ (z >>> 31);
            }

            @Override int nextInt(int bound) {
                return (int) (((next() >>> 33) * bound) >>> 31);
            }

            @Override double nextDouble() {
                return (next() >>> 11) * 0x1.0p-53;
            }

            @Override long nextLong() {
                return next();
            }
        };
    }
}
