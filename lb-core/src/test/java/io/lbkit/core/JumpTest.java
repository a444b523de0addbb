package io.lbkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Jump consistent hash (Lamping &amp; Veach 2014, arXiv:1406.2294). */
class JumpTest {

    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
    private static final BigInteger MUL = new BigInteger("2862933555777941757");
    private static final BigInteger TWO_31 = BigInteger.ONE.shiftLeft(31);

    /**
     * The paper's C++, transcribed independently of {@link JumpPolicy#jump}:
     * <pre>
     * int32_t JumpConsistentHash(uint64_t key, int32_t num_buckets) {
     *   int64_t b = -1, j = 0;
     *   while (j &lt; num_buckets) {
     *     b = j;
     *     key = key * 2862933555777941757ULL + 1;
     *     j = (b + 1) * (double(1LL &lt;&lt; 31) / double((key &gt;&gt; 33) + 1));
     *   }
     *   return b;
     * }
     * </pre>
     * The key is a uint64 (BigInteger mod 2^64, logical shift). The paper computes j in double
     * precision; here it is the exact quotient {@code floor((b+1)·2^31 / ((key>>33)+1))}. The two
     * agree for every bucket count below 2^21: the exact value has a fractional part that is 0 or at
     * least 1/((key>>33)+1), while the double's error is below (b+1)·2^-21/((key>>33)+1).
     */
    static int reference(long signedKey, int buckets) {
        BigInteger key = BigInteger.valueOf(signedKey).mod(TWO_64);
        long b = -1;
        long j = 0;
        while (j < buckets) {
            b = j;
            key = key.multiply(MUL).add(BigInteger.ONE).mod(TWO_64);
            BigInteger denom = key.shiftRight(33).add(BigInteger.ONE);
            j = BigInteger.valueOf(b + 1).multiply(TWO_31).divide(denom).longValueExact();
        }
        return (int) b;
    }

    /** Published vectors (Go, Python, Elixir and C ports of the paper's function agree on these). */
    @Test
    void knownValues() {
        long[][] v = {
                {1, 1, 0}, {42, 57, 43}, {0xDEAD10CCL, 1, 0}, {0xDEAD10CCL, 666, 361}, {256, 1024, 520},
                {0, 1, 0}, {3, 1, 0}, {0, 2, 0}, {4, 2, 1}, {7, 2, 0}, {1, 128, 55}, {129, 128, 120},
                {128, 100_000_000, 38_172_097}, {-1L /* 2^64-1 */, 128, 92}, {-42L /* 2^64-42 */, 57, 8},
        };
        for (long[] t : v) {
            assertEquals((int) t[2], JumpPolicy.jump(t[0], (int) t[1]), "jump(" + Long.toUnsignedString(t[0]) + ", " + t[1] + ")");
            assertEquals((int) t[2], reference(t[0], (int) t[1]), "reference(" + Long.toUnsignedString(t[0]) + ", " + t[1] + ")");
        }
    }

    @Test
    void matchesIndependentReferenceForManyKeysAndBucketCounts() {
        SplittableRandom rnd = new SplittableRandom(20140605);
        int[] bucketCounts = {1, 2, 3, 5, 7, 10, 16, 31, 100, 257, 1000, 4096, 65_537, 1_000_000};
        for (int n : bucketCounts) {
            for (int k = 0; k < 2_000; k++) {
                long key = switch (k % 4) {
                    case 0 -> rnd.nextLong();               // any 64-bit key, high bit set half the time
                    case 1 -> k;                             // small keys
                    case 2 -> Long.MIN_VALUE + k;            // keys near 2^63
                    default -> -1L - k;                      // keys near 2^64
                };
                assertEquals(reference(key, n), JumpPolicy.jump(key, n),
                        "key " + Long.toUnsignedString(key) + ", " + n + " buckets");
            }
        }
        // every bucket count from 1 to 300 for a few keys
        for (int n = 1; n <= 300; n++) {
            for (long key : new long[] {0, 1, 0xDEAD10CCL, Long.MAX_VALUE, Long.MIN_VALUE, -1L}) {
                assertEquals(reference(key, n), JumpPolicy.jump(key, n), "key " + Long.toUnsignedString(key) + ", n=" + n);
            }
        }
    }

