package io.lbkit.benchmarks;

import io.lbkit.core.BalancingPolicy;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * lbkit's hot path, {@code pick + complete}, for every balancing policy.
 *
 * <p>One operation is what a proxy does per request: set the request's key (hash policies: a
 * UTF-8 key through {@link PickRequest#hashKey(byte[])}; ip-hash: an IPv4 client address), pick,
 * complete with a 200 after 1 µs, return the endpoint. The {@link PickRequest} is reused per
 * thread, as the API intends. Key-less policies reuse the request as is.
 *
 * <p>Weights are mixed ({@code 1 + i % 5}) for every policy. {@code jump} and {@code first}
 * ignore weights by definition, so the choice does not change what they do; {@code -p
 * weights=equal} runs the equal-weight variants (uniform random draws, SWRR period = n).
 *
 * <p>Run at 1 thread (the default here) and with {@code -t 2}: both threads share one upstream.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class PickBenchmark {

    static final int NO_KEY = 0;
    static final int BYTE_KEY = 1;
    static final int ADDRESS = 2;

    @Param({"round-robin", "least-conn", "ip-hash", "hash", "consistent-hash", "random", "random-two",
            "least-request", "peak-ewma", "least-time", "maglev", "jump", "rendezvous", "first"})
    public String policy;

    @Param({"3", "100", "1000"})
    public int endpoints;

    @Param({"mixed"})
    public String weights;

    Upstream upstream;
    int mode;
    final AtomicInteger threadIds = new AtomicInteger();

    @Setup(Level.Trial)
    public void setUp() {
        upstream = Upstream.builder("bench")
                .policy(BalancingPolicy.builder(policy).build())
                .endpoints(Fixtures.endpoints(endpoints, weights))
                .build();
        mode = keyMode(policy);
    }

    /** After the run every request has completed: nothing may be left in flight. */
    @TearDown(Level.Trial)
    public void checkNothingInFlight() {
        for (Upstream.EndpointStatus s : upstream.statuses()) {
            if (s.inFlight() != 0) {
                throw new IllegalStateException(s.endpoint().id() + " still has " + s.inFlight() + " in flight");
            }
        }
    }

    static int keyMode(String policy) {
        switch (policy) {
            case "hash":
            case "consistent-hash":
            case "maglev":
            case "jump":
            case "rendezvous":
                return BYTE_KEY;
            case "ip-hash":
                return ADDRESS;
            default:
                return NO_KEY;
        }
    }

    /** One caller thread: its reusable request and its own key sequence. */
    @State(Scope.Thread)
    public static class Caller {
        PickRequest request;
        byte[][] keys;
        byte[][] addresses;
        int next;

        @Setup(Level.Trial)
        public void setUp(PickBenchmark bench) {
            int id = bench.threadIds.getAndIncrement();
            request = PickRequest.create();
            keys = Fixtures.utf8(Fixtures.textKeys(0x5EED + id));
            addresses = Fixtures.ipv4(0xADD + id);
        }
    }

    @Benchmark
    public Endpoint pickComplete(Caller c) {
        PickRequest req = c.request;
        int mode = this.mode;
        if (mode == BYTE_KEY) {
            req.hashKey(c.keys[c.next++ & Fixtures.MASK]);
        } else if (mode == ADDRESS) {
            req.clientAddress(c.addresses[c.next++ & Fixtures.MASK]);
        }
        Selection s = upstream.pick(req);
        s.complete(200, 1000L);
        return s.endpoint();
    }
}
