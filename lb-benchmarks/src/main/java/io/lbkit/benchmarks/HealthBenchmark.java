package io.lbkit.benchmarks;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.OutcomeListener;
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

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The cost of passive health on the request path (target: at most 30 ns/op and 0 B/op with
 * {@code -prof gc}).
 *
 * <ul>
 *   <li>{@code recordSuccess} / {@code recordMixed}: one outcome through {@link HealthMonitor}'s
 *       {@code onOutcome} as the upstream calls it, with the endpoint's attachment (the monitor's
 *       per-endpoint counters, so no lookup). {@code recordMixed} makes every 16th outcome a 500,
 *       so the 5xx streak path runs but never reaches an ejection. {@code recordSuccessById} is
 *       the five-argument call without the attachment (a lookup by endpoint id).</li>
 *   <li>{@code legacyRecordSuccess} / {@code legacyRecordMixed}: the recording path as it was
 *       before the packed counters and attachments ({@link LegacyRecorder}, a faithful copy: a map
 *       lookup by id, two {@code LongAdder}s, two streak counters), kept as the baseline of the
 *       same run.</li>
 *   <li>{@code pickCompleteWithHealth} vs {@code pickCompleteWithout}: round robin {@code pick +
 *       complete(200)} on an upstream with the monitor installed as its outcome listener, and on an
 *       identical upstream without one. The difference is what lb-health adds per request;
 *       {@code pickCompleteWithLegacyHealth} installs the legacy recorder instead.</li>
 * </ul>
 * The monitor is never started: no sweep thread competes with the measurement.
 *
 * <pre>
 * java -jar lb-benchmarks/target/benchmarks.jar HealthBenchmark -f 2 -wi 3 -i 5 -prof gc
 * </pre>
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
    Upstream withLegacy;
    Upstream without;
    HealthMonitor monitor;
    LegacyRecorder legacy;
    Endpoint[] all;
    /** The monitor's attachment of each endpoint, as lb-core hands it to the listener. */
    Object[] attachments;

    @Setup(Level.Trial)
    public void setUp() {
        List<Endpoint> list = Fixtures.endpoints(endpoints, "mixed");
        withHealth = Upstream.builder("with-health").endpoints(list).build();
        withLegacy = Upstream.builder("with-legacy").endpoints(list).build();
        without = Upstream.builder("without").endpoints(list).build();
        monitor = HealthMonitor.builder(withHealth).outlierDetection(OutlierDetection.envoyDefaults()).build();
        legacy = new LegacyRecorder(list, OutlierDetection.envoyDefaults());
        withLegacy.setOutcomeListener(legacy);
        all = list.toArray(new Endpoint[0]);
        attachments = new Object[all.length];
        for (int i = 0; i < all.length; i++) {
            attachments[i] = withHealth.attachment(all[i].id())
                    .orElseThrow(() -> new IllegalStateException("the monitor attached nothing"));
        }
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
        int k = c.i++ % all.length;
        monitor.onOutcome(all[k], attachments[k], Outcome.RESPONSE, 200, 1_000L, false);
        return k;
    }

    @Benchmark
    public int recordMixed(Cursor c) {
        int n = c.i++;
        int k = n % all.length;
        monitor.onOutcome(all[k], attachments[k], Outcome.RESPONSE, (n & 15) == 0 ? 500 : 200, 1_000L, false);
        return n;
    }

    @Benchmark
    public int recordSuccessById(Cursor c) {
        int k = c.i++ % all.length;
        monitor.onOutcome(all[k], Outcome.RESPONSE, 200, 1_000L, false);
        return k;
    }

    @Benchmark
    public int legacyRecordSuccess(Cursor c) {
        int k = c.i++ % all.length;
        legacy.onOutcome(all[k], Outcome.RESPONSE, 200, 1_000L, false);
        return k;
    }

    @Benchmark
    public int legacyRecordMixed(Cursor c) {
        int n = c.i++;
        int k = n % all.length;
        legacy.onOutcome(all[k], Outcome.RESPONSE, (n & 15) == 0 ? 500 : 200, 1_000L, false);
        return n;
    }

    @Benchmark
    public Endpoint pickCompleteWithHealth() {
        Selection s = withHealth.pick();
        s.complete(200, 1_000L);
        return s.endpoint();
    }

    @Benchmark
    public Endpoint pickCompleteWithLegacyHealth() {
        Selection s = withLegacy.pick();
        s.complete(200, 1_000L);
        return s.endpoint();
    }

    @Benchmark
    public Endpoint pickCompleteWithout() {
        Selection s = without.pick();
        s.complete(200, 1_000L);
        return s.endpoint();
    }

    /**
     * The outcome-recording path of lb-health before the packed counters (the baseline): an
     * immutable map from endpoint id to tracker, a {@code LongAdder} each for requests and
     * successes, and two streak counters. A streak reaching its threshold counts a detection
     * (the real monitor queues an ejection; the benchmark never gets there).
     */
    static final class LegacyRecorder implements OutcomeListener {
        private static final VarHandle C5XX;
        private static final VarHandle CGW;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                C5XX = l.findVarHandle(Tracker.class, "consecutive5xx", int.class);
                CGW = l.findVarHandle(Tracker.class, "consecutiveGateway", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        static final class Tracker {
            volatile int consecutive5xx;
            volatile int consecutiveGateway;
            final LongAdder total = new LongAdder();
            final LongAdder successes = new LongAdder();
        }

        private final OutlierDetection od;
        private final boolean odEnabled;
        private volatile Map<String, Tracker> trackers;
        final LongAdder detections = new LongAdder();

        LegacyRecorder(List<Endpoint> endpoints, OutlierDetection od) {
            this.od = od;
            this.odEnabled = od.enabled();
            Map<String, Tracker> m = new LinkedHashMap<>();
            for (Endpoint e : endpoints) {
                m.put(e.id(), new Tracker());
            }
            trackers = Map.copyOf(m);
        }

        @Override
        public void onOutcome(Endpoint endpoint, Outcome outcome, int status, long latencyNanos, boolean failure) {
            if (!odEnabled) {
                return;
            }
            Tracker t = trackers.get(endpoint.id());
            if (t == null) {
                return;
            }
            int code;
            switch (outcome) {
                case RESPONSE:
                    code = status;
                    break;
                case CANCELLED:
                    return;
                case TIMEOUT:
                    code = 504;
                    break;
                case INVALID_RESPONSE:
                    code = 502;
                    break;
                default:
                    code = 503;
                    break;
            }
            t.total.increment();
            if (code >= 500 && code <= 599) {
                if (code >= 502 && code <= 504) {
                    if ((int) CGW.getAndAdd(t, 1) + 1 == od.consecutiveGatewayFailure()) {
                        detections.increment();
                    }
                } else if (t.consecutiveGateway != 0) {
                    t.consecutiveGateway = 0;
                }
                if ((int) C5XX.getAndAdd(t, 1) + 1 == od.consecutive5xx()) {
                    detections.increment();
                }
            } else {
                t.successes.increment();
                if (t.consecutive5xx != 0) {
                    t.consecutive5xx = 0;
                }
                if (t.consecutiveGateway != 0) {
                    t.consecutiveGateway = 0;
                }
            }
        }
    }
}