    @Test
    void growingFromNToNPlusOneMovesExactlyTheKeysOfTheNewBucket() {
        int keys = 100_000;
        long[] k = new long[keys];
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < keys; i++) {
            k[i] = rnd.nextLong();
        }
        for (int n : new int[] {1, 2, 3, 9, 10, 63, 100, 999}) {
            int moved = 0;
            for (int i = 0; i < keys; i++) {
                int before = JumpPolicy.jump(k[i], n);
                int after = JumpPolicy.jump(k[i], n + 1);
                assertTrue(before >= 0 && before < n);
                if (before != after) {
                    assertEquals(n, after, "key " + k[i] + " moved between old buckets going from " + n + " to " + (n + 1));
                    moved++;
                } else {
                    assertTrue(after != n);
                }
            }
            // ≈ keys/(n+1) move; binomial sd ≤ sqrt(keys/(n+1)) ≤ 224, so 6 sd is a safe margin
            double expected = (double) keys / (n + 1);
            double sd = Math.sqrt(keys * (1.0 / (n + 1)) * (1 - 1.0 / (n + 1)));
            assertTrue(Math.abs(moved - expected) <= 6 * sd,
                    "n=" + n + ": " + moved + " keys moved, expected ≈ " + expected);
        }
    }

    /**
     * Adding an endpoint to a jump upstream (appended in configuration order) moves exactly the keys
     * whose jump bucket is the new last one, and only onto the new endpoint.
     */
    @Test
    void addingAnEndpointThroughUpstreamMovesKeysOnlyToIt() {
        Upstream u = Upstream.builder("u").policy(BalancingPolicy.jump())
                .endpoint(Endpoint.parse("a:1")).endpoint(Endpoint.parse("b:1")).endpoint(Endpoint.parse("c:1"))
                .endpoint(Endpoint.parse("d:1")).build();
        int keys = 100_000;
        PickRequest req = PickRequest.create();
        String[] before = new String[keys];
        String[] names = {"a:1", "b:1", "c:1", "d:1", "e:1"};
        for (int i = 0; i < keys; i++) {
            Selection s = u.pick(req.reset().hashKey((long) i * 7919));
            before[i] = s.endpoint().id();
            assertEquals(names[JumpPolicy.jump((long) i * 7919, 4)], before[i]); // numeric key is the paper's key
            s.complete(200, 0);
        }
        u.add(Endpoint.parse("e:1"));
        for (int i = 0; i < keys; i++) {
            Selection s = u.pick(req.reset().hashKey((long) i * 7919));
            String after = s.endpoint().id();
            s.complete(200, 0);
            if (!after.equals(before[i])) {
                assertEquals("e:1", after);
            }
            assertEquals(JumpPolicy.jump((long) i * 7919, 5) == 4, after.equals("e:1"));
        }
    }

    /**
     * Uniformity: chi-square over n buckets for 200k keys. For uniform buckets the statistic has
     * mean n−1 and sd sqrt(2(n−1)); we allow mean + 6 sd (a p-value far below 1e-6 for a correct
     * hash, and the inputs are fixed so the test is deterministic). Also each bucket within 6 binomial
     * sd of keys/n.
     */
    @Test
    void distributionIsUniform() {
        int keys = 200_000;
        SplittableRandom rnd = new SplittableRandom(7);
        long[] k = new long[keys];
        for (int i = 0; i < keys; i++) {
            k[i] = rnd.nextLong();
        }
        for (int n : new int[] {2, 5, 10, 37, 100, 1000}) {
            int[] c = new int[n];
            for (long key : k) {
                c[JumpPolicy.jump(key, n)]++;
            }
            double e = (double) keys / n;
            double chi = 0;
            double sd = Math.sqrt(keys * (1.0 / n) * (1 - 1.0 / n));
            for (int i = 0; i < n; i++) {
                chi += (c[i] - e) * (c[i] - e) / e;
                assertTrue(Math.abs(c[i] - e) <= 6 * sd, "n=" + n + " bucket " + i + ": " + c[i] + " vs " + e);
            }
            double df = n - 1;
            assertTrue(chi <= df + 6 * Math.sqrt(2 * df), "n=" + n + ": chi-square " + chi + " with " + df + " df");
        }
        // sequential keys too (the LCG step must spread them)
        int n = 10;
        int[] c = new int[n];
        for (int i = 0; i < keys; i++) {
            c[JumpPolicy.jump(i, n)]++;
        }
        double e = (double) keys / n;
        double chi = 0;
        for (int x : c) {
            chi += (x - e) * (x - e) / e;
        }
        assertTrue(chi <= 9 + 6 * Math.sqrt(18), "sequential keys: chi-square " + chi);
    }
}
