package io.lbkit.benchmarks;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * Diagnostic: what the pieces of a pick cost on this machine, to explain {@link PickBenchmark}.
 * Each benchmark re-implements one step the way lb-core does it (lb-core's helpers are package
 * private): the two atomic in-flight updates of every pick + complete, the clock read of the
 * nginx-style pickers, the byte-at-a-time FNV-1a and table CRC-32 over the same text keys, and the
 * bounded random draw. Nothing here is a balancer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class BuildingBlocksBenchmark {

    private static final VarHandle IN_FLIGHT;
    private static final int[] CRC_TABLE = new int[256];

    static {
        try {
            IN_FLIGHT = MethodHandles.lookup().findVarHandle(BuildingBlocksBenchmark.class, "inFlight", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        for (int n = 0; n < 256; n++) {
            int c = n;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
            }
            CRC_TABLE[n] = c;
        }
    }

    volatile int inFlight;
    byte[][] keys;
    int next;
    final CRC32 crc = new CRC32();

    @Setup(Level.Trial)
    public void setUp() {
        keys = Fixtures.utf8(Fixtures.textKeys(0x5EED));
    }

    /** Member.forceAcquire + Member.release: the two atomics of every pick + complete. */
    @Benchmark
    public int inFlightIncrementDecrement() {
        IN_FLIGHT.getAndAdd(this, 1);
        return (int) IN_FLIGHT.getAndAdd(this, -1);
    }

    /** Candidates.now() / Ticker.system(): one clock read per pick in hash, ip-hash, consistent-hash, least-conn. */
    @Benchmark
    public long systemNanoTime() {
        return System.nanoTime();
    }

    /** Hashing.hash64: FNV-1a one byte at a time, then fmix64 (maglev, jump, rendezvous byte keys). */
    @Benchmark
    public long fnv1aFmix64() {
        byte[] k = keys[next++ & Fixtures.MASK];
        long h = 0xcbf29ce484222325L;
        for (byte b : k) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        h ^= k.length;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** Hashing.crc32: table-driven CRC-32 one byte at a time (hash, consistent-hash). */
    @Benchmark
    public long crc32Table() {
        byte[] k = keys[next++ & Fixtures.MASK];
        int c = 0xFFFFFFFF;
        for (byte b : k) {
            c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >>> 8);
        }
        return (c ^ 0xFFFFFFFF) & 0xFFFFFFFFL;
    }

    /** The same CRC-32 (IEEE, identical to ngx_crc32_long) through the JDK's intrinsic. */
    @Benchmark
    public long crc32Jdk() {
        byte[] k = keys[next++ & Fixtures.MASK];
        CRC32 c = crc;
        c.reset();
        c.update(k, 0, k.length);
        return c.getValue();
    }

    /** Long.remainderUnsigned(h, 65537): maglev's slot. */
    @Benchmark
    public long remainderUnsigned() {
        return Long.remainderUnsigned(0x9E3779B97F4A7C15L * (next++), 65537);
    }

    /** ThreadLocalRandom.nextInt(bound) for a non-power-of-two bound (random, least-request draws). */
    @Benchmark
    public int tlrNextInt() {
        return ThreadLocalRandom.current().nextInt(1000);
    }
}
