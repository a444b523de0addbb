package io.lbkit.benchmarks;

import com.google.common.hash.Hashing;

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.BenchmarkAccess;
import io.lbkit.core.Endpoint;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * lbkit {@code jump} against Guava's {@code Hashing.consistentHash(long, int)}, which implements
 * the same algorithm (Lamping &amp; Veach), for the same 64-bit keys and bucket counts.
 *
 * <p>Function level, like for like (both return the bucket, nothing else):
 * <ul>
 *   <li>{@code lbkitJumpFunction}: lb-core's {@code JumpPolicy.jump(long, int)}, the loop the
 *       {@code jump} policy runs (reached through {@link BenchmarkAccess}).
 *   <li>{@code guavaJumpFunction}: {@code Hashing.consistentHash(long, int)}.
 *   <li>{@code lbkitJumpArray}: lbkit's function, then the endpoint from an array: the exact
 *       counterpart of {@code guavaConsistentHash} below (same shape, only the function differs).
 * </ul>
 *
 * <p>Full hot path against Guava's bare function plus the array read of the endpoint:
 * <ul>
 *   <li>{@code lbkitJump}: the real hot path with the numeric key API: {@code hashKey(long)},
 *       pick, complete, endpoint.
 *   <li>{@code guavaConsistentHash}: the bucket, then the endpoint from an array. Guava has no
 *       pool, no in-flight accounting and no completion: it is the bare algorithm.
 *   <li>{@code lbkitJumpByteKey}: the same with an 8-byte key through {@code hashKey(byte[])}
 *       (lbkit hashes the bytes first, so keys map to other buckets than Guava's).
 *   <li>{@code lbkitSetLongKeyOnly}: only {@code PickRequest.hashKey(long)}: what setting the
 *       numeric key costs on its own (diagnostic).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class JumpBenchmark {

    @Param({"3", "100", "1000"})
    public int endpoints;

    Upstream upstream;
    Endpoint[] array;
    final AtomicInteger threadIds = new AtomicInteger();

    @Setup(Level.Trial)
    public void setUp() {
        upstream = Upstream.builder("bench")
                .policy(BalancingPolicy.builder("jump").build())
                .endpoints(Fixtures.endpoints(endpoints, "mixed"))
                .build();
        array = upstream.endpoints().toArray(new Endpoint[0]);
        // Both functions must compute the same thing for the comparison to mean anything.
        long[] keys = Fixtures.longKeys(0x10AD);
        for (long k : keys) {
            int a = BenchmarkAccess.jump(k, endpoints);
            int b = Hashing.consistentHash(k, endpoints);
            if (a != b) {
                throw new IllegalStateException("jump(" + k + ", " + endpoints + ") = " + a + " but Guava says " + b);
            }
        }
    }

    @State(Scope.Thread)
    public static class Caller {
        PickRequest request;
        long[] keys;
        byte[][] keyBytes;
        int next;

        @Setup(Level.Trial)
        public void setUp(JumpBenchmark bench) {
            int id = bench.threadIds.getAndIncrement();
            request = PickRequest.create();
            keys = Fixtures.longKeys(0x10AD + id);
            keyBytes = new byte[keys.length][];
            for (int i = 0; i < keys.length; i++) {
                long k = keys[i];
                keyBytes[i] = new byte[] {(byte) (k >>> 56), (byte) (k >>> 48), (byte) (k >>> 40), (byte) (k >>> 32),
                        (byte) (k >>> 24), (byte) (k >>> 16), (byte) (k >>> 8), (byte) k};
            }
        }
    }

    @Benchmark
    public int lbkitJumpFunction(Caller c) {
        return BenchmarkAccess.jump(c.keys[c.next++ & Fixtures.MASK], endpoints);
    }

    @Benchmark
    public int guavaJumpFunction(Caller c) {
        return Hashing.consistentHash(c.keys[c.next++ & Fixtures.MASK], endpoints);
    }

    @Benchmark
    public Endpoint lbkitJumpArray(Caller c) {
        return array[BenchmarkAccess.jump(c.keys[c.next++ & Fixtures.MASK], array.length)];
    }

    @Benchmark
    public Endpoint lbkitJump(Caller c) {
        PickRequest req = c.request.hashKey(c.keys[c.next++ & Fixtures.MASK]);
        Selection s = upstream.pick(req);
        s.complete(200, 1000L);
        return s.endpoint();
    }

    @Benchmark
    public Endpoint lbkitJumpByteKey(Caller c) {
        PickRequest req = c.request.hashKey(c.keyBytes[c.next++ & Fixtures.MASK]);
        Selection s = upstream.pick(req);
        s.complete(200, 1000L);
        return s.endpoint();
    }

    @Benchmark
    public Endpoint guavaConsistentHash(Caller c) {
        return array[Hashing.consistentHash(c.keys[c.next++ & Fixtures.MASK], array.length)];
    }

    @Benchmark
    public PickRequest lbkitSetLongKeyOnly(Caller c) {
        return c.request.hashKey(c.keys[c.next++ & Fixtures.MASK]);
    }
}
