package io.lbkit.benchmarks;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;
import io.lbkit.health.HealthMonitor;
import io.lbkit.health.OutlierDetection;

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

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The cost of passive health on the request path (target: at most 30 ns/op and 0 B/op with
 * {@code -prof gc}).
 *
 * <ul>
 *   <li>{@code recordSuccess} / {@code recordMixed}: one outcome through {@link HealthMonitor#onOutcome}
 *       (outlier detection's per-endpoint counters), called directly. {@code recordMixed} makes every
 *       16th outcome a 500, so the 5xx streak path runs but never reaches an ejection.</li>
 *   <li>{@code pickCompleteWithHealth} vs {@code pickCompleteWithout}: round robin {@code pick +
 *       complete(200)} on an upstream with the monitor installed as its outcome listener, and on an
 *       identical upstream without one. The difference is what lb-health adds per request.</li>
 * </ul>
 * The monitor is never started: no sweep thread competes with the measurement.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class HealthBenchmark {

    @Param({"3", "100"})
    public int endpoints;

    Upstream withHealth;
    Upstream without;
    HealthMonitor monitor;
    Endpoint[] all;

    @Setup(Level.Trial)
    public void setUp() {
        List<Endpoint> list = Fixtures.endpoints(endpoints, "mixed");
        withHealth = Upstream.builder("with-health").endpoints(list).build();
        without = Upstream.builder("without").endpoints(list).build();
        monitor = HealthMonitor.builder(withHealth).outlierDetection(OutlierDetection.envoyDefaults()).build();
        all = list.toArray(new Endpoint[0]);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        monitor.close();
    }

    /** Per-thread cursor over the endpoints. */
    @State(Scope.Thread)
    public static class Cursor {
        int i;
    }

    @Benchmark
    public int recordSuccess(Cursor c) {
        Endpoint e = all[c.i++ % all.length];
        monitor.onOutcome(e, Outcome.RESPONSE, 200, 1_000L, false);
        return c.i;
    }

    @Benchmark
    public int recordMixed(Cursor c) {
        int n = c.i++;
        Endpoint e = all[n % all.length];
        monitor.onOutcome(e, Outcome.RESPONSE, (n & 15) == 0 ? 500 : 200, 1_000L, false);
        return n;
    }

    @Benchmark
    public Endpoint pickCompleteWithHealth() {
        Selection s = withHealth.pick();
        s.complete(200, 1_000L);
        return s.endpoint();
    }

    @Benchmark
    public Endpoint pickCompleteWithout() {
        Selection s = without.pick();
        s.complete(200, 1_000L);
        return s.endpoint();
    }
}
