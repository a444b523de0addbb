package io.lbkit.benchmarks;

import io.lbkit.core.BenchmarkAccess;

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
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32;

/**
 * Diagnostic: what the pieces of a pick cost on this machine, to explain {@link PickBenchmark}.
 * The hash functions are lb-core's own (through {@link BenchmarkAccess}); the counters and the
 * JDK calls are the ones lb-core makes: the two atomics of every pick + complete on an exact
 * in-flight counter (load-aware policies) or on a {@link LongAdder} (policies that never compare
 * in-flight counts), the clock read, the JDK CRC-32 that {@code PickRequest} caches per key, the
 * 8-byte-wide {@code hash64}, and the random draws. Nothing here is a balancer.
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

    static {
        try {
            IN_FLIGHT = MethodHandles.lookup().findVarHandle(BuildingBlocksBenchmark.class, "inFlight", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile int inFlight;
    final LongAdder striped = new LongAdder();
    byte[][] keys;
    int next;
    final CRC32 crc = new CRC32();

    @Setup(Level.Trial)
    public void setUp() {
        keys = Fixtures.utf8(Fixtures.textKeys(0x5EED));
    }

    /** Member.acquire + Member.release on the exact counter: the two atomics of every pick + complete. */
    @Benchmark
    public int inFlightIncrementDecrement() {
        IN_FLIGHT.getAndAdd(this, 1);
        return (int) IN_FLIGHT.getAndAdd(this, -1);
    }

    /** The same on the striped counter (LongAdder): uncontended, each is a CAS on its base. */
    @Benchmark
    public LongAdder longAdderIncrementDecrement() {
        LongAdder a = striped;
        a.increment();
        a.decrement();
        return a;
    }

    /** Ticker.system(): read by peak-ewma, least-time's completion, slow start, and bans with failures. */
    @Benchmark
    public long systemNanoTime() {
        return System.nanoTime();
    }

    /** lb-core Hashing.hash64 (8 bytes per step, then fmix64): maglev, jump (byte keys), rendezvous. */
    @Benchmark
    public long lbkitHash64() {
        byte[] k = keys[next++ & Fixtures.MASK];
        return BenchmarkAccess.hash64(k, 0, k.length);
    }

    /** lb-core Hashing.crc32, byte by byte from a table (ring points, hash's rehash steps). */
    @Benchmark
    public long lbkitCrc32Table() {
        byte[] k = keys[next++ & Fixtures.MASK];
        return BenchmarkAccess.crc32(k, 0, k.length);
    }

    /** java.util.zip.CRC32 (intrinsic), as PickRequest.keyCrc32 computes it once per key (hash, consistent-hash). */
    @Benchmark
    public long crc32Jdk() {
        byte[] k = keys[next++ & Fixtures.MASK];
        CRC32 c = crc;
        c.reset();
        c.update(k, 0, k.length);
        return c.getValue();
    }

    /** ThreadLocalRandom.nextInt(bound) for a non-power-of-two bound (least-request, random-two draws). */
    @Benchmark
    public int tlrNextInt() {
        return ThreadLocalRandom.current().nextInt(1000);
    }

    /** ThreadLocalRandom.nextLong(): the one draw of an alias-table pick (random). */
    @Benchmark
    public long tlrNextLong() {
        return ThreadLocalRandom.current().nextLong();
    }
}
