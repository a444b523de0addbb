package io.lbkit.benchmarks;

import io.lbkit.core.Endpoint;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Inputs shared by every benchmark, so lbkit and its peers see the same endpoints and keys.
 *
 * <p>Endpoint {@code i} (0-based) has id {@code 10.0.(i / 250).(i % 250 + 1):8080} and, with
 * {@linkplain #weight mixed weights}, weight {@code 1 + (i % 5)}: a realistic spread (1..5) that
 * keeps every weighted code path (alias tables, weighted walks, SWRR periods) honest. Keys are
 * drawn once per thread from a seeded generator and replayed from an array: the hot loop only
 * reads {@code keys[i++ & MASK]}.
 */
final class Fixtures {

    /** Keys per thread; a power of two so the index is a mask. */
    static final int KEYS = 1 << 12;
    static final int MASK = KEYS - 1;

    private Fixtures() {}

    /** The weight of endpoint {@code i}: {@code 1 + (i % 5)} when mixed, else 1. */
    static int weight(int i, String weights) {
        switch (weights) {
            case "mixed": return 1 + (i % 5);
            case "equal": return 1;
            default: throw new IllegalArgumentException("weights must be 'mixed' or 'equal', got '" + weights + "'");
        }
    }

    /** Host part of endpoint {@code i}: {@code 10.0.x.y}. */
    static String host(int i) {
        return String.format("10.0.%d.%d", i / 250, i % 250 + 1);
    }

    static List<Endpoint> endpoints(int n, String weights) {
        List<Endpoint> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Endpoint.parseBuilder(host(i) + ":8080").weight(weight(i, weights)).build());
        }
        return out;
    }

    /** Text keys such as {@code user-8374649281}: what a {@code hash $cookie_user} would see. */
    static String[] textKeys(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        String[] out = new String[KEYS];
        for (int i = 0; i < KEYS; i++) {
            out[i] = "user-" + (r.nextLong() & Long.MAX_VALUE) % 10_000_000_000L;
        }
        return out;
    }

    static byte[][] utf8(String[] keys) {
        byte[][] out = new byte[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            out[i] = keys[i].getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }

    /** Uniform 64-bit keys (jump and Guava's consistentHash take a long). */
    static long[] longKeys(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] out = new long[KEYS];
        for (int i = 0; i < KEYS; i++) {
            out[i] = r.nextLong();
        }
        return out;
    }

    /** Random IPv4 client addresses for ip-hash. */
    static byte[][] ipv4(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[][] out = new byte[KEYS][4];
        for (int i = 0; i < KEYS; i++) {
            int a = r.nextInt();
            out[i][0] = (byte) (a >>> 24);
            out[i][1] = (byte) (a >>> 16);
            out[i][2] = (byte) (a >>> 8);
            out[i][3] = (byte) a;
        }
        return out;
    }
}
